// gemv.h's panel kernel for the 16-column panels of the AVX2 SGEMM (gemv_simd.h over simd_avx2.h).
#include "kernels/gemv.h"
#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/gemv_simd.h"

namespace xinrt {

void gemv_panels_avx2(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                      const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  gemv_panels<Avx2>(a, lda, M, K, N, pb, bias, y, ldy, p0, p1);
}

}  // namespace xinrt
