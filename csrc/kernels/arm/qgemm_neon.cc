// NEON integer GEMM: int16 operands and widening multiply-accumulate (smlal), exact for every
// u8/s8 pair (int16 x int16 products into int32 lanes).
#include <arm_neon.h>

#include "kernels/qgemm_kernels.h"

namespace xinrt {
namespace qgemm_detail {

// tile[i][0:16] = sum_k A(i, k) * B(k, 0:16); a B panel row is 16 int16 values.
void qgemm_kernel_4x16_neon(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                            int32_t* tile) {
  const int16_t* b = static_cast<const int16_t*>(b_panel);
  const int16_t* ar[4];
  // Rows past mr read row 0 again (valid memory) and are never stored.
  for (int i = 0; i < 4; ++i)
    ar[i] = reinterpret_cast<const int16_t*>(static_cast<const char*>(a) + (i < mr ? i : 0) * lda_bytes);
  int32x4_t c[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) c[i][j] = vdupq_n_s32(0);
  for (int64_t k = 0; k < kgroups; ++k) {
    int16x8_t bl = vld1q_s16(b + k * 16), bh = vld1q_s16(b + k * 16 + 8);
    for (int i = 0; i < 4; ++i) {
      int16_t av = ar[i][k];
      c[i][0] = vmlal_n_s16(c[i][0], vget_low_s16(bl), av);
      c[i][1] = vmlal_high_n_s16(c[i][1], bl, av);
      c[i][2] = vmlal_n_s16(c[i][2], vget_low_s16(bh), av);
      c[i][3] = vmlal_high_n_s16(c[i][3], bh, av);
    }
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < 4; ++j) vst1q_s32(tile + i * 16 + j * 4, c[i][j]);
}

}  // namespace qgemm_detail
}  // namespace xinrt
