// Raw-pointer pieces of the recurrent kernels with SIMD versions (x86/recurrent_*.cc). Kept
// apart from recurrent.h so the SIMD files include no C++ library headers whose inline
// functions they would compile with AVX (the linker may keep any one copy of those).
#pragma once

#include <cstdint>

namespace xinrt {

// R^T is stored as panels of kRecurrentPanel columns: panel q holds K rows of 16 floats
// (zero-padded past the gate's last column), so each panel is one sequential stream.
constexpr int kRecurrentPanel = 16;

// out[b * ldo + 16 * q + j] += sum_k a[b * lda + k] * panels[(q * K + k) * 16 + j] for b < rows,
// q < npanels, j < 16 (j < last_width in the last panel).
void recurrent_panels_acc_baseline(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                                   int64_t npanels, int last_width, float* out, int64_t ldo);
void recurrent_panels_acc_avx2(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                               int64_t npanels, int last_width, float* out, int64_t ldo);
void recurrent_panels_acc_avx512(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                                 int64_t npanels, int last_width, float* out, int64_t ldo);
// y[i] = 1 / (1 + exp(-x[i])) and y[i] = tanh(x[i]); x == y is allowed.
void sigmoid_f32_avx2(const float* x, float* y, int64_t n);
void tanh_f32_avx2(const float* x, float* y, int64_t n);

}  // namespace xinrt
