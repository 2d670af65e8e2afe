// AVX-512F row kernel of the depthwise convolution (conv.cc pads each input plane first, so no
// tap needs a bounds check). Compiled with -mavx512f -mfma; called only after a CPU check.
// Plain: raw pointers, no STL.
#include <immintrin.h>

#include <cstdint>

namespace xinrt {

// Loads x[0], x[s], ..., x[(n - 1) * s] (n <= 16) into one vector; lanes >= n are zero.
static inline __m512 load_strided(const float* x, int64_t s, int n) {
  __mmask16 m = static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1);
  if (s == 1) return _mm512_maskz_loadu_ps(m, x);
  if (s == 2) {
    // Even elements of 32 consecutive floats: lanes 0..15 of (lo, hi) interleaved.
    int count = 2 * n - 1;  // floats actually read
    __mmask16 m_lo = static_cast<__mmask16>(count >= 16 ? 0xFFFF : (1u << count) - 1);
    __mmask16 m_hi = static_cast<__mmask16>(count <= 16 ? 0 : count >= 32 ? 0xFFFF : (1u << (count - 16)) - 1);
    __m512 lo = _mm512_maskz_loadu_ps(m_lo, x), hi = _mm512_maskz_loadu_ps(m_hi, x + 16);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(lo, even, hi);
  }
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  __m512i idx = _mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int>(s)));
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, x, 4);
}

// y[ow] = bias + sum_{ki, kj} w[ki * k_w + kj] * x[ki * d_h * wp + ow * s_w + kj * d_w] for
// ow < out_w (then max(y, 0) if relu); x points at the padded input row of this output row.
void depthwise_row_avx512(const float* x, int64_t wp, const float* w, int64_t k_h, int64_t k_w, int64_t s_w,
                          int64_t d_h, int64_t d_w, float bias, bool relu, float* y, int64_t out_w) {
  for (int64_t ow = 0; ow < out_w; ow += 16) {
    int n = static_cast<int>(out_w - ow < 16 ? out_w - ow : 16);
    __m512 acc = _mm512_set1_ps(bias);
    for (int64_t ki = 0; ki < k_h; ++ki) {
      const float* row = x + ki * d_h * wp + ow * s_w;
      for (int64_t kj = 0; kj < k_w; ++kj)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(w[ki * k_w + kj]), load_strided(row + kj * d_w, s_w, n), acc);
    }
    if (relu) acc = _mm512_max_ps(acc, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(y + ow, static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1), acc);
  }
}

}  // namespace xinrt
