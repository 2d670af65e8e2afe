// AVX2/FMA pieces of the recurrent kernels (recurrent_simd.h): recurrent_panels_simd.h and
// simd_math.h over simd_avx2.h. Called only after the run-time CPU check.
#include "kernels/recurrent_simd.h"
#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/recurrent_panels_simd.h"
#include "kernels/x86/simd_math.h"

namespace xinrt {

void lstm_gates_avx2(int64_t n, const float* gi, const float* go, const float* gf, const float* gc,
                     const float* c_prev, const float* pi, const float* po, const float* pf, float clip,
                     bool input_forget, float* c_next, float* h_next) {
  lstm_gates_lanes<Avx2>(n, gi, go, gf, gc, c_prev, pi, po, pf, clip, input_forget, c_next, h_next);
}

void sigmoid_f32_avx2(const float* x, float* y, int64_t n) { sigmoid_f32_lanes<Avx2>(x, y, n); }
void tanh_f32_avx2(const float* x, float* y, int64_t n) { tanh_f32_lanes<Avx2>(x, y, n); }

// Blocks of 6 batch rows: 12 accumulators, two panel vectors and a broadcast in 16 registers.
void recurrent_panels_acc_avx2(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                               int64_t npanels, int last_width, float* out, int64_t ldo) {
  recurrent_panels_acc_lanes<Avx2, 6>(a, lda, rows, K, panels, npanels, last_width, out, ldo);
}

}  // namespace xinrt
