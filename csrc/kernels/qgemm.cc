#include "kernels/qgemm.h"

#include <algorithm>
#include <cstring>

namespace xinrt {

// Portable path: B kept as int16 columns-major panels is left to the SIMD files; the baseline
// stores B as int32 [N, K] (one row per output column) minus nothing: zero points are folded
// in at the end through the column sums.
std::shared_ptr<QPackedB> qpack_b(const void* b, bool b_signed, int64_t K, int64_t N, int64_t ldb,
                                  bool trans, const int32_t* zero, int64_t zero_count, int simd) {
  auto p = std::make_shared<QPackedB>();
  p->K = K;
  p->N = N;
  p->b_signed = b_signed;
  p->simd = simd;
  p->zero.resize(N);
  p->col_sum.assign(N, 0);
  for (int64_t n = 0; n < N; ++n) p->zero[n] = zero ? zero[zero_count == 1 ? 0 : n] : 0;
  std::shared_ptr<int32_t> panel(new int32_t[std::max<int64_t>(1, K * N)], std::default_delete<int32_t[]>());
  int32_t* dst = panel.get();
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k) {
      int64_t idx = trans ? n * ldb + k : k * ldb + n;
      int32_t v = b_signed ? static_cast<const int8_t*>(b)[idx] : static_cast<const uint8_t*>(b)[idx];
      dst[n * K + k] = v;
      p->col_sum[n] += v;
    }
  }
  p->panels = panel;
  p->panel_bytes = K * N * static_cast<int64_t>(sizeof(int32_t));
  return p;
}

namespace {

template <class T>
void store(const QGemmOutput& out, int64_t m, int64_t n, int32_t acc) {
  float scale = out.scale ? out.scale[out.scale_count == 1 ? 0 : n] : 1.0f;
  if (out.bias) acc += out.bias[n];
  int32_t q = round_half_even(static_cast<float>(acc) * scale) + out.out_zero;
  constexpr int32_t lo = std::is_signed<T>::value ? -128 : 0, hi = std::is_signed<T>::value ? 127 : 255;
  static_cast<T*>(out.c)[m * out.ldc + n] = static_cast<T>(std::min(hi, std::max(lo, q)));
}

void write(const QGemmOutput& out, int64_t m, int64_t n, int32_t acc) {
  switch (out.kind) {
    case QGemmOutput::kInt32: {
      int32_t* c = static_cast<int32_t*>(out.c) + m * out.ldc + n;
      *c = out.accumulate ? *c + acc : acc;
      break;
    }
    case QGemmOutput::kFloat: {
      float* c = static_cast<float*>(out.c) + m * out.ldc + n;
      float v = static_cast<float>(acc + (out.bias ? out.bias[n] : 0)) *
                (out.scale ? out.scale[out.scale_count == 1 ? 0 : n] : 1.0f);
      if (out.float_bias) v += out.float_bias[n];
      *c = out.accumulate ? *c + v : v;
      break;
    }
    case QGemmOutput::kUint8: store<uint8_t>(out, m, n, acc); break;
    case QGemmOutput::kInt8: store<int8_t>(out, m, n, acc); break;
  }
}

}  // namespace

void qgemm(int64_t M, const void* a, bool a_signed, int64_t lda, int32_t a_zero, const QPackedB& b,
           const QGemmOutput& out, ThreadPool* pool, int simd) {
  const int64_t K = b.K, N = b.N;
  const int32_t* panel = static_cast<const int32_t*>(b.panels.get());
  auto rows = [&](int64_t m0, int64_t m1) {
    std::vector<int32_t> row(K);
    for (int64_t m = m0; m < m1; ++m) {
      int32_t row_sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        int64_t idx = m * lda + k;
        row[k] = a_signed ? static_cast<const int8_t*>(a)[idx] : static_cast<const uint8_t*>(a)[idx];
        row_sum += row[k];
      }
      for (int64_t n = 0; n < N; ++n) {
        const int32_t* col = panel + n * K;
        int32_t dot = 0;
        for (int64_t k = 0; k < K; ++k) dot += row[k] * col[k];
        // sum (a - za)(b - zb) = dot - zb*sum(a) - za*sum(b) + K*za*zb
        int32_t acc = dot - b.zero[n] * row_sum - a_zero * b.col_sum[n] + static_cast<int32_t>(K) * a_zero * b.zero[n];
        write(out, m, n, acc);
      }
    }
  };
  if (pool && M > 1)
    pool->parallel_for(M, 1, rows);
  else
    rows(0, M);
}

}  // namespace xinrt
