// C++ kernel test harness: for every SIMD level this CPU offers, runs each kernel family and
// compares it with the portable baseline (which the Python tests check against onnx.reference)
// or with a plain reference computed here. No Python: it runs on an ARM board or under
// qemu-aarch64 as it does on the build machine.
//
//   kernel_tests [--expect-levels baseline,neon,neon_dot] [--only kernels|ops|qgemm|sbgemm]
//
// Prints one line per check and a summary; exits 1 on any mismatch, 2 on bad usage or when the
// detected levels differ from --expect-levels.
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/sgemm.h"
#include "kernels/vmath.h"
#include "tests/harness.h"

using namespace xinrt;

namespace xinrt_test {
namespace {

using MicroKernel = void (*)(int64_t, const float*, const float*, float*, int64_t, int, int, bool);
struct Micro {
  const char* name;
  int mr, nr;
  MicroKernel fn;
};

// The micro-kernel each level runs (kept in step with sgemm.cc's gemm_shape; the harness checks
// the MR it assumes against packed_a_size).
Micro micro_for_level(int level) {
#if XINRT_HAVE_X86
  if (level >= kSimdAvx512) return {"12x32_avx512", 12, 32, sgemm_kernel_12x32_avx512};
  if (level >= kSimdAvx2Fma) return {"6x16_avx2", 6, 16, sgemm_kernel_6x16_avx2};
#endif
#if XINRT_HAVE_NEON
  if (level >= kSimdNeon) return {"8x12_neon", 8, 12, sgemm_kernel_8x12_neon};
#endif
  return {"6x16_baseline", 6, 16, sgemm_kernel_6x16_baseline};
}

// C = A[M, K] * B[K, N] in double, the reference of the GEMM checks.
std::vector<float> gemm_ref(const std::vector<float>& a, const std::vector<float>& b, int64_t M, int64_t N,
                            int64_t K, bool trans_b) {
  std::vector<float> c(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0.0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a[m * K + k]) * (trans_b ? b[n * K + k] : b[k * N + n]);
      c[m * N + n] = static_cast<float>(s);
    }
  return c;
}

void check_micro_kernel(Report& r, int level, const std::string& lv) {
  Micro mk = micro_for_level(level);
  bool mr_ok = packed_a_size(1, 1, level) == static_cast<size_t>(mk.mr);
  r.record(mr_ok, lv, std::string("micro-kernel shape ") + mk.name, mr_ok ? "MR matches sgemm.cc" : "MR differs from sgemm.cc");
  const int64_t kc = 37, ldc = mk.nr + 5;
  std::vector<float> a = randn(kc * mk.mr, 11), b = randn(kc * mk.nr, 12);
  // Widths reaching every tail path of every kernel (AVX-512: 32; 25-31 masked; 17-24 as 16 + a
  // narrow tail; 9-16; 1-8 narrow).
  std::vector<int> widths;
  for (int w : {mk.nr, 1, mk.nr - 3, mk.nr / 2 + 1, mk.nr / 2, mk.nr / 4, mk.nr / 4 + 1, 3 * mk.nr / 4, 3 * mk.nr / 4 + 1})
    if (w >= 1 && w <= mk.nr && std::find(widths.begin(), widths.end(), w) == widths.end()) widths.push_back(w);
  for (int mr : {mk.mr, 1, mk.mr - 1})
    for (int nr : widths)
      for (bool acc : {false, true}) {
        std::vector<float> c0 = randn(mk.mr * ldc, 13), c = c0;
        mk.fn(kc, a.data(), b.data(), c.data(), ldc, mr, nr, acc);
        std::vector<float> want = c0;
        bool ok = true;
        double worst = 0.0;
        for (int i = 0; i < mk.mr && ok; ++i)
          for (int j = 0; j < ldc; ++j) {
            bool inside = i < mr && j < nr;
            double s = 0.0;
            for (int64_t k = 0; inside && k < kc; ++k) s += static_cast<double>(a[k * mk.mr + i]) * b[k * mk.nr + j];
            double w = inside ? (acc ? c0[i * ldc + j] + s : s) : c0[i * ldc + j];  // outside: untouched
            double e = std::fabs(c[i * ldc + j] - w);
            worst = std::max(worst, e);
            if (e > (inside ? 1e-4 + 1e-4 * std::fabs(w) : 0.0)) ok = false;
          }
        r.record(ok, lv, std::string("sgemm_kernel_") + mk.name + " mr=" + std::to_string(mr) + " nr=" + std::to_string(nr) +
                             (acc ? " accumulate" : ""), fmt("max |err| %.3g (tol 1e-4 + 1e-4*|ref|)", worst));
      }
  // A narrower panel rounds as the full width: each column is the same FMA chain whichever
  // kernel path runs it (a QDQ model's float Conv must match ORT bit for bit at every width).
  std::vector<float> full(mk.mr * ldc, 0.0f);
  mk.fn(kc, a.data(), b.data(), full.data(), ldc, mk.mr, mk.nr, false);
  for (int nr : widths) {
    std::vector<float> part(mk.mr * ldc, 0.0f);
    mk.fn(kc, a.data(), b.data(), part.data(), ldc, mk.mr, nr, false);
    int differ = 0;
    for (int i = 0; i < mk.mr; ++i)
      for (int j = 0; j < nr; ++j) differ += part[i * ldc + j] != full[i * ldc + j];
    r.record(differ == 0, lv, std::string("sgemm_kernel_") + mk.name + " nr=" + std::to_string(nr) + " bit-identical to nr=" +
             std::to_string(mk.nr), fmt("%.0f elements differ", differ));
  }
}

void check_sgemm_packed(Report& r, int level, const std::string& lv, ThreadPool& pool) {
  struct Case { int64_t M, N, K; };
  for (Case cs : {Case{1, 1, 1}, Case{7, 13, 5}, Case{37, 29, 300}, Case{65, 101, 33}, Case{13, 257, 9}, Case{130, 45, 300}}) {
    for (bool tb : {false, true}) {
      std::vector<float> a = randn(cs.M * cs.K, 21), b = randn(cs.K * cs.N, 22);
      auto pa = pack_a_new(a.data(), cs.K, false, cs.M, cs.K, 1.0f, level);
      std::vector<float> c(cs.M * cs.N, 1e30f);
      sgemm_packed(cs.M, cs.N, cs.K, pa.get(), b.data(), tb ? cs.K : cs.N, tb, c.data(), cs.N, false, &pool, level);
      std::vector<float> want = gemm_ref(a, b, cs.M, cs.N, cs.K, tb);
      double e;
      std::string err = compare(c.data(), want.data(), c.size(), kGemmTol, &e);
      r.record(err.empty(), lv, "sgemm_packed M=" + std::to_string(cs.M) + " N=" + std::to_string(cs.N) + " K=" +
               std::to_string(cs.K) + (tb ? " trans_b" : ""), err.empty() ? fmt("max |err| %.3g", e) : err);
    }
  }
  // Epilogue (bias, residual, relu) and a transposed, scaled A; K = 300 spans three K blocks, so
  // the start (residual + bias) goes into the first block's store and Relu into the last's only.
  // M = 19 reads B in place on AVX-512, M = 130 packs it.
  for (auto [M, K] : {std::pair<int64_t, int64_t>{19, 70}, {19, 300}, {130, 300}}) {
    const int64_t N = 45;
    std::vector<float> a = randn(K * M, 31), b = randn(K * N, 32), bias = randn(M, 33), res = randn(M * N, 34);
    auto pa = pack_a_new(a.data(), M, true, M, K, 0.5f, level);
    GemmEpilogue ep;
    ep.bias = bias.data();
    ep.residual = res.data();
    ep.relu = true;
    std::vector<float> c(M * N);
    sgemm_packed(M, N, K, pa.get(), b.data(), N, false, c.data(), N, false, &pool, level, &ep);
    std::vector<float> at(M * K);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) at[m * K + k] = 0.5f * a[k * M + m];
    std::vector<float> want = gemm_ref(at, b, M, N, K, false);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) want[m * N + n] = std::max(0.0f, want[m * N + n] + bias[m] + res[m * N + n]);
    double e;
    std::string err = compare(c.data(), want.data(), c.size(), kGemmTol, &e);
    r.record(err.empty(), lv, "sgemm_packed epilogue bias+residual+relu, trans_a alpha=0.5, M=" + std::to_string(M) +
             " K=" + std::to_string(K),
             err.empty() ? fmt("max |err| %.3g", e) : err);
  }
  const int64_t M = 19, N = 45, K = 70;
  // sgemm_packed_rows: B rows gathered by offsets (reversed order, spaced out).
  std::vector<float> big = randn(K * (N + 7), 35);
  std::vector<int64_t> offs(K);
  std::vector<float> bk(K * N);
  for (int64_t k = 0; k < K; ++k) {
    offs[k] = (K - 1 - k) * (N + 7) + 3;
    for (int64_t n = 0; n < N; ++n) bk[k * N + n] = big[offs[k] + n];
  }
  std::vector<float> a2 = randn(M * K, 36);
  auto pa2 = pack_a_new(a2.data(), K, false, M, K, 1.0f, level);
  std::vector<float> c(M * N), want;
  double e;
  std::string err;
  sgemm_packed_rows(M, N, K, pa2.get(), big.data(), offs.data(), c.data(), N, &pool, level);
  want = gemm_ref(a2, bk, M, N, K, false);
  err = compare(c.data(), want.data(), c.size(), kGemmTol, &e);
  r.record(err.empty(), lv, "sgemm_packed_rows M=19 N=45 K=70", err.empty() ? fmt("max |err| %.3g", e) : err);
}

