// NEON exp, erf, GELU, sigmoid and tanh (4 lanes). exp and erf use the polynomials of
// x86/vmath_avx2.cc, so the accuracy vmath.h states holds here too.
#include <arm_neon.h>

#include <cmath>
#include <cstdint>

#include "kernels/vmath.h"

namespace xinrt {
namespace {

inline float32x4_t splat(float v) { return vdupq_n_f32(v); }

// exp(x): 2^n * e^r with |r| <= ln2/2 and a degree-7 Taylor polynomial (truncation < 6e-9
// relative). 2^n is applied as two factors 2^(n>>1) * 2^(n - (n>>1)), each a normal float, so
// results that are denormal (down to x = -103.9) or overflow to inf (x > 88.72) come out as
// std::exp gives them; below -103.9 the result is 0. NaN stays NaN.
inline float32x4_t exp4(float32x4_t x) {
  const float32x4_t hi = splat(89.0f), lo = splat(-104.0f);
  uint32x4_t under = vcltq_f32(x, lo);
  float32x4_t xc = vminq_f32(vmaxq_f32(x, lo), hi);  // NaN propagates through fmin/fmax
  float32x4_t n = vrndnq_f32(vmulq_f32(xc, splat(1.44269504f)));
  float32x4_t r = vfmsq_f32(xc, n, splat(0.693145752f));
  r = vfmsq_f32(r, n, splat(1.42860677e-6f));
  float32x4_t p = splat(1.0f / 5040);
  p = vfmaq_f32(splat(1.0f / 720), p, r);
  p = vfmaq_f32(splat(1.0f / 120), p, r);
  p = vfmaq_f32(splat(1.0f / 24), p, r);
  p = vfmaq_f32(splat(1.0f / 6), p, r);
  p = vfmaq_f32(splat(0.5f), p, r);
  p = vfmaq_f32(splat(1.0f), p, r);
  p = vfmaq_f32(splat(1.0f), p, r);
  int32x4_t ni = vcvtq_s32_f32(n);
  int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
  float32x4_t e1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
  float32x4_t e2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
  float32x4_t y = vmulq_f32(vmulq_f32(p, e1), e2);
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(y), under));
}

// erf as in vmath_avx2.cc: |x| < 0.875: x + x * P(x^2); 0.875 <= |x| < 3.9192: 1 - exp(Q(|x|));
// beyond, +-1. NaN stays NaN.
inline float32x4_t erf4(float32x4_t x) {
  const uint32x4_t sign_mask = vdupq_n_u32(0x80000000u);
  uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), sign_mask);
  float32x4_t t = vabsq_f32(x);
  float32x4_t s = vmulq_f32(x, x);
  float32x4_t p = splat(-1.2290555e-09f);
  p = vfmaq_f32(splat(1.4807193e-08f), p, s);
  p = vfmaq_f32(splat(-1.6365844e-07f), p, s);
  p = vfmaq_f32(splat(1.6462114e-06f), p, s);
  p = vfmaq_f32(splat(-1.4925650e-05f), p, s);
  p = vfmaq_f32(splat(1.2055333e-04f), p, s);
  p = vfmaq_f32(splat(-8.5483270e-04f), p, s);
  p = vfmaq_f32(splat(5.2239778e-03f), p, s);
  p = vfmaq_f32(splat(-2.6866172e-02f), p, s);
  p = vfmaq_f32(splat(1.1283792e-01f), p, s);
  p = vfmaq_f32(splat(-3.7612638e-01f), p, s);
  p = vfmaq_f32(splat(1.2837917e-01f), p, s);
  float32x4_t small = vfmaq_f32(x, p, x);
  float32x4_t tc = vminq_f32(t, splat(3.92f));
  float32x4_t q = splat(-3.1137495e-09f);
  q = vfmaq_f32(splat(1.6914061e-06f), q, tc);
  q = vfmaq_f32(splat(-4.6392099e-05f), q, tc);
  q = vfmaq_f32(splat(5.9733010e-04f), q, tc);
  q = vfmaq_f32(splat(-4.7559123e-03f), q, tc);
  q = vfmaq_f32(splat(2.6398428e-02f), q, tc);
  q = vfmaq_f32(splat(-1.1002314e-01f), q, tc);
  q = vfmaq_f32(splat(-6.3190180e-01f), q, tc);
  q = vfmaq_f32(splat(-1.1301812e+00f), q, tc);
  q = vfmaq_f32(splat(3.0549182e-04f), q, tc);
  float32x4_t big = vsubq_f32(splat(1.0f), exp4(q));
  big = vbslq_f32(vcgeq_f32(t, splat(3.9192058f)), splat(1.0f), big);
  big = vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(big), sign));
  return vbslq_f32(vcgeq_f32(t, splat(0.875f)), big, small);
}

