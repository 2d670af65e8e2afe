// Vector float32 math shared by elementwise, softmax and fused kernels: exp, erf, GELU, and on
// NEON sigmoid and tanh.
//
// The SIMD erf is within 1 ulp of glibc's erff over all 2^32 float32 inputs (checked once
// exhaustively on x86; test_native_transformer.py sweeps [-4.5, 4.5] for <= 2 ulp); the baseline
// path calls std::erf. The NEON file (kernels/arm/vmath_neon.cc) uses the same polynomials;
// csrc/tests/kernel_tests.cc checks every SIMD path against the baseline over ~1M float bit
// patterns of every exponent plus the special values: erf <= 1 ulp, exp <= 2 ulp, sigmoid and
// tanh <= 3 ulp (NEON measured under qemu: 1, 1, 2, 2).
#pragma once

#include <cstdint>

#include "core/simd_level.h"

namespace xinrt {

// y[i] = erf(x[i]).
void erf_f32_baseline(const float* x, float* y, int64_t n);
void erf_f32_avx2(const float* x, float* y, int64_t n);
void erf_f32_avx512(const float* x, float* y, int64_t n);
void erf_f32_neon(const float* x, float* y, int64_t n);
// The Erf GELU as exporters write it: y = ((erf(x / div) + add) * x) * mul, in that float order.
void gelu_erf_f32_baseline(const float* x, float* y, int64_t n, float div, float add, float mul);
void gelu_erf_f32_avx2(const float* x, float* y, int64_t n, float div, float add, float mul);
void gelu_erf_f32_avx512(const float* x, float* y, int64_t n, float div, float add, float mul);
void gelu_erf_f32_neon(const float* x, float* y, int64_t n, float div, float add, float mul);
// y[i] = exp(x[i] - shift); returns the sum of y (a softmax row).
float exp_shift_sum_f32_baseline(const float* x, float* y, int64_t n, float shift);
float exp_shift_sum_f32_avx2(const float* x, float* y, int64_t n, float shift);
float exp_shift_sum_f32_avx512(const float* x, float* y, int64_t n, float shift);
float exp_shift_sum_f32_neon(const float* x, float* y, int64_t n, float shift);
// y[i] = exp(x[i]); sigmoid (onnx.reference's two-sided formula); tanh. No x86 SIMD paths yet.
void exp_f32_baseline(const float* x, float* y, int64_t n);
void exp_f32_neon(const float* x, float* y, int64_t n);
void sigmoid_f32_baseline(const float* x, float* y, int64_t n);
void sigmoid_f32_neon(const float* x, float* y, int64_t n);
void tanh_f32_baseline(const float* x, float* y, int64_t n);
void tanh_f32_neon(const float* x, float* y, int64_t n);

inline void erf_f32(const float* x, float* y, int64_t n, int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512) return erf_f32_avx512(x, y, n);
  if (simd >= kSimdAvx2Fma) return erf_f32_avx2(x, y, n);
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return erf_f32_neon(x, y, n);
#endif
  erf_f32_baseline(x, y, n);
}

inline void gelu_erf_f32(const float* x, float* y, int64_t n, float div, float add, float mul, int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512) return gelu_erf_f32_avx512(x, y, n, div, add, mul);
  if (simd >= kSimdAvx2Fma) return gelu_erf_f32_avx2(x, y, n, div, add, mul);
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return gelu_erf_f32_neon(x, y, n, div, add, mul);
#endif
  gelu_erf_f32_baseline(x, y, n, div, add, mul);
}

inline float exp_shift_sum_f32(const float* x, float* y, int64_t n, float shift, int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512) return exp_shift_sum_f32_avx512(x, y, n, shift);
  if (simd >= kSimdAvx2Fma) return exp_shift_sum_f32_avx2(x, y, n, shift);
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return exp_shift_sum_f32_neon(x, y, n, shift);
#endif
  return exp_shift_sum_f32_baseline(x, y, n, shift);
}

inline void exp_f32(const float* x, float* y, int64_t n, int simd) {
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return exp_f32_neon(x, y, n);
#endif
  exp_f32_baseline(x, y, n);
}

inline void sigmoid_f32(const float* x, float* y, int64_t n, int simd) {
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return sigmoid_f32_neon(x, y, n);
#endif
  sigmoid_f32_baseline(x, y, n);
}

inline void tanh_f32(const float* x, float* y, int64_t n, int simd) {
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return tanh_f32_neon(x, y, n);
#endif
  tanh_f32_baseline(x, y, n);
}

}  // namespace xinrt
