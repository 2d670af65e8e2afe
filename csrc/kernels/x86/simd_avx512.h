// The AVX-512F lane primitives that the shared SIMD templates (simd_math.h, gemv_simd.h) are
// written over: 16 float lanes, masks as __mmask16. Include only from files compiled with
// -mavx512f; everything has internal linkage, one copy per such file.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xinrt {
namespace {

struct Avx512 {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;

  static Mask first(int64_t n) { return n >= 16 ? Mask(0xFFFF) : static_cast<Mask>((1u << n) - 1u); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  // The first n (< kLanes) floats; the other lanes are zero (masked: nothing past p + n is read).
  static V load_partial(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static void store_partial(float* p, V v, int64_t n) { _mm512_mask_storeu_ps(p, first(n), v); }
  // p[0:n] += the first n (0 <= n <= kLanes) lanes of v, masked.
  static void add_first(float* p, V v, int n) {
    const Mask m = static_cast<Mask>((1u << n) - 1u);
    _mm512_mask_storeu_ps(p, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, p), v));
  }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V zero() { return _mm512_setzero_ps(); }

  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }    // a * b + c
  static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a * b
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }

  // AVX-512F has no float and/or (that is DQ): through the integer forms.
  static V sign_bits(V x) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
  }
  static V abs(V x) { return _mm512_abs_ps(x); }
  static V or_bits(V a, V b) {
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)));
  }

  static Mask lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static Mask ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static Mask is_nan(V x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }
  static V select(Mask m, V if_true, V if_false) { return _mm512_mask_blend_ps(m, if_false, if_true); }

  static V round_nearest(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integral n in [-127, 128] given as floats (the exponent field built directly).
  static V pow2(V n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
};

}  // namespace
}  // namespace xinrt
