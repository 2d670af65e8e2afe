// AVX2 y = QuantizeLinear(DequantizeLinear(a) + DequantizeLinear(b)) for uint8 a, b and y, the
// QDQ residual Add (plain: raw pointers only). Called only after a CPU check. Bit-exact to the
// unfused float ops: each product is rounded on its own (the empty asm keeps the compiler from
// contracting multiply and add into an FMA), the quotient is a true division, and
// _mm256_round_ps rounds half to even on values clamped to the uint8 range.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace xinrt {

namespace {

inline __m256 dequantize8(const uint8_t* p, __m256i zero, __m256 scale) {
  __m256i v = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))), zero);
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), scale);
  asm("" : "+x"(f));  // no FMA contraction with the add that follows
  return f;
}

}  // namespace

void qlinear_add_u8_avx2(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, float sa, int32_t za, float sb,
                         int32_t zb, float sy, int32_t zy, bool relu) {
  const float low = 0.0f - static_cast<float>(zy), high = 255.0f - static_cast<float>(zy);
  const __m256i vza = _mm256_set1_epi32(za), vzb = _mm256_set1_epi32(zb), vzy = _mm256_set1_epi32(zy);
  const __m256 vsa = _mm256_set1_ps(sa), vsb = _mm256_set1_ps(sb), vsy = _mm256_set1_ps(sy);
  const __m256 vlow = _mm256_set1_ps(low), vhigh = _mm256_set1_ps(high), zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 f = _mm256_add_ps(dequantize8(a + i, vza, vsa), dequantize8(b + i, vzb, vsb));
    if (relu) f = _mm256_max_ps(f, zero);
    __m256 v = _mm256_min_ps(vhigh, _mm256_max_ps(vlow, _mm256_div_ps(f, vsy)));
    v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), vzy);
    __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), _mm_packus_epi16(w16, w16));
  }
  for (; i < n; ++i) {
    float fa = static_cast<float>(static_cast<int32_t>(a[i]) - za) * sa;
    float fb = static_cast<float>(static_cast<int32_t>(b[i]) - zb) * sb;
    asm("" : "+x"(fa), "+x"(fb));
    float f = fa + fb;
    if (relu) f = std::max(f, 0.0f);
    float v = std::min(high, std::max(low, f / sy));
    y[i] = static_cast<uint8_t>(static_cast<int32_t>(std::nearbyint(v)) + zy);
  }
}

}  // namespace xinrt
