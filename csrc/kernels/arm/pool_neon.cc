// NEON inner loops of pool.cc. Every lane does the scalar loop's own compare-and-select or add,
// in the same order per element, so MaxPool/AveragePool results equal the baseline's exactly;
// GlobalAveragePool sums in float64 lanes as the baseline does (only the summation order
// differs). Plain: raw pointers only.
#include <arm_neon.h>

#include <cstdint>

namespace xinrt {

// v[i] = row[i] > v[i] ? row[i] : v[i] (a NaN in row never wins, as in the scalar loop).
void pool_rows_max_neon(float* v, const float* row, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t r = vld1q_f32(row + i), c = vld1q_f32(v + i);
    vst1q_f32(v + i, vbslq_f32(vcgtq_f32(r, c), r, c));
  }
  for (; i < n; ++i) v[i] = row[i] > v[i] ? row[i] : v[i];
}

void pool_rows_add_neon(float* v, const float* row, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(v + i, vaddq_f32(vld1q_f32(v + i), vld1q_f32(row + i)));
  for (; i < n; ++i) v[i] += row[i];
}

// Four taps t[0], t[s], t[2s], t[3s] (stride 2 de-interleaves; t[7] is never read).
static inline float32x4_t taps4(const float* t, int64_t s) {
  if (s == 1) return vld1q_f32(t);
  if (s == 2) {
    float32x2x2_t lo = vld2_f32(t);
    float32x2_t hi = {t[4], t[6]};
    return vcombine_f32(lo.val[0], hi);
  }
  float32x4_t v = vdupq_n_f32(t[0]);
  v = vsetq_lane_f32(t[s], v, 1);
  v = vsetq_lane_f32(t[2 * s], v, 2);
  return vsetq_lane_f32(t[3 * s], v, 3);
}

// y[i] = max(y[i], t[i * s]) / y[i] += t[i * s] for i < n: one kernel column tap over a row.
void pool_taps_max_neon(float* y, const float* t, int64_t s, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t e = taps4(t + i * s, s), c = vld1q_f32(y + i);
    vst1q_f32(y + i, vbslq_f32(vcgtq_f32(e, c), e, c));
  }
  for (; i < n; ++i) y[i] = t[i * s] > y[i] ? t[i * s] : y[i];
}

void pool_taps_add_neon(float* y, const float* t, int64_t s, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), taps4(t + i * s, s)));
  for (; i < n; ++i) y[i] += t[i * s];
}

// GlobalMaxPool: any NaN makes the result NaN (fmax propagates it), as in the scalar loop.
float global_max_neon(const float* x, int64_t n) {
  float32x4_t m = vdupq_n_f32(-__builtin_inff());
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) m = vmaxq_f32(m, vld1q_f32(x + i));
  float r = vmaxvq_f32(m);
  for (; i < n; ++i) r = (x[i] > r || x[i] != x[i]) ? x[i] : r;
  return r;
}

// GlobalAveragePool's sum, in float64 as the baseline keeps it.
double global_sum_neon(const float* x, int64_t n) {
  float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vld1q_f32(x + i);
    s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(v)));
    s1 = vaddq_f64(s1, vcvt_high_f64_f32(v));
  }
  double s = vaddvq_f64(vaddq_f64(s0, s1));
  for (; i < n; ++i) s += x[i];
  return s;
}

}  // namespace xinrt
