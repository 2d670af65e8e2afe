// Shared helpers of the C++ kernel test harness (kernel_tests.cc is the entry point): seeded
// data, explicit-tolerance comparisons that print one line per check, and the SIMD levels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace xinrt_test {

// Counts checks; every check prints one line "PASS|FAIL <level> <name>: <detail>".
struct Report {
  int passed = 0, failed = 0;
  void record(bool ok, const std::string& level, const std::string& name, const std::string& detail) {
    (ok ? passed : failed) += 1;
    std::printf("%s %s %s: %s\n", ok ? "PASS" : "FAIL", level.c_str(), name.c_str(), detail.c_str());
    std::fflush(stdout);
  }
};

struct Tol {
  double rtol, atol;
};
constexpr Tol kExact{0.0, 0.0};
constexpr Tol kElementwiseTol{1e-5, 1e-6};  // tests/backends/cpu/test_native_ops.py's ELEMENTWISE_TOL
constexpr Tol kGemmTol{1e-4, 1e-5};         // ... and GEMM_TOL

// Seeded normal(0, scale) floats.
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

inline std::vector<float> uniform(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// got vs want: |got - want| <= atol + rtol * |want|; NaN must meet NaN and inf the same inf.
// Returns "" when all match, else the first mismatch; max_err gets the largest |got - want|.
inline std::string compare(const float* got, const float* want, size_t n, Tol tol, double* max_err) {
  *max_err = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double g = got[i], w = want[i];
    bool ok;
    if (std::isnan(w) || std::isnan(g)) ok = std::isnan(w) && std::isnan(g);
    else if (std::isinf(w) || std::isinf(g)) ok = g == w;
    else {
      double e = std::fabs(g - w);
      if (e > *max_err) *max_err = e;
      ok = e <= tol.atol + tol.rtol * std::fabs(w);
    }
    if (!ok) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "index %zu: got %.9g, want %.9g", i, g, w);
      return buf;
    }
  }
  return "";
}

// Units in the last place of want between got and want (for vmath); a subnormal want counts in
// the subnormal spacing (2^-149), so a flushed denormal fails.
inline double ulp_error(float got, float want) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got) ? 0.0 : 1e30;
  if (std::isinf(want) || std::isinf(got)) return got == want ? 0.0 : 1e30;
  double ulp = std::ldexp(1.0, std::max(std::ilogb(want == 0.0f ? 1e-38f : want), -126) - 23);
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

inline std::string fmt(const char* f, double a, double b = 0.0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

// The float32 tensor [shape] holding data.
inline xinrt::Tensor tensor(const xinrt::Shape& shape, const std::vector<float>& data) {
  xinrt::Tensor t = xinrt::Tensor::empty(xinrt::DType::f32, shape);
  for (size_t i = 0; i < data.size(); ++i) t.ptr<float>()[i] = data[i];
  return t;
}

// Checks that need a level (name and SimdLevel number); defined in the files named.
void run_kernel_checks(Report& r, int level, const std::string& name);  // kernel_tests.cc
void run_op_checks(Report& r, int level, const std::string& name);      // op_tests.cc
void run_qgemm_checks(Report& r, int level, const std::string& name);   // qgemm_tests.cc
void run_sbgemm_checks(Report& r, int level, const std::string& name);  // sbgemm_tests.cc
void run_winograd_checks(Report& r, int level, const std::string& name);  // winograd_tests.cc

}  // namespace xinrt_test
