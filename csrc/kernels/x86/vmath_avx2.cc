// AVX2/FMA exp and erf (8 lanes). Kept in step with vmath_avx512.cc: same polynomials.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/vmath.h"
#include "kernels/x86/exp_avx2.h"

namespace xinrt {
namespace {

// erf: |x| < 0.875: x + x * P(x^2) (the Taylor series, 12 terms); 0.875 <= |x| < 3.9192:
// 1 - exp(Q(|x|)) with Q a degree-9 fit of log(erfc); beyond, erf rounds to +-1. NaN stays NaN.
inline __m256 erf256(__m256 x) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  __m256 sign = _mm256_and_ps(x, sign_mask);
  __m256 t = _mm256_andnot_ps(sign_mask, x);
  __m256 s = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-1.2290555e-09f);
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.4807193e-08f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-1.6365844e-07f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.6462114e-06f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-1.4925650e-05f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.2055333e-04f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-8.5483270e-04f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(5.2239778e-03f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-2.6866172e-02f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.1283792e-01f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-3.7612638e-01f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.2837917e-01f));
  __m256 small = _mm256_fmadd_ps(p, x, x);
  __m256 tc = _mm256_min_ps(t, _mm256_set1_ps(3.92f));
  __m256 q = _mm256_set1_ps(-3.1137495e-09f);
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(1.6914061e-06f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(-4.6392099e-05f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(5.9733010e-04f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(-4.7559123e-03f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(2.6398428e-02f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(-1.1002314e-01f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(-6.3190180e-01f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(-1.1301812e+00f));
  q = _mm256_fmadd_ps(q, tc, _mm256_set1_ps(3.0549182e-04f));
  __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.0f), exp256(q));
  big = _mm256_blendv_ps(big, _mm256_set1_ps(1.0f), _mm256_cmp_ps(t, _mm256_set1_ps(3.9192058f), _CMP_GE_OQ));
  big = _mm256_or_ps(big, sign);
  return _mm256_blendv_ps(small, big, _mm256_cmp_ps(t, _mm256_set1_ps(0.875f), _CMP_GE_OQ));
}

}  // namespace

void erf_f32_avx2(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, erf256(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float buf[8] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    _mm256_storeu_ps(buf, erf256(_mm256_loadu_ps(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

void gelu_erf_f32_avx2(const float* x, float* y, int64_t n, float div, float add, float mul) {
  const __m256 vd = _mm256_set1_ps(div), va = _mm256_set1_ps(add), vm = _mm256_set1_ps(mul);
  auto gelu = [&](__m256 v) {
    __m256 e = erf256(_mm256_div_ps(v, vd));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_add_ps(e, va), v), vm);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, gelu(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float buf[8] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    _mm256_storeu_ps(buf, gelu(_mm256_loadu_ps(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

float exp_shift_sum_f32_avx2(const float* x, float* y, int64_t n, float shift) {
  const __m256 vs = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
    _mm256_storeu_ps(y + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, acc);
  float sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
  for (; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

}  // namespace xinrt
