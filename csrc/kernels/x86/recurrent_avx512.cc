// AVX-512 H_prev * R^T over R^T panels (recurrent_simd.h): one 16-float panel row per register,
// so up to 8 batch rows share each panel load. Called only after the run-time CPU check.
#include <immintrin.h>

#include <cstdint>

#include "kernels/recurrent_simd.h"

namespace xinrt {
namespace {

// R rows x P panels, accumulators in registers; `last_width` columns of the last panel are kept.
template <int R, int P>
inline void panels_block(const float* a, int64_t lda, int64_t K, const float* panels, float* out, int64_t ldo,
                         int last_width) {
  __m512 acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    __m512 w[P];
    for (int p = 0; p < P; ++p) w[p] = _mm512_loadu_ps(panels + (p * K + k) * 16);
    for (int r = 0; r < R; ++r) {
      __m512 av = _mm512_set1_ps(a[r * lda + k]);
      for (int p = 0; p < P; ++p) acc[r][p] = _mm512_fmadd_ps(av, w[p], acc[r][p]);
    }
  }
  const __mmask16 last = static_cast<__mmask16>((1u << last_width) - 1u);
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) {
      float* o = out + r * ldo + p * 16;
      __mmask16 m = p == P - 1 ? last : static_cast<__mmask16>(0xFFFF);
      _mm512_mask_storeu_ps(o, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), acc[r][p]));
    }
}

// Blocks of P panels, then narrower blocks for the rest, so a few panels still get several
// independent accumulator chains. The block holding the last panel keeps last_width columns.
template <int R, int P>
void panels_rows(const float* a, int64_t lda, int64_t K, const float* panels, int64_t npanels, int last_width,
                 float* out, int64_t ldo) {
  int64_t q = 0;
  auto width = [&](int64_t n) { return q + n == npanels ? last_width : 16; };
  for (; q + P <= npanels; q += P) panels_block<R, P>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(P));
  if constexpr (P > 4)
    for (; q + 4 <= npanels; q += 4) panels_block<R, 4>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(4));
  if constexpr (P > 2)
    for (; q + 2 <= npanels; q += 2) panels_block<R, 2>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(2));
  for (; q < npanels; ++q) panels_block<R, 1>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(1));
}

}  // namespace

void recurrent_panels_acc_avx512(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                                 int64_t npanels, int last_width, float* out, int64_t ldo) {
  int64_t b = 0;
  for (; b + 8 <= rows; b += 8) panels_rows<8, 2>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  for (; b + 4 <= rows; b += 4) panels_rows<4, 2>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  for (; b + 2 <= rows; b += 2) panels_rows<2, 4>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  for (; b < rows; ++b) panels_rows<1, 8>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
}

}  // namespace xinrt
