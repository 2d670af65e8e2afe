// AVX2 ONNX Runtime QLinearAdd for same-shape uint8 or int8 a, b and y, the QDQ residual Add
// (plain: raw pointers only). Called only after a CPU check. The arithmetic of MLAS's AVX2
// kernel: y = saturate(round_half_even(fma(a, ra, fma(b, rb, fixed)))), with ra, rb and fixed
// from kernels/qconv_eltwise.cc; _mm256_cvtps_epi32 rounds half to even on values clamped to
// the output type's range first (the same integer as saturating after rounding).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace xinrt {

namespace {

template <bool Signed>
inline __m256 load8(const void* p) {
  __m128i v = _mm_loadl_epi64(static_cast<const __m128i*>(p));
  return _mm256_cvtepi32_ps(Signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v));
}

template <bool Signed, class T>
void ort_add(const T* a, const T* b, T* y, int64_t n, float ra, float rb, float fixed) {
  const float lo = Signed ? -128.0f : 0.0f, hi = Signed ? 127.0f : 255.0f;
  const __m256 vra = _mm256_set1_ps(ra), vrb = _mm256_set1_ps(rb), vfixed = _mm256_set1_ps(fixed);
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_fmadd_ps(load8<Signed>(a + i), vra, _mm256_fmadd_ps(load8<Signed>(b + i), vrb, vfixed));
    __m256i q = _mm256_cvtps_epi32(_mm256_min_ps(vhi, _mm256_max_ps(vlo, v)));
    __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    __m128i w8 = Signed ? _mm_packs_epi16(w16, w16) : _mm_packus_epi16(w16, w16);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), w8);
  }
  for (; i < n; ++i) {
    float v = std::fma(static_cast<float>(a[i]), ra, std::fma(static_cast<float>(b[i]), rb, fixed));
    y[i] = static_cast<T>(std::nearbyint(std::min(hi, std::max(lo, v))));
  }
}

}  // namespace

void qlinear_add_u8_avx2(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, float ra, float rb,
                         float fixed) {
  ort_add<false>(a, b, y, n, ra, rb, fixed);
}

void qlinear_add_s8_avx2(const int8_t* a, const int8_t* b, int8_t* y, int64_t n, float ra, float rb, float fixed) {
  ort_add<true>(a, b, y, n, ra, rb, fixed);
}

}  // namespace xinrt
