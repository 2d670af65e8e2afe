// The AVX2/FMA lane primitives that the shared SIMD templates (simd_math.h, gemv_simd.h) are
// written over: 8 float lanes, masks as all-ones lanes. Include only from files compiled with
// -mavx2 -mfma; everything has internal linkage, one copy per such file.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xinrt {
namespace {

struct Avx2 {
  using V = __m256;
  using Mask = __m256;
  static constexpr int kLanes = 8;

  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  // The first n (< kLanes) floats; the other lanes are zero.
  static V load_partial(const float* p, int64_t n) {
    alignas(32) float buf[8] = {};
    for (int64_t j = 0; j < n; ++j) buf[j] = p[j];
    return _mm256_load_ps(buf);
  }
  static void store_partial(float* p, V v, int64_t n) {
    alignas(32) float buf[8];
    _mm256_store_ps(buf, v);
    for (int64_t j = 0; j < n; ++j) p[j] = buf[j];
  }
  // p[0:n] += the first n lanes of v, masked (nothing else is read or written); n <= 0 and
  // n >= kLanes mean none and all.
  static void add_first(float* p, V v, int n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(p, m, _mm256_add_ps(_mm256_maskload_ps(p, m), v));
  }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V zero() { return _mm256_setzero_ps(); }

  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }    // a * b + c
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a * b
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }

  static V sign_bits(V x) { return _mm256_and_ps(x, _mm256_set1_ps(-0.0f)); }
  static V abs(V x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  static V or_bits(V a, V b) { return _mm256_or_ps(a, b); }

  static Mask lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static Mask ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static Mask is_nan(V x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }
  static V select(Mask m, V if_true, V if_false) { return _mm256_blendv_ps(if_false, if_true, m); }

  static V round_nearest(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integral n in [-127, 128] given as floats (the exponent field built directly).
  static V pow2(V n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  // The lanes' sum, pairwise in a fixed order (softmax rows must not depend on the caller).
  static float reduce_add(V v) {
    alignas(32) float l[8];
    _mm256_store_ps(l, v);
    return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
  }
};

}  // namespace
}  // namespace xinrt
