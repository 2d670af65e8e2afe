// gemv.h's panel kernel for the 32-column panels of the AVX-512 SGEMM.
#include <immintrin.h>

#include <algorithm>

#include "kernels/gemv.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

template <int M>
void panel_rows(const float* a, int64_t lda, int64_t K, int64_t Npad, const float* pb, int64_t j,
                const float* bias, float* y, int64_t ldy, int64_t w) {
  const __mmask16 lo = w >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << w) - 1);
  const __mmask16 hi = w >= 32 ? 0xFFFF : w > 16 ? static_cast<__mmask16>((1u << (w - 16)) - 1) : 0;
  __m512 acc0[M], acc1[M];
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(lo, bias + j) : _mm512_setzero_ps();
  const __m512 b1 = bias ? _mm512_maskz_loadu_ps(hi, bias + j + 16) : _mm512_setzero_ps();
  for (int m = 0; m < M; ++m) {
    acc0[m] = b0;
    acc1[m] = b1;
  }
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    const int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
    const float* bp = pb + pc * Npad + j * kc;
    const float* ak = a + pc;
    for (int64_t k = 0; k < kc; ++k) {
      const __m512 r0 = _mm512_loadu_ps(bp + k * 32), r1 = _mm512_loadu_ps(bp + k * 32 + 16);
      for (int m = 0; m < M; ++m) {
        const __m512 av = _mm512_set1_ps(ak[m * lda + k]);
        acc0[m] = _mm512_fmadd_ps(av, r0, acc0[m]);
        acc1[m] = _mm512_fmadd_ps(av, r1, acc1[m]);
      }
    }
  }
  for (int m = 0; m < M; ++m) {
    _mm512_mask_storeu_ps(y + m * ldy + j, lo, acc0[m]);
    _mm512_mask_storeu_ps(y + m * ldy + j + 16, hi, acc1[m]);
  }
}

}  // namespace

void gemv_panels_avx512(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                        const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t Npad = (N + 31) / 32 * 32;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t j = p * 32, w = std::min<int64_t>(32, N - j);
    switch (M) {
      case 1: panel_rows<1>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 2: panel_rows<2>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 3: panel_rows<3>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      default: panel_rows<4>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
    }
  }
}

}  // namespace xinrt
