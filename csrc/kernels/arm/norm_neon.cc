// NEON inner loops of norm.cc: BatchNormalization's per-channel affine map and one
// LayerNormalization row (mean and variance summed in float64 lanes, as the baseline does).
// Plain: raw pointers only.
#include <arm_neon.h>

#include <cmath>
#include <cstdint>

namespace xinrt {

// y[i] = x[i] * a + b.
void scale_shift_f32_neon(const float* x, float* y, int64_t n, float a, float b) {
  const float32x4_t vb = vdupq_n_f32(b);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    vst1q_f32(y + i, vfmaq_n_f32(vb, vld1q_f32(x + i), a));
    vst1q_f32(y + i + 4, vfmaq_n_f32(vb, vld1q_f32(x + i + 4), a));
  }
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vb, vld1q_f32(x + i), a));
  for (; i < n; ++i) y[i] = x[i] * a + b;
}

static inline float64x2_t widen_lo(float32x4_t v) { return vcvt_f64_f32(vget_low_f32(v)); }

// y = (x - mean) / sqrt(var + eps) * scale + bias over one row of n values.
void layer_norm_row_neon(const float* x, const float* scale, const float* bias, float* y, int64_t n, float eps) {
  float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vld1q_f32(x + i);
    s0 = vaddq_f64(s0, widen_lo(v));
    s1 = vaddq_f64(s1, vcvt_high_f64_f32(v));
  }
  double sum = vaddvq_f64(vaddq_f64(s0, s1));
  for (; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / n);
  const float32x4_t vmean = vdupq_n_f32(mean);
  s0 = vdupq_n_f64(0.0);
  s1 = s0;
  for (i = 0; i + 4 <= n; i += 4) {
    float32x4_t d = vsubq_f32(vld1q_f32(x + i), vmean);
    float64x2_t lo = widen_lo(d), hi = vcvt_high_f64_f32(d);
    s0 = vfmaq_f64(s0, lo, lo);
    s1 = vfmaq_f64(s1, hi, hi);
  }
  double sq = vaddvq_f64(vaddq_f64(s0, s1));
  for (; i < n; ++i) {
    float d = x[i] - mean;
    sq += static_cast<double>(d) * d;
  }
  const float inv = 1.0f / std::sqrt(static_cast<float>(sq / n) + eps);
  const float32x4_t vinv = vdupq_n_f32(inv);
  for (i = 0; i + 4 <= n; i += 4) {
    float32x4_t t = vmulq_f32(vmulq_f32(vsubq_f32(vld1q_f32(x + i), vmean), vinv), vld1q_f32(scale + i));
    vst1q_f32(y + i, vaddq_f32(t, vld1q_f32(bias + i)));
  }
  for (; i < n; ++i) y[i] = (x[i] - mean) * inv * scale[i] + bias[i];
}

}  // namespace xinrt
