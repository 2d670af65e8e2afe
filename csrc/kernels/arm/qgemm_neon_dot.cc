// ARMv8.2 dot-product integer GEMM: sdot multiplies s8 by s8 in groups of four into int32 lanes
// (exact); qgemm.cc stores uint8 operands XOR 0x80 and moves their zero points by -128.
#include <arm_neon.h>

#include <cstring>

#include "kernels/qgemm_kernels.h"

namespace xinrt {
namespace qgemm_detail {

// tile[i][0:16] = sum_g A(i, 4g..4g+3) . B(4g..4g+3, 0:16); a B group is 16 columns x 4 bytes.
void qgemm_kernel_4x16_neon_dot(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                                int32_t* tile) {
  const int8_t* b = static_cast<const int8_t*>(b_panel);
  const char* ar[4];
  // Rows past mr read row 0 again (valid memory) and are never stored.
  for (int i = 0; i < 4; ++i) ar[i] = static_cast<const char*>(a) + (i < mr ? i : 0) * lda_bytes;
  int32x4_t c[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) c[i][j] = vdupq_n_s32(0);
  for (int64_t g = 0; g < kgroups; ++g) {
    int8x16_t b0 = vld1q_s8(b + g * 64), b1 = vld1q_s8(b + g * 64 + 16);
    int8x16_t b2 = vld1q_s8(b + g * 64 + 32), b3 = vld1q_s8(b + g * 64 + 48);
    for (int i = 0; i < 4; ++i) {
      int32_t v;
      std::memcpy(&v, ar[i] + g * 4, 4);
      int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(v));
      c[i][0] = vdotq_s32(c[i][0], b0, av);
      c[i][1] = vdotq_s32(c[i][1], b1, av);
      c[i][2] = vdotq_s32(c[i][2], b2, av);
      c[i][3] = vdotq_s32(c[i][3], b3, av);
    }
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < 4; ++j) vst1q_s32(tile + i * 16 + j * 4, c[i][j]);
}

}  // namespace qgemm_detail
}  // namespace xinrt
