// AVX-512 pieces of the recurrent kernels (recurrent_simd.h): H_prev * R^T over R^T panels (one
// 16-float panel row per register, so up to 8 batch rows share each panel load) and the LSTM
// gate math of simd_math.h. Called only after the run-time CPU check.
//
// Accumulators are named variables, not arrays: with arrays GCC 12 stored every accumulator
// to the stack on every k step.
#include <immintrin.h>

#include <cstdint>

#include "kernels/recurrent_simd.h"
#include "kernels/x86/simd_avx512.h"
#include "kernels/x86/simd_math.h"

namespace xinrt {
namespace {

inline __mmask16 width_mask(int width) { return static_cast<__mmask16>((1u << width) - 1u); }

// out[0:width] += acc.
inline void add_panel(float* out, __m512 acc, int width) {
  const __mmask16 m = width_mask(width);
  _mm512_mask_storeu_ps(out, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, out), acc));
}

// R (1..8) rows x P (1 or 2) panels.
template <int R, int P>
inline void panels_block(const float* a, int64_t lda, int64_t K, const float* panels, float* out, int64_t ldo,
                         int last_width) {
  const __m512 z = _mm512_setzero_ps();
  __m512 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  __m512 c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
  for (int64_t k = 0; k < K; ++k) {
    const __m512 w0 = _mm512_loadu_ps(panels + k * 16);
    const __m512 w1 = P > 1 ? _mm512_loadu_ps(panels + (K + k) * 16) : z;
#define XINRT_PANEL_ROW(r, x0, x1)                             \
  if constexpr (R > r) {                                      \
    const __m512 av = _mm512_set1_ps(a[r * lda + k]);         \
    x0 = _mm512_fmadd_ps(av, w0, x0);                         \
    if constexpr (P > 1) x1 = _mm512_fmadd_ps(av, w1, x1);    \
  }
    XINRT_PANEL_ROW(0, c00, c01)
    XINRT_PANEL_ROW(1, c10, c11)
    XINRT_PANEL_ROW(2, c20, c21)
    XINRT_PANEL_ROW(3, c30, c31)
    XINRT_PANEL_ROW(4, c40, c41)
    XINRT_PANEL_ROW(5, c50, c51)
    XINRT_PANEL_ROW(6, c60, c61)
    XINRT_PANEL_ROW(7, c70, c71)
#undef XINRT_PANEL_ROW
  }
  const int w0 = P == 1 ? last_width : 16;
#define XINRT_PANEL_STORE(r, x0, x1)                                   \
  if constexpr (R > r) {                                              \
    add_panel(out + r * ldo, x0, w0);                                 \
    if constexpr (P > 1) add_panel(out + r * ldo + 16, x1, last_width); \
  }
  XINRT_PANEL_STORE(0, c00, c01)
  XINRT_PANEL_STORE(1, c10, c11)
  XINRT_PANEL_STORE(2, c20, c21)
  XINRT_PANEL_STORE(3, c30, c31)
  XINRT_PANEL_STORE(4, c40, c41)
  XINRT_PANEL_STORE(5, c50, c51)
  XINRT_PANEL_STORE(6, c60, c61)
  XINRT_PANEL_STORE(7, c70, c71)
#undef XINRT_PANEL_STORE
}

template <int R>
void panels_rows(const float* a, int64_t lda, int64_t K, const float* panels, int64_t npanels, int last_width,
                 float* out, int64_t ldo) {
  int64_t q = 0;
  for (; q + 2 <= npanels; q += 2)
    panels_block<R, 2>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, q + 2 == npanels ? last_width : 16);
  if (q < npanels) panels_block<R, 1>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, last_width);
}

// One row x P (1, 2, 4 or 8) panels: P accumulator chains, for batch 1.
template <int P>
inline void panels_block_row(const float* a, int64_t K, const float* panels, float* out, int last_width) {
  const __m512 z = _mm512_setzero_ps();
  __m512 c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
  const int64_t s = K * 16;  // panel stride
  for (int64_t k = 0; k < K; ++k) {
    const __m512 av = _mm512_set1_ps(a[k]);
    const float* w = panels + k * 16;
    c0 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w), c0);
    if constexpr (P > 1) c1 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + s), c1);
    if constexpr (P > 2) {
      c2 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + 2 * s), c2);
      c3 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + 3 * s), c3);
    }
    if constexpr (P > 4) {
      c4 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + 4 * s), c4);
      c5 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + 5 * s), c5);
      c6 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + 6 * s), c6);
      c7 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + 7 * s), c7);
    }
  }
  const __m512 acc[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
  for (int p = 0; p < P; ++p) add_panel(out + p * 16, acc[p], p == P - 1 ? last_width : 16);
}

void panels_one_row(const float* a, int64_t K, const float* panels, int64_t npanels, int last_width, float* out) {
  int64_t q = 0;
  auto width = [&](int64_t n) { return q + n == npanels ? last_width : 16; };
  for (; q + 8 <= npanels; q += 8) panels_block_row<8>(a, K, panels + q * K * 16, out + q * 16, width(8));
  for (; q + 4 <= npanels; q += 4) panels_block_row<4>(a, K, panels + q * K * 16, out + q * 16, width(4));
  for (; q + 2 <= npanels; q += 2) panels_block_row<2>(a, K, panels + q * K * 16, out + q * 16, width(2));
  for (; q < npanels; ++q) panels_block_row<1>(a, K, panels + q * K * 16, out + q * 16, width(1));
}

}  // namespace

void lstm_gates_avx512(int64_t n, const float* gi, const float* go, const float* gf, const float* gc,
                       const float* c_prev, const float* pi, const float* po, const float* pf, float clip,
                       bool input_forget, float* c_next, float* h_next) {
  lstm_gates_lanes<Avx512>(n, gi, go, gf, gc, c_prev, pi, po, pf, clip, input_forget, c_next, h_next);
}

void recurrent_panels_acc_avx512(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                                 int64_t npanels, int last_width, float* out, int64_t ldo) {
  int64_t b = 0;
  for (; b + 8 <= rows; b += 8) panels_rows<8>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  const float* ar = a + b * lda;
  float* o = out + b * ldo;
  switch (rows - b) {
    case 7: return panels_rows<7>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 6: return panels_rows<6>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 5: return panels_rows<5>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 4: return panels_rows<4>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 3: return panels_rows<3>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 2: return panels_rows<2>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 1: return panels_one_row(ar, K, panels, npanels, last_width, o);
    default: return;
  }
}

}  // namespace xinrt