void check_dot_axpy(Report& r, int level, const std::string& lv) {
  for (int64_t n : {0, 1, 3, 17, 100, 1001}) {
    std::vector<float> a = randn(n, 41), b = randn(n, 42);
    double want = 0.0, mag = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      want += static_cast<double>(a[i]) * b[i];
      mag += std::fabs(static_cast<double>(a[i]) * b[i]);
    }
    float got = dot_f32(a.data(), b.data(), n, level);
    double e = std::fabs(got - want);
    r.record(e <= 1e-6 * mag + 1e-6, lv, "dot_f32 n=" + std::to_string(n), fmt("|err| %.3g (tol 1e-6*sum|ab| + 1e-6 = %.3g)", e, 1e-6 * mag + 1e-6));
    std::vector<float> y = randn(n, 43), y0 = y;
    axpy_f32(y.data(), a.data(), -0.75f, n, level);
    std::vector<float> wy(n);
    for (int64_t i = 0; i < n; ++i) wy[i] = static_cast<float>(y0[i] + -0.75 * a[i]);
    double me;
    std::string err = compare(y.data(), wy.data(), n, kElementwiseTol, &me);
    r.record(err.empty(), lv, "axpy_f32 n=" + std::to_string(n), err.empty() ? fmt("max |err| %.3g", me) : err);
  }
}

