// vmath.h's AVX-512F paths (16 lanes): simd_math.h's templates over simd_avx512.h.
#include "kernels/vmath.h"
#include "kernels/x86/simd_avx512.h"
#include "kernels/x86/simd_math.h"

namespace xinrt {

void erf_f32_avx512(const float* x, float* y, int64_t n) { erf_f32_lanes<Avx512>(x, y, n); }

void gelu_erf_f32_avx512(const float* x, float* y, int64_t n, float div, float add, float mul) {
  gelu_erf_f32_lanes<Avx512>(x, y, n, div, add, mul);
}

float exp_shift_sum_f32_avx512(const float* x, float* y, int64_t n, float shift) {
  return exp_shift_sum_f32_lanes<Avx512>(x, y, n, shift);
}

}  // namespace xinrt
