// NEON row kernel of the depthwise convolution (conv.cc pads each input plane first, so no tap
// needs a bounds check). The counterpart of x86/depthwise_avx512.cc, 8 outputs per step in two
// quads. Plain: raw pointers, no STL.
#include <arm_neon.h>

#include <cstdint>

namespace xinrt {

// Four outputs x[0], x[s], x[2s], x[3s]; stride 2 de-interleaves with ld2 instead of a gather.
static inline float32x4_t load4_strided(const float* x, int64_t s) {
  if (s == 1) return vld1q_f32(x);
  if (s == 2) {
    // ld2 reads 8 floats; the 8th (x[7]) lies past x[6] = the last tap of this quad. Load the
    // pairs the quad needs without touching x[7], which may be past the padded plane.
    float32x2x2_t lo = vld2_f32(x);           // x[0..3]
    float32x2_t hi = {x[4], x[6]};
    return vcombine_f32(lo.val[0], hi);
  }
  float32x4_t v = vdupq_n_f32(x[0]);
  v = vsetq_lane_f32(x[s], v, 1);
  v = vsetq_lane_f32(x[2 * s], v, 2);
  v = vsetq_lane_f32(x[3 * s], v, 3);
  return v;
}

// y[ow] = bias + sum_{ki, kj} w[ki * k_w + kj] * x[ki * d_h * wp + ow * s_w + kj * d_w] for
// ow < out_w (then max(y, 0) if relu); x points at the padded input row of this output row.
void depthwise_row_neon(const float* x, int64_t wp, const float* w, int64_t k_h, int64_t k_w, int64_t s_w,
                        int64_t d_h, int64_t d_w, float bias, bool relu, float* y, int64_t out_w) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  int64_t ow = 0;
  for (; ow + 8 <= out_w; ow += 8) {
    float32x4_t acc0 = vdupq_n_f32(bias), acc1 = acc0;
    for (int64_t ki = 0; ki < k_h; ++ki) {
      const float* row = x + ki * d_h * wp + ow * s_w;
      for (int64_t kj = 0; kj < k_w; ++kj) {
        float wv = w[ki * k_w + kj];
        const float* t = row + kj * d_w;
        acc0 = vfmaq_n_f32(acc0, load4_strided(t, s_w), wv);
        acc1 = vfmaq_n_f32(acc1, load4_strided(t + 4 * s_w, s_w), wv);
      }
    }
    if (relu) {
      acc0 = vmaxq_f32(acc0, zero);
      acc1 = vmaxq_f32(acc1, zero);
    }
    vst1q_f32(y + ow, acc0);
    vst1q_f32(y + ow + 4, acc1);
  }
  for (; ow + 4 <= out_w; ow += 4) {
    float32x4_t acc = vdupq_n_f32(bias);
    for (int64_t ki = 0; ki < k_h; ++ki) {
      const float* row = x + ki * d_h * wp + ow * s_w;
      for (int64_t kj = 0; kj < k_w; ++kj) acc = vfmaq_n_f32(acc, load4_strided(row + kj * d_w, s_w), w[ki * k_w + kj]);
    }
    if (relu) acc = vmaxq_f32(acc, zero);
    vst1q_f32(y + ow, acc);
  }
  for (; ow < out_w; ++ow) {  // the last < 4 outputs, in the same tap order
    float acc = bias;
    for (int64_t ki = 0; ki < k_h; ++ki)
      for (int64_t kj = 0; kj < k_w; ++kj) acc = __builtin_fmaf(w[ki * k_w + kj], x[ki * d_h * wp + ow * s_w + kj * d_w], acc);
    y[ow] = relu && acc < 0.0f ? 0.0f : acc;
  }
}

}  // namespace xinrt
