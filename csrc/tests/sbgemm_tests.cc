// The bf16 GEMM (kernels/sbgemm.h) at the avx512_bf16 level against a plain loop written here:
// the same bf16 rounding of A and B (float_to_bf16, checked on its own against hand-worked
// values), products summed in double. Ragged M/N/K (odd K, K over one 256 block, N not a
// multiple of 32, M not a multiple of 12), rows of B gathered by offsets, a stride-1
// convolution read from its unpadded input (sbgemm_conv_rows), the weights as the right operand
// (sbgemm_packed_b), the fused epilogues, with and without the thread pool.
#include <cstring>

#include "core/simd_level.h"
#include "core/thread_pool.h"
#include "kernels/sbgemm.h"
#include "tests/harness.h"

using namespace xinrt;

namespace xinrt_test {
namespace {

float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

void check_rounding(Report& r, const std::string& lv) {
  struct Case {
    uint32_t in;
    uint16_t want;
    const char* what;
  } cases[] = {
      {0x3F800000u, 0x3F80, "1.0 exact"},
      {0x3F808000u, 0x3F80, "tie rounds to even (down)"},
      {0x3F818000u, 0x3F82, "tie rounds to even (up)"},
      {0x3F808001u, 0x3F81, "above the tie rounds up"},
      {0xBF807FFFu, 0xBF80, "below the tie rounds down, sign kept"},
      {0x7F7FFFFFu, 0x7F80, "largest float rounds to inf"},
      {0x00400000u, 0x0000, "denormal to zero"},
      {0x80400000u, 0x8000, "negative denormal to -0"},
      {0x7FC00001u, 0x7FC0, "NaN stays NaN"},
      {0x7F800001u, 0x7FC0, "signalling NaN is quieted"},
      {0xFF800000u, 0xFF80, "-inf"},
  };
  for (const Case& c : cases) {
    uint16_t got = float_to_bf16(from_bits(c.in));
    char detail[96];
    std::snprintf(detail, sizeof detail, "0x%08X -> 0x%04X (want 0x%04X)", c.in, got, c.want);
    r.record(got == c.want, lv, std::string("float_to_bf16 ") + c.what, detail);
  }
}

float bf16_round(float x) { return bf16_to_float(float_to_bf16(x)); }

struct Case {
  int64_t M, N, K;
  bool epilogue, pool;
};

void check_sbgemm(Report& r, int level, const std::string& lv, ThreadPool& pool) {
  const Case cases[] = {{1, 1, 1, false, false},    {12, 32, 2, false, false},  {13, 33, 3, true, false},
                        {40, 323, 27, true, true},   {64, 49, 576, true, true},  {130, 196, 64, false, true},
                        {7, 17, 513, true, false},   {300, 100, 300, true, true}};
  for (const Case& cs : cases) {
    std::vector<float> a = randn(cs.M * cs.K, 11, 0.5f), bias = randn(cs.M, 12), res = randn(cs.M * cs.N, 13);
    // B's rows live in a larger buffer at offsets in reverse order, two floats apart.
    const int64_t row_len = cs.N + 2;
    std::vector<float> big(row_len * cs.K + 16, -7.0f);
    std::vector<float> rows = randn(cs.N * cs.K, 14);
    std::vector<int64_t> offs(cs.K);
    for (int64_t k = 0; k < cs.K; ++k) {
      offs[k] = (cs.K - 1 - k) * row_len + 1;
      std::memcpy(big.data() + offs[k], rows.data() + k * cs.N, sizeof(float) * cs.N);
    }
    GemmEpilogue ep;
    ep.bias = bias.data();
    ep.residual = res.data();
    ep.relu = true;
    std::vector<float> c(cs.M * cs.N, 123.0f), want(cs.M * cs.N);
    double scale = 0.0;  // largest sum of |a||b| of an output: the size of fp32 rounding
    for (int64_t m = 0; m < cs.M; ++m)
      for (int64_t n = 0; n < cs.N; ++n) {
        double s = 0.0, mag = 0.0;
        for (int64_t k = 0; k < cs.K; ++k) {
          double p = static_cast<double>(bf16_round(a[m * cs.K + k])) * bf16_round(rows[k * cs.N + n]);
          s += p;
          mag += std::fabs(p);
        }
        if (cs.epilogue) s = std::max(0.0, s + bias[m] + res[m * cs.N + n]);
        want[m * cs.N + n] = static_cast<float>(s);
        scale = std::max(scale, mag);
      }
    std::shared_ptr<uint32_t> pa = pack_a_bf16(a.data(), cs.K, cs.M, cs.K);
    sbgemm_rows(cs.M, cs.N, cs.K, pa.get(), big.data(), offs.data(), c.data(), cs.N, cs.pool ? &pool : nullptr,
                level, cs.epilogue ? &ep : nullptr);
    double e = 0.0;
    std::string err = compare(c.data(), want.data(), c.size(), Tol{0.0, 1e-5 * std::max(1.0, scale)}, &e);
    r.record(err.empty(), lv,
             "sbgemm_rows M=" + std::to_string(cs.M) + " N=" + std::to_string(cs.N) + " K=" + std::to_string(cs.K) +
                 (cs.epilogue ? " bias+residual+relu" : "") + (cs.pool ? " pool" : ""),
             err.empty() ? fmt("max |err| %.3g", e) : err);
  }
}

// A stride-1 convolution (3x3 taps, dilation 1 or 2, asymmetric padding) from its unpadded
// input: sbgemm_conv_rows against a direct loop over the bf16-rounded input and weights.
void check_sbgemm_conv_rows(Report& r, int level, const std::string& lv, ThreadPool& pool) {
  struct Conv {
    int64_t M, C, H, W, dil, pad_top, pad_left, pad_bottom, pad_right;
  } convs[] = {{13, 5, 9, 11, 1, 1, 1, 1, 1}, {40, 3, 7, 7, 1, 0, 2, 2, 0}, {25, 9, 12, 37, 2, 2, 2, 2, 2}};
  for (const Conv& cv : convs) {
    const int64_t kh = 3, kw = 3, K = cv.C * kh * kw;
    const int64_t out_h = cv.H + cv.pad_top + cv.pad_bottom - cv.dil * (kh - 1);
    const int64_t out_w = cv.W + cv.pad_left + cv.pad_right - cv.dil * (kw - 1), N = out_h * out_w;
    std::vector<float> x = randn(cv.C * cv.H * cv.W, 31), w = randn(cv.M * K, 32, 0.3f), bias = randn(cv.M, 33);
    std::vector<int64_t> offs(K);
    std::vector<int32_t> dy(K), dx(K);
    for (int64_t k = 0; k < K; ++k) {
      offs[k] = (k / (kh * kw)) * cv.H * cv.W;
      dy[k] = static_cast<int32_t>(((k / kw) % kh) * cv.dil - cv.pad_top);
      dx[k] = static_cast<int32_t>((k % kw) * cv.dil - cv.pad_left);
    }
    std::vector<float> c(cv.M * N, 9.0f), want(cv.M * N);
    double scale = 0.0;
    for (int64_t m = 0; m < cv.M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = bias[m], mag = 0.0;
        for (int64_t k = 0; k < K; ++k) {
          int64_t ih = n / out_w + dy[k], iw = n % out_w + dx[k];
          if (ih < 0 || ih >= cv.H || iw < 0 || iw >= cv.W) continue;
          double p = static_cast<double>(bf16_round(w[m * K + k])) * bf16_round(x[offs[k] + ih * cv.W + iw]);
          s += p;
          mag += std::fabs(p);
        }
        want[m * N + n] = static_cast<float>(std::max(0.0, s));
        scale = std::max(scale, mag);
      }
    GemmEpilogue ep;
    ep.bias = bias.data();
    ep.relu = true;
    std::shared_ptr<uint32_t> pa = pack_a_bf16(w.data(), K, cv.M, K);
    sbgemm_conv_rows(cv.M, N, K, pa.get(), x.data(), offs.data(), dy.data(), dx.data(), out_w, cv.H, cv.W, c.data(),
                     N, &pool, level, &ep);
    double e = 0.0;
    std::string err = compare(c.data(), want.data(), c.size(), Tol{0.0, 1e-5 * std::max(1.0, scale)}, &e);
    r.record(err.empty(), lv,
             "sbgemm_conv_rows M=" + std::to_string(cv.M) + " C=" + std::to_string(cv.C) + " " +
                 std::to_string(cv.H) + "x" + std::to_string(cv.W) + " dilation " + std::to_string(cv.dil) +
                 " bias+relu",
             err.empty() ? fmt("max |err| %.3g", e) : err);
  }
}

// The weights as the right operand (MatMul): sbgemm_packed_b with a column bias.
void check_sbgemm_packed_b(Report& r, int level, const std::string& lv, ThreadPool& pool) {
  const int64_t shapes[][3] = {{1, 7, 5}, {13, 33, 70}, {40, 513, 33}, {130, 96, 64}};
  for (const auto& sh : shapes) {
    const int64_t M = sh[0], K = sh[1], N = sh[2], lda = K + 3;  // rows of A spaced out
    std::vector<float> a = randn(M * lda, 21), w = randn(K * N, 22, 0.3f), bias = randn(N, 23);
    std::vector<float> c(M * N, 55.0f), want(M * N);
    double scale = 0.0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = bias[n], mag = 0.0;
        for (int64_t k = 0; k < K; ++k) {
          double p = static_cast<double>(bf16_round(a[m * lda + k])) * bf16_round(w[k * N + n]);
          s += p;
          mag += std::fabs(p);
        }
        want[m * N + n] = static_cast<float>(s);
        scale = std::max(scale, mag);
      }
    std::shared_ptr<uint32_t> pw = pack_b_bf16(w.data(), N, K, N);
    sbgemm_packed_b(M, N, K, a.data(), lda, pw.get(), bias.data(), c.data(), N, M > 20 ? &pool : nullptr, level);
    double e = 0.0;
    std::string err = compare(c.data(), want.data(), c.size(), Tol{0.0, 1e-5 * std::max(1.0, scale)}, &e);
    r.record(err.empty(), lv,
             "sbgemm_packed_b M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
                 " column bias",
             err.empty() ? fmt("max |err| %.3g", e) : err);
  }
}

}  // namespace

void run_sbgemm_checks(Report& r, int level, const std::string& name) {
  if (level != kSimdAvx512Bf16) return;  // the bf16 GEMM runs at this level only
  check_rounding(r, name);
  ThreadPool pool(2);
  check_sbgemm(r, level, name, pool);
  check_sbgemm_conv_rows(r, level, name, pool);
  check_sbgemm_packed_b(r, level, name, pool);
}

}  // namespace xinrt_test
