// NEON 8x12 SGEMM micro-kernel, float dot product and axpy (plain: raw pointers only).
// Advanced SIMD is part of every ARMv8-A core, so this file needs no extra compiler flags.
//
// 8x12 fits AArch64's 32 vector registers: 24 accumulators (8 rows x 3 quads of columns),
// 3 registers of B and 2 of A per k step, with lane-indexed FMAs (fmla v.4s, v.4s, v.s[i])
// so A needs no broadcast.
#include <arm_neon.h>

#include <cstdint>

namespace xinrt {

void sgemm_kernel_8x12_neon(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                            int nr, bool accumulate) {
  float32x4_t c00 = vdupq_n_f32(0), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  float32x4_t c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
  float32x4_t c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
  for (int64_t k = 0; k < kc; ++k) {
    float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
    float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    c00 = vfmaq_laneq_f32(c00, b0, a0, 0);
    c01 = vfmaq_laneq_f32(c01, b1, a0, 0);
    c02 = vfmaq_laneq_f32(c02, b2, a0, 0);
    c10 = vfmaq_laneq_f32(c10, b0, a0, 1);
    c11 = vfmaq_laneq_f32(c11, b1, a0, 1);
    c12 = vfmaq_laneq_f32(c12, b2, a0, 1);
    c20 = vfmaq_laneq_f32(c20, b0, a0, 2);
    c21 = vfmaq_laneq_f32(c21, b1, a0, 2);
    c22 = vfmaq_laneq_f32(c22, b2, a0, 2);
    c30 = vfmaq_laneq_f32(c30, b0, a0, 3);
    c31 = vfmaq_laneq_f32(c31, b1, a0, 3);
    c32 = vfmaq_laneq_f32(c32, b2, a0, 3);
    c40 = vfmaq_laneq_f32(c40, b0, a1, 0);
    c41 = vfmaq_laneq_f32(c41, b1, a1, 0);
    c42 = vfmaq_laneq_f32(c42, b2, a1, 0);
    c50 = vfmaq_laneq_f32(c50, b0, a1, 1);
    c51 = vfmaq_laneq_f32(c51, b1, a1, 1);
    c52 = vfmaq_laneq_f32(c52, b2, a1, 1);
    c60 = vfmaq_laneq_f32(c60, b0, a1, 2);
    c61 = vfmaq_laneq_f32(c61, b1, a1, 2);
    c62 = vfmaq_laneq_f32(c62, b2, a1, 2);
    c70 = vfmaq_laneq_f32(c70, b0, a1, 3);
    c71 = vfmaq_laneq_f32(c71, b1, a1, 3);
    c72 = vfmaq_laneq_f32(c72, b2, a1, 3);
    a += 8;
    b += 12;
  }
  float32x4_t acc[24] = {c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32,
                         c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72};
  if (mr == 8 && nr == 12) {
    for (int r = 0; r < 8; ++r) {
      float* row = c + r * ldc;
      for (int q = 0; q < 3; ++q) {
        float32x4_t v = acc[3 * r + q];
        if (accumulate) v = vaddq_f32(v, vld1q_f32(row + 4 * q));
        vst1q_f32(row + 4 * q, v);
      }
    }
    return;
  }
  float tile[8 * 12];
  for (int r = 0; r < 8; ++r)
    for (int q = 0; q < 3; ++q) vst1q_f32(tile + r * 12 + 4 * q, acc[3 * r + q]);
  for (int r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + tile[r * 12 + j] : tile[r * 12 + j];
  }
}

float dot_f32_neon(const float* a, const float* b, int64_t n) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  float total = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

void axpy_f32_neon(float* y, const float* x, float a, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    vst1q_f32(y + i + 4, vfmaq_n_f32(vld1q_f32(y + i + 4), vld1q_f32(x + i + 4), a));
  }
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
  for (; i < n; ++i) y[i] += x[i] * a;
}

}  // namespace xinrt
