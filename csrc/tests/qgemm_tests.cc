// qgemm() (kernels/qgemm.h) at each SIMD level against a plain triple loop written here: every
// output kind, signed and unsigned A and B, per-tensor and per-column zero points, odd M/N/K,
// B given plain or transposed, with and without the thread pool.
#include <algorithm>

#include "core/thread_pool.h"
#include "kernels/qgemm.h"
#include "tests/harness.h"

using namespace xinrt;

namespace xinrt_test {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<uint8_t> v(n);
  for (uint8_t& x : v) x = static_cast<uint8_t>(d(gen));
  return v;
}

int32_t value(const uint8_t* p, bool is_signed, int64_t i) {
  return is_signed ? static_cast<int32_t>(static_cast<int8_t>(p[i])) : static_cast<int32_t>(p[i]);
}

struct QCase {
  int64_t M, N, K;
  bool a_signed, b_signed, per_column, trans_b;
};

const char* kind_name(QGemmOutput::Kind k) {
  switch (k) {
    case QGemmOutput::kInt32: return "int32";
    case QGemmOutput::kFloat: return "float";
    case QGemmOutput::kUint8: return "uint8";
    default: return "int8";
  }
}

void check_case(Report& r, int level, const std::string& lv, const QCase& q, QGemmOutput::Kind kind, bool with_pool,
                bool accumulate, uint32_t seed, ThreadPool& pool) {
  const int64_t M = q.M, N = q.N, K = q.K, lda = K + 3, ldc = N + 2;
  std::vector<uint8_t> a = random_bytes(M * lda, seed), b = random_bytes(K * N, seed + 1);
  std::mt19937 gen(seed + 2);
  auto zp = [&](bool s) { return std::uniform_int_distribution<int>(s ? -128 : 0, s ? 127 : 255)(gen); };
  int32_t a_zero = zp(q.a_signed);
  std::vector<int32_t> b_zero(q.per_column ? N : 1);
  for (int32_t& z : b_zero) z = zp(q.b_signed);
  // b(k, n) as qpack_b reads it.
  auto bv = [&](int64_t k, int64_t n) { return value(b.data(), q.b_signed, q.trans_b ? n * K + k : k * N + n); };
  std::vector<int64_t> acc(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += static_cast<int64_t>(value(a.data(), q.a_signed, m * lda + k) - a_zero) * (bv(k, n) - b_zero[q.per_column ? n : 0]);
      acc[m * N + n] = s;
    }
  auto packed = qpack_b(b.data(), q.b_signed, K, N, q.trans_b ? K : N, q.trans_b, b_zero.data(),
                        static_cast<int64_t>(b_zero.size()), level);
  std::vector<float> scale = uniform(N, seed + 3, 0.0005f, 0.004f), fbias = randn(N, seed + 4);
  std::vector<int32_t> bias(N);
  for (int32_t& v : bias) v = std::uniform_int_distribution<int>(-5000, 5000)(gen);
  QGemmOutput out;
  out.kind = kind;
  out.ldc = ldc;
  out.scale = scale.data();
  out.scale_count = q.per_column ? N : 1;
  out.accumulate = accumulate;
  if (kind != QGemmOutput::kInt32) out.bias = bias.data();
  if (kind == QGemmOutput::kFloat) out.float_bias = fbias.data();
  out.out_zero = kind == QGemmOutput::kUint8 ? 128 : kind == QGemmOutput::kInt8 ? -3 : 0;
  std::vector<int32_t> ci(M * ldc, 7);
  std::vector<float> cf(M * ldc, 0.25f);
  std::vector<uint8_t> cq(M * ldc, 0xAB);
  out.c = kind == QGemmOutput::kInt32 ? static_cast<void*>(ci.data())
          : kind == QGemmOutput::kFloat ? static_cast<void*>(cf.data()) : static_cast<void*>(cq.data());
  qgemm(M, a.data(), q.a_signed, lda, a_zero, *packed, out, with_pool ? &pool : nullptr, level);
  // Compare, including that the padding columns (n >= N) are untouched.
  int64_t bad = 0, first = -1;
  double worst = 0.0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < ldc; ++n) {
      int64_t i = m * ldc + n;
      bool pad = n >= N;
      double err;
      if (kind == QGemmOutput::kInt32) {
        int64_t want = pad ? 7 : acc[m * N + n] + (accumulate ? 7 : 0);
        err = std::fabs(static_cast<double>(ci[i] - want));
      } else if (kind == QGemmOutput::kFloat) {
        double want = 0.25;
        if (!pad)
          want = static_cast<double>(static_cast<float>(acc[m * N + n] + bias[n]) * scale[q.per_column ? n : 0]) +
                 fbias[n] + (accumulate ? 0.25 : 0.0);
        err = std::fabs(cf[i] - want);
        if (!pad) err = std::max(0.0, err - 1e-5 * std::fabs(want));  // tolerance: 1e-5 relative
      } else {
        int32_t want = 0xAB;
        if (!pad) {
          float s = scale[q.per_column ? n : 0];
          int32_t v = round_half_even(static_cast<float>(acc[m * N + n] + bias[n]) * s) + out.out_zero;
          want = kind == QGemmOutput::kUint8 ? std::min(255, std::max(0, v)) : std::min(127, std::max(-128, v));
        }
        int32_t got = kind == QGemmOutput::kUint8 ? cq[i] : static_cast<int8_t>(cq[i]);
        if (pad) got = cq[i];
        err = std::fabs(static_cast<double>(got - want));
        // Requantization may differ by one step where a SIMD path rounds (acc + bias) * scale
        // in another float order; more is a bug.
        if (!pad) err = std::max(0.0, err - 1.0);
      }
      worst = std::max(worst, err);
      if (err > 0.0 && first < 0) first = i;
      bad += err > 0.0;
    }
  std::string name = std::string("qgemm ") + kind_name(kind) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
                     " K=" + std::to_string(K) + (q.a_signed ? " A=s8" : " A=u8") + (q.b_signed ? " B=s8" : " B=u8") +
                     (q.per_column ? " zp=per-column" : " zp=per-tensor") + (q.trans_b ? " B^T" : "") +
                     (with_pool ? " pool" : "") + (accumulate ? " accumulate" : "");
  std::string tol = kind == QGemmOutput::kInt32 ? "exact" : kind == QGemmOutput::kFloat ? "rtol 1e-5" : "<= 1 step";
  r.record(bad == 0, lv, name, bad == 0 ? "match (" + tol + ")" : std::to_string(bad) + " mismatches beyond " + tol +
                                   ", first at flat index " + std::to_string(first));
}

}  // namespace

void run_qgemm_checks(Report& r, int level, const std::string& name) {
  ThreadPool pool(2);
  const QCase cases[] = {
      {1, 1, 1, false, true, false, false},   {5, 7, 13, false, true, false, false},
      {7, 17, 33, true, true, true, false},   {13, 31, 67, false, false, true, true},
      {33, 65, 129, true, false, false, false}, {3, 100, 257, false, true, true, true},
  };
  uint32_t seed = 1000;
  for (const QCase& q : cases)
    for (QGemmOutput::Kind kind : {QGemmOutput::kInt32, QGemmOutput::kFloat, QGemmOutput::kUint8, QGemmOutput::kInt8}) {
      bool acc_ok = kind == QGemmOutput::kInt32 || kind == QGemmOutput::kFloat;
      check_case(r, level, name, q, kind, q.M > 4, false, seed, pool);
      if (acc_ok && q.M == 7) check_case(r, level, name, q, kind, true, true, seed + 7, pool);
      seed += 10;
    }
}

}  // namespace xinrt_test
