// Winograd F(2x2, 3x3) convolution (kernels/conv_winograd.h) at each SIMD level against a direct
// convolution in double: edge tiles, asymmetric pads, channels past one K block, several tile
// blocks over two threads, bias/residual/Relu; and the GEMM on two pre-packed operands.
#include "kernels/conv_winograd.h"
#include "kernels/sgemm.h"
#include "tests/harness.h"

using namespace xinrt;

namespace xinrt_test {
namespace {

struct WinogradCase {
  int64_t N, C, M, H, W, pad_top, pad_left, pad_bottom, pad_right;
  bool bias, residual, relu;
};

void check_winograd_conv(Report& r, int level, const std::string& lv, ThreadPool& pool, const WinogradCase& k) {
  WindowGeometry g;
  g.spatial = 2;
  g.in_h = k.H;
  g.in_w = k.W;
  g.k_h = g.k_w = 3;
  g.pad_top = k.pad_top;
  g.pad_left = k.pad_left;
  g.pad_bottom = k.pad_bottom;
  g.pad_right = k.pad_right;
  g.out_h = k.H + k.pad_top + k.pad_bottom - 2;
  g.out_w = k.W + k.pad_left + k.pad_right - 2;
  const int64_t plane = g.out_h * g.out_w, out_n = k.N * k.M * plane;
  std::vector<float> x = randn(k.N * k.C * k.H * k.W, 41);
  std::vector<float> w = randn(k.M * k.C * 9, 42, 1.0f / std::sqrt(9.0f * k.C));
  std::vector<float> bias = randn(k.M, 43), res = randn(out_n, 44);
  auto packed = winograd_prepare(w.data(), k.M, k.C, level);
  std::vector<float> y(out_n, 1e30f);
  conv_winograd(*packed, x.data(), k.N, g, k.bias ? bias.data() : nullptr, k.residual ? res.data() : nullptr, k.relu,
                y.data(), pool, level);
  std::vector<float> want(out_n);
  for (int64_t n = 0; n < k.N; ++n)
    for (int64_t m = 0; m < k.M; ++m)
      for (int64_t oy = 0; oy < g.out_h; ++oy)
        for (int64_t ox = 0; ox < g.out_w; ++ox) {
          double s = 0.0;
          for (int64_t c = 0; c < k.C; ++c)
            for (int64_t i = 0; i < 3; ++i)
              for (int64_t j = 0; j < 3; ++j) {
                int64_t iy = oy - g.pad_top + i, ix = ox - g.pad_left + j;
                if (iy < 0 || iy >= k.H || ix < 0 || ix >= k.W) continue;
                s += static_cast<double>(x[((n * k.C + c) * k.H + iy) * k.W + ix]) * w[(m * k.C + c) * 9 + i * 3 + j];
              }
          int64_t at = (n * k.M + m) * plane + oy * g.out_w + ox;
          if (k.bias) s += bias[m];
          if (k.residual) s += res[at];
          want[at] = static_cast<float>(k.relu && s < 0.0 ? 0.0 : s);
        }
  double e;
  std::string err = compare(y.data(), want.data(), y.size(), kGemmTol, &e);
  char name[160];
  std::snprintf(name, sizeof name, "conv_winograd N=%lld C=%lld M=%lld %lldx%lld pads %lld,%lld,%lld,%lld%s%s%s",
                static_cast<long long>(k.N), static_cast<long long>(k.C), static_cast<long long>(k.M),
                static_cast<long long>(k.H), static_cast<long long>(k.W), static_cast<long long>(k.pad_top),
                static_cast<long long>(k.pad_left), static_cast<long long>(k.pad_bottom),
                static_cast<long long>(k.pad_right), k.bias ? " bias" : "", k.residual ? " residual" : "",
                k.relu ? " relu" : "");
  r.record(err.empty(), lv, name, err.empty() ? fmt("max |err| %.3g", e) : err);
}

void check_sgemm_packed_ab(Report& r, int level, const std::string& lv, ThreadPool& pool) {
  const int64_t M = 29, N = 70, K = 150;  // K past one KC block, N past two NR panels
  std::vector<float> a = randn(M * K, 51), b = randn(K * N, 52);
  auto pa = pack_a_new(a.data(), K, false, M, K, 1.0f, level);
  std::vector<float> pb(packed_b_size(K, N, level), 1e30f);
  pack_b_panels(b.data(), N, K, N, pb.data(), level);
  std::vector<float> c(M * N, 1e30f);
  sgemm_packed_ab(M, N, K, pa.get(), pb.data(), c.data(), N, &pool, level);
  std::vector<float> want(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0.0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a[m * K + k]) * b[k * N + n];
      want[m * N + n] = static_cast<float>(s);
    }
  double e;
  std::string err = compare(c.data(), want.data(), c.size(), kGemmTol, &e);
  r.record(err.empty(), lv, "sgemm_packed_ab M=29 N=70 K=150", err.empty() ? fmt("max |err| %.3g", e) : err);
}

}  // namespace

void run_winograd_checks(Report& r, int level, const std::string& name) {
  ThreadPool pool(2);
  check_sgemm_packed_ab(r, level, name, pool);
  for (const WinogradCase& k : {WinogradCase{1, 16, 16, 8, 8, 1, 1, 1, 1, true, false, false},
                                WinogradCase{2, 20, 33, 13, 11, 0, 2, 1, 0, false, true, true},
                                WinogradCase{1, 150, 40, 6, 5, 2, 2, 2, 2, true, true, false},
                                WinogradCase{1, 17, 24, 45, 38, 1, 1, 1, 1, true, false, true},
                                WinogradCase{1, 16, 16, 1, 1, 1, 1, 1, 1, true, false, false}})
    check_winograd_conv(r, level, name, pool, k);
}

}  // namespace xinrt_test
