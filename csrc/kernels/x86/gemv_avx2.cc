// gemv.h's panel kernel for the 16-column panels of the AVX2 SGEMM.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/gemv.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

template <int M>
void panel_rows(const float* a, int64_t lda, int64_t K, int64_t Npad, const float* pb, int64_t j,
                const float* bias, float* y, int64_t ldy, int64_t w) {
  __m256 acc0[M], acc1[M];
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (bias) {
    alignas(32) float tmp[16] = {};
    std::memcpy(tmp, bias + j, sizeof(float) * w);
    b0 = _mm256_load_ps(tmp);
    b1 = _mm256_load_ps(tmp + 8);
  }
  for (int m = 0; m < M; ++m) {
    acc0[m] = b0;
    acc1[m] = b1;
  }
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    const int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
    const float* bp = pb + pc * Npad + j * kc;
    const float* ak = a + pc;
    for (int64_t k = 0; k < kc; ++k) {
      const __m256 r0 = _mm256_loadu_ps(bp + k * 16), r1 = _mm256_loadu_ps(bp + k * 16 + 8);
      for (int m = 0; m < M; ++m) {
        const __m256 av = _mm256_broadcast_ss(ak + m * lda + k);
        acc0[m] = _mm256_fmadd_ps(av, r0, acc0[m]);
        acc1[m] = _mm256_fmadd_ps(av, r1, acc1[m]);
      }
    }
  }
  for (int m = 0; m < M; ++m) {
    if (w == 16) {
      _mm256_storeu_ps(y + m * ldy + j, acc0[m]);
      _mm256_storeu_ps(y + m * ldy + j + 8, acc1[m]);
    } else {
      alignas(32) float tmp[16];
      _mm256_store_ps(tmp, acc0[m]);
      _mm256_store_ps(tmp + 8, acc1[m]);
      std::memcpy(y + m * ldy + j, tmp, sizeof(float) * w);
    }
  }
}

}  // namespace

void gemv_panels_avx2(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                      const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t Npad = (N + 15) / 16 * 16;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t j = p * 16, w = std::min<int64_t>(16, N - j);
    switch (M) {
      case 1: panel_rows<1>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 2: panel_rows<2>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 3: panel_rows<3>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      default: panel_rows<4>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
    }
  }
}

}  // namespace xinrt
