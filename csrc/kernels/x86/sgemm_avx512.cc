// AVX-512F 12x32 SGEMM micro-kernel (24 zmm accumulators). Compiled with -mavx512f -mfma;
// called only after a CPU check. Plain: raw pointers, no STL.
#include <immintrin.h>

#include <cstdint>

namespace xinrt {

// Tail panels of at most 16 columns: half the FMAs of the full kernel.
static void sgemm_kernel_12x16_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                                      int nr, bool accumulate) {
  __m512 acc[12];
  for (int r = 0; r < 12; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(b);
#pragma GCC unroll 12
    for (int r = 0; r < 12; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), b0, acc[r]);
    a += 12;
    b += 32;  // panels keep their 32-column stride
  }
  __mmask16 m0 = static_cast<__mmask16>(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
  for (int r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    __m512 v = acc[r];
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m0, row));
    _mm512_mask_storeu_ps(row, m0, v);
  }
}

void sgemm_kernel_12x32_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                               int nr, bool accumulate) {
  if (nr <= 16) {
    sgemm_kernel_12x16_avx512(kc, a, b, c, ldc, mr, nr, accumulate);
    return;
  }
  __m512 acc[12][2];
  for (int r = 0; r < 12; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int r = 0; r < 12; ++r) {
      __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
    }
    a += 12;
    b += 32;
  }
  if (nr == 32) {
    for (int r = 0; r < mr; ++r) {
      float* row = c + r * ldc;
      __m512 lo = acc[r][0], hi = acc[r][1];
      if (accumulate) {
        lo = _mm512_add_ps(lo, _mm512_loadu_ps(row));
        hi = _mm512_add_ps(hi, _mm512_loadu_ps(row + 16));
      }
      _mm512_storeu_ps(row, lo);
      _mm512_storeu_ps(row + 16, hi);
    }
    return;
  }
  // Partial width: masked loads/stores.
  __mmask16 m0 = static_cast<__mmask16>(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
  __mmask16 m1 = static_cast<__mmask16>(nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
  for (int r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    __m512 lo = acc[r][0], hi = acc[r][1];
    if (accumulate) {
      lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(m0, row));
      hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    _mm512_mask_storeu_ps(row, m0, lo);
    _mm512_mask_storeu_ps(row + 16, m1, hi);
  }
}

}  // namespace xinrt
