// Raw-pointer SIMD pieces of the recurrent kernels (x86/recurrent_avx2.cc). Kept apart from
// recurrent.h so the AVX2 file includes no C++ library headers whose inline functions it would
// compile with AVX2 (the linker may keep any one copy of those).
#pragma once

#include <cstdint>

namespace xinrt {

// out[b * ldo + n] += sum_k a[b * lda + k] * rt[k * ldr + n] for b < rows, n < N.
void recurrent_matmul_acc_avx2(const float* a, int64_t lda, int64_t rows, int64_t K, const float* rt,
                               int64_t ldr, int64_t N, float* out, int64_t ldo);
// y[i] = 1 / (1 + exp(-x[i])) and y[i] = tanh(x[i]); x == y is allowed.
void sigmoid_f32_avx2(const float* x, float* y, int64_t n);
void tanh_f32_avx2(const float* x, float* y, int64_t n);

}  // namespace xinrt
