// AVX-512F exp and erf (16 lanes). Kept in step with vmath_avx2.cc: same polynomials.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/vmath.h"
#include "kernels/x86/exp_avx512.h"

namespace xinrt {
namespace {

// erf: |x| < 0.875: x + x * P(x^2) (the Taylor series, 12 terms); 0.875 <= |x| < 3.9192:
// 1 - exp(Q(|x|)) with Q a degree-9 fit of log(erfc); beyond, erf rounds to +-1. NaN stays NaN.
inline __m512 erf512(__m512 x) {
  const __m512 sign_mask = _mm512_set1_ps(-0.0f);
  __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_castps_si512(sign_mask));
  __m512 t = _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_castps_si512(sign_mask), _mm512_castps_si512(x)));
  __m512 s = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-1.2290555e-09f);
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.4807193e-08f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-1.6365844e-07f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.6462114e-06f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-1.4925650e-05f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.2055333e-04f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-8.5483270e-04f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(5.2239778e-03f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-2.6866172e-02f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.1283792e-01f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-3.7612638e-01f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.2837917e-01f));
  __m512 small = _mm512_fmadd_ps(p, x, x);
  __m512 tc = _mm512_min_ps(t, _mm512_set1_ps(3.92f));
  __m512 q = _mm512_set1_ps(-3.1137495e-09f);
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(1.6914061e-06f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(-4.6392099e-05f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(5.9733010e-04f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(-4.7559123e-03f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(2.6398428e-02f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(-1.1002314e-01f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(-6.3190180e-01f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(-1.1301812e+00f));
  q = _mm512_fmadd_ps(q, tc, _mm512_set1_ps(3.0549182e-04f));
  __m512 big = _mm512_sub_ps(_mm512_set1_ps(1.0f), exp512(q));
  big = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, _mm512_set1_ps(3.9192058f), _CMP_GE_OQ), big, _mm512_set1_ps(1.0f));
  big = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(big), sign));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, _mm512_set1_ps(0.875f), _CMP_GE_OQ), small, big);
}

}  // namespace

void erf_f32_avx512(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, erf512(_mm512_loadu_ps(x + i)));
  if (i < n) {
    float buf[16] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    _mm512_storeu_ps(buf, erf512(_mm512_loadu_ps(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

void gelu_erf_f32_avx512(const float* x, float* y, int64_t n, float div, float add, float mul) {
  const __m512 vd = _mm512_set1_ps(div), va = _mm512_set1_ps(add), vm = _mm512_set1_ps(mul);
  auto gelu = [&](__m512 v) {
    __m512 e = erf512(_mm512_div_ps(v, vd));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_add_ps(e, va), v), vm);
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, gelu(_mm512_loadu_ps(x + i)));
  if (i < n) {
    float buf[16] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    _mm512_storeu_ps(buf, gelu(_mm512_loadu_ps(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

float exp_shift_sum_f32_avx512(const float* x, float* y, int64_t n, float shift) {
  const __m512 vs = _mm512_set1_ps(shift);
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), vs));
    _mm512_storeu_ps(y + i, e);
    acc = _mm512_add_ps(acc, e);
  }
  float sum = _mm512_reduce_add_ps(acc);
  for (; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

}  // namespace xinrt