// Inputs for the vmath checks: a normal spread, wide and tiny magnitudes, both signs, a sweep
// over all float exponents, and the special values (zeros, infinities, NaN, range edges).
std::vector<float> vmath_inputs() {
  std::vector<float> x = uniform(2003, 51, -10.0f, 10.0f);
  for (float v : uniform(1000, 52, -120.0f, 120.0f)) x.push_back(v);
  for (float v : uniform(500, 53, -4.5f, 4.5f)) x.push_back(v);
  std::mt19937 gen(54);
  std::uniform_real_distribution<float> e(-40.0f, -1.0f);
  for (int i = 0; i < 500; ++i) x.push_back((i % 2 ? -1.0f : 1.0f) * std::pow(10.0f, e(gen)));
  // A strided sweep over all 2^32 bit patterns (every 4099th: ~1M values of every exponent).
  for (uint64_t bits = 12345; bits < (1ull << 32); bits += 4099) {
    uint32_t b = static_cast<uint32_t>(bits);
    float v;
    std::memcpy(&v, &b, sizeof v);
    x.push_back(v);
  }
  for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.7f, 88.8f, -87.3f, -103.0f, -104.5f, 0.55f, -0.55f,
                  0.875f, -0.875f, 3.9192058f, -3.9192058f, 1e-45f, 3.4e38f, -3.4e38f})
    x.push_back(v);
  return x;
}

