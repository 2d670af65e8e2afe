// AVX2/FMA pieces of the recurrent kernels (recurrent_simd.h): the per-step H_prev * R^T over
// R^T panels (two 8-float vectors per panel row; the blocking differs from AVX-512's), and the
// gate math of simd_math.h. Plain raw-pointer code, called only after the run-time CPU check.
#include <immintrin.h>

#include <cstdint>

#include "kernels/recurrent_simd.h"
#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/simd_math.h"

namespace xinrt {
namespace {

// Adds one 16-column panel row (two vectors) into out, only `width` columns of it. Always
// masked: a branch here made GCC keep the accumulators in memory inside the k loop.
inline void add_panel(float* out, __m256 lo, __m256 hi, int width) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width), lane);
  const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width - 8), lane);
  _mm256_maskstore_ps(out, m0, _mm256_add_ps(_mm256_maskload_ps(out, m0), lo));
  _mm256_maskstore_ps(out + 8, m1, _mm256_add_ps(_mm256_maskload_ps(out + 8, m1), hi));
}

// One row x P (1, 2 or 4) panels: 2P accumulator chains, for batch 1. Named accumulators:
// with an array GCC 12 kept storing them to the stack on every k step.
template <int P>
inline void panels_block_row(const float* a, int64_t K, const float* panels, float* out, int last_width) {
  __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (int64_t k = 0; k < K; ++k) {
    const __m256 av = _mm256_broadcast_ss(a + k);
    const float* w = panels + k * 16;
    c0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w), c0);
    c1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + 8), c1);
    if constexpr (P > 1) {
      c2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + K * 16), c2);
      c3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + K * 16 + 8), c3);
    }
    if constexpr (P > 2) {
      c4 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + 2 * K * 16), c4);
      c5 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + 2 * K * 16 + 8), c5);
      c6 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + 3 * K * 16), c6);
      c7 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + 3 * K * 16 + 8), c7);
    }
  }
  add_panel(out, c0, c1, P == 1 ? last_width : 16);
  if constexpr (P == 2) add_panel(out + 16, c2, c3, last_width);
  if constexpr (P == 4) {
    add_panel(out + 16, c2, c3, 16);
    add_panel(out + 32, c4, c5, 16);
    add_panel(out + 48, c6, c7, last_width);
  }
}

// R (2..6) rows x one panel, named accumulators likewise.
template <int R>
inline void panel_block_rows(const float* a, int64_t lda, int64_t K, const float* panel, float* out, int64_t ldo,
                             int width) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t k = 0; k < K; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + k * 16), w1 = _mm256_loadu_ps(panel + k * 16 + 8);
#define XINRT_PANEL_ROW(r, lo, hi)                              \
  if constexpr (R > r) {                                       \
    const __m256 av = _mm256_broadcast_ss(a + r * lda + k);    \
    lo = _mm256_fmadd_ps(av, w0, lo);                          \
    hi = _mm256_fmadd_ps(av, w1, hi);                          \
  }
    XINRT_PANEL_ROW(0, c00, c01)
    XINRT_PANEL_ROW(1, c10, c11)
    XINRT_PANEL_ROW(2, c20, c21)
    XINRT_PANEL_ROW(3, c30, c31)
    XINRT_PANEL_ROW(4, c40, c41)
    XINRT_PANEL_ROW(5, c50, c51)
#undef XINRT_PANEL_ROW
  }
  add_panel(out, c00, c01, width);
  if constexpr (R > 1) add_panel(out + ldo, c10, c11, width);
  if constexpr (R > 2) add_panel(out + 2 * ldo, c20, c21, width);
  if constexpr (R > 3) add_panel(out + 3 * ldo, c30, c31, width);
  if constexpr (R > 4) add_panel(out + 4 * ldo, c40, c41, width);
  if constexpr (R > 5) add_panel(out + 5 * ldo, c50, c51, width);
}

template <int R>
void panels_rows(const float* a, int64_t lda, int64_t K, const float* panels, int64_t npanels, int last_width,
                 float* out, int64_t ldo) {
  for (int64_t q = 0; q < npanels; ++q)
    panel_block_rows<R>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, q + 1 == npanels ? last_width : 16);
}

// Batch 1: blocks of 4 panels (8 chains), then 2, then 1.
void panels_one_row(const float* a, int64_t K, const float* panels, int64_t npanels, int last_width, float* out) {
  int64_t q = 0;
  auto width = [&](int64_t n) { return q + n == npanels ? last_width : 16; };
  for (; q + 4 <= npanels; q += 4) panels_block_row<4>(a, K, panels + q * K * 16, out + q * 16, width(4));
  for (; q + 2 <= npanels; q += 2) panels_block_row<2>(a, K, panels + q * K * 16, out + q * 16, width(2));
  for (; q < npanels; ++q) panels_block_row<1>(a, K, panels + q * K * 16, out + q * 16, width(1));
}

}  // namespace

void lstm_gates_avx2(int64_t n, const float* gi, const float* go, const float* gf, const float* gc,
                     const float* c_prev, const float* pi, const float* po, const float* pf, float clip,
                     bool input_forget, float* c_next, float* h_next) {
  lstm_gates_lanes<Avx2>(n, gi, go, gf, gc, c_prev, pi, po, pf, clip, input_forget, c_next, h_next);
}

void sigmoid_f32_avx2(const float* x, float* y, int64_t n) { sigmoid_f32_lanes<Avx2>(x, y, n); }
void tanh_f32_avx2(const float* x, float* y, int64_t n) { tanh_f32_lanes<Avx2>(x, y, n); }

void recurrent_panels_acc_avx2(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                               int64_t npanels, int last_width, float* out, int64_t ldo) {
  int64_t b = 0;
  for (; b + 6 <= rows; b += 6) panels_rows<6>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  const float* ar = a + b * lda;
  float* o = out + b * ldo;
  switch (rows - b) {
    case 5: return panels_rows<5>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 4: return panels_rows<4>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 3: return panels_rows<3>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 2: return panels_rows<2>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 1: return panels_one_row(ar, K, panels, npanels, last_width, o);
    default: return;
  }
}

}  // namespace xinrt
