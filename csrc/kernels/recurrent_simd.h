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
// The LSTM gate math with the default activations (Sigmoid, Tanh, Tanh) for n units of one
// batch row, from pre-activation gates (X * W^T + H * R^T + bias): peepholes pi/po/pf are all
// null or all set, clip <= 0 means no clip, input_forget couples f = 1 - i.
void lstm_gates_avx2(int64_t n, const float* gi, const float* go, const float* gf, const float* gc,
                     const float* c_prev, const float* pi, const float* po, const float* pf, float clip,
                     bool input_forget, float* c_next, float* h_next);
void lstm_gates_avx512(int64_t n, const float* gi, const float* go, const float* gf, const float* gc,
                       const float* c_prev, const float* pi, const float* po, const float* pf, float clip,
                       bool input_forget, float* c_next, float* h_next);
// y[i] = 1 / (1 + exp(-x[i])) and y[i] = tanh(x[i]); x == y is allowed.
void sigmoid_f32_avx2(const float* x, float* y, int64_t n);
void tanh_f32_avx2(const float* x, float* y, int64_t n);

}  // namespace xinrt