void check_vmath(Report& r, int level, const std::string& lv) {
  const std::vector<float> x = vmath_inputs();
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> got(n), want(n);
  auto ulps = [&](const char* name, double limit) {
    double worst = 0.0;
    size_t at = 0;
    for (int64_t i = 0; i < n; ++i) {
      double u = ulp_error(got[i], want[i]);
      if (u > worst) worst = u, at = i;
    }
    r.record(worst <= limit, lv, name, fmt("max %.3g ulp at x=", worst) + fmt("%.9g", x[at]) + fmt(" (limit %g ulp)", limit));
  };
  erf_f32(x.data(), got.data(), n, level);
  erf_f32_baseline(x.data(), want.data(), n);
  ulps("erf_f32 vs std::erf", 1);
  gelu_erf_f32(x.data(), got.data(), n, 1.41421356f, 1.0f, 0.5f, level);
  gelu_erf_f32_baseline(x.data(), want.data(), n, 1.41421356f, 1.0f, 0.5f);
  // GELU's (erf + 1) cancels near erf = -1, so its error is bounded in absolute terms there.
  double worst = 0.0;
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(want[i]) || std::isinf(want[i])) {
      ok = ok && (std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i]);
      continue;
    }
    double e = std::fabs(got[i] - want[i]);
    worst = std::max(worst, e);
    ok = ok && e <= 1e-6 + 4e-7 * std::fabs(want[i]);
  }
  r.record(ok, lv, "gelu_erf_f32 vs baseline", fmt("max |err| %.3g (tol 1e-6 + 4e-7*|ref|)", worst));
  exp_f32(x.data(), got.data(), n, level);
  exp_f32_baseline(x.data(), want.data(), n);
  ulps("exp_f32 vs std::exp", 2);
  sigmoid_f32(x.data(), got.data(), n, level);
  sigmoid_f32_baseline(x.data(), want.data(), n);
  ulps("sigmoid_f32 vs baseline", 3);
  tanh_f32(x.data(), got.data(), n, level);
  tanh_f32_baseline(x.data(), want.data(), n);
  ulps("tanh_f32 vs std::tanh", 3);
  // exp_shift_sum over softmax rows (x - max <= 0) of several widths.
  for (int64_t w : {1, 7, 64, 1000}) {
    std::vector<float> row = uniform(w, 55 + static_cast<uint32_t>(w), -30.0f, 30.0f);
    float mx = row[0];
    for (float v : row) mx = std::max(mx, v);
    std::vector<float> g(w), wv(w);
    float gs = exp_shift_sum_f32(row.data(), g.data(), w, mx, level);
    float ws = exp_shift_sum_f32_baseline(row.data(), wv.data(), w, mx);
    double e;
    std::string err = compare(g.data(), wv.data(), w, Tol{4e-7, 1e-30}, &e);
    bool sum_ok = std::fabs(gs - ws) <= 1e-5 * ws;
    r.record(err.empty() && sum_ok, lv, "exp_shift_sum_f32 n=" + std::to_string(w),
             !err.empty() ? err : fmt("sum %.9g vs %.9g (rtol 1e-5)", gs, ws));
  }
}

}  // namespace

void run_kernel_checks(Report& r, int level, const std::string& name) {
  ThreadPool pool(2);
  check_micro_kernel(r, level, name);
  check_sgemm_packed(r, level, name, pool);
  check_dot_axpy(r, level, name);
  check_vmath(r, level, name);
  run_winograd_checks(r, level, name);
}

}  // namespace xinrt_test

int main(int argc, char** argv) {
  std::string expect, only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--expect-levels") == 0 && i + 1 < argc) expect = argv[++i];
    else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--expect-levels a,b,c] [--only kernels|ops|qgemm|sbgemm]\n", argv[0]);
      return 2;
    }
  }
  unsetenv("XINRT_CPU_BASELINE");
  unsetenv("XINRT_CPU_SIMD");
  std::vector<std::string> levels = simd_paths();
  std::string found;
  for (const std::string& l : levels) found += (found.empty() ? "" : ",") + l;
  std::string features;
  for (const std::string& f : cpu_feature_names()) features += " " + f;
  std::printf("SIMD levels on this CPU: %s; other features:%s\n", found.c_str(), features.empty() ? " none" : features.c_str());
  if (!expect.empty() && expect != found) {
    std::printf("FAIL detection: expected levels %s, found %s\n", expect.c_str(), found.c_str());
    return 2;
  }
  xinrt_test::Report report;
  for (size_t l = 0; l < levels.size(); ++l) {
    int level = static_cast<int>(l);
    if (only.empty() || only == "sbgemm") xinrt_test::run_sbgemm_checks(report, level, levels[l]);
#if XINRT_HAVE_X86
    if (level == kSimdAvx512Bf16) continue;  // adds the bf16 GEMM only: every other kernel is avx512_vnni's
#endif
    if (only.empty() || only == "kernels") xinrt_test::run_kernel_checks(report, level, levels[l]);
    if (only.empty() || only == "ops") xinrt_test::run_op_checks(report, level, levels[l]);
    if (only.empty() || only == "qgemm") xinrt_test::run_qgemm_checks(report, level, levels[l]);
  }
  std::printf("SUMMARY: %d passed, %d failed (levels %s)\n", report.passed, report.failed, found.c_str());
  return report.failed == 0 ? 0 : 1;
}