// onnx.reference's two-sided sigmoid: x > 0: 1 / (1 + e^-x), else e^x / (1 + e^x).
inline float32x4_t sigmoid4(float32x4_t x) {
  float32x4_t e = exp4(vnegq_f32(vabsq_f32(x)));
  float32x4_t num = vbslq_f32(vcgtq_f32(x, splat(0.0f)), splat(1.0f), e);
  return vdivq_f32(num, vaddq_f32(splat(1.0f), e));
}

// tanh: |x| < 0.55: the odd Taylor series to x^17 (truncation < 5e-8 relative); beyond,
// sign(x) * (1 - 2 / (e^{2|x|} + 1)), which loses at most one bit to cancellation there.
inline float32x4_t tanh4(float32x4_t x) {
  float32x4_t t = vabsq_f32(x);
  float32x4_t s = vmulq_f32(x, x);
  float32x4_t p = splat(6404582.0f / 10854718875.0f);
  p = vfmaq_f32(splat(-929569.0f / 638512875.0f), p, s);
  p = vfmaq_f32(splat(21844.0f / 6081075.0f), p, s);
  p = vfmaq_f32(splat(-1382.0f / 155925.0f), p, s);
  p = vfmaq_f32(splat(62.0f / 2835.0f), p, s);
  p = vfmaq_f32(splat(-17.0f / 315.0f), p, s);
  p = vfmaq_f32(splat(2.0f / 15.0f), p, s);
  p = vfmaq_f32(splat(-1.0f / 3.0f), p, s);
  float32x4_t small = vfmaq_f32(x, vmulq_f32(p, s), x);
  float32x4_t e = exp4(vaddq_f32(t, t));  // inf for large |x|: 2 / inf = 0, tanh = 1
  float32x4_t big = vsubq_f32(splat(1.0f), vdivq_f32(splat(2.0f), vaddq_f32(e, splat(1.0f))));
  uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
  big = vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(big), sign));
  return vbslq_f32(vcgeq_f32(t, splat(0.55f)), big, small);
}

// y = f(x) over n values; the tail goes through a zero-padded quad.
template <class F>
inline void map4(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, f(vld1q_f32(x + i)));
  if (i < n) {
    float buf[4] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    vst1q_f32(buf, f(vld1q_f32(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

}  // namespace

void erf_f32_neon(const float* x, float* y, int64_t n) { map4(x, y, n, erf4); }

void gelu_erf_f32_neon(const float* x, float* y, int64_t n, float div, float add, float mul) {
  const float32x4_t vd = splat(div), va = splat(add), vm = splat(mul);
  map4(x, y, n, [&](float32x4_t v) {
    float32x4_t e = erf4(vdivq_f32(v, vd));
    return vmulq_f32(vmulq_f32(vaddq_f32(e, va), v), vm);
  });
}

float exp_shift_sum_f32_neon(const float* x, float* y, int64_t n, float shift) {
  const float32x4_t vs = splat(shift);
  float32x4_t acc0 = splat(0.0f), acc1 = acc0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float32x4_t e0 = exp4(vsubq_f32(vld1q_f32(x + i), vs));
    float32x4_t e1 = exp4(vsubq_f32(vld1q_f32(x + i + 4), vs));
    vst1q_f32(y + i, e0);
    vst1q_f32(y + i + 4, e1);
    acc0 = vaddq_f32(acc0, e0);
    acc1 = vaddq_f32(acc1, e1);
  }
  float sum = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

void exp_f32_neon(const float* x, float* y, int64_t n) { map4(x, y, n, exp4); }
void sigmoid_f32_neon(const float* x, float* y, int64_t n) { map4(x, y, n, sigmoid4); }
void tanh_f32_neon(const float* x, float* y, int64_t n) { map4(x, y, n, tanh4); }

}  // namespace xinrt
