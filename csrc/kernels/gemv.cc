#include "kernels/gemv.h"

#include <algorithm>

#include "kernels/sgemm.h"

namespace xinrt {
namespace {

template <int NR, int M>
void panel_rows(const float* a, int64_t lda, int64_t K, int64_t Npad, const float* pb, int64_t j,
                const float* bias, float* y, int64_t ldy, int64_t w) {
  float acc[M][NR];
  for (int m = 0; m < M; ++m)
    for (int t = 0; t < NR; ++t) acc[m][t] = (bias && t < w) ? bias[j + t] : 0.0f;
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    const int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
    const float* bp = pb + pc * Npad + j * kc;
    for (int64_t k = 0; k < kc; ++k) {
      const float* row = bp + k * NR;
      for (int m = 0; m < M; ++m) {
        const float av = a[m * lda + pc + k];
        for (int t = 0; t < NR; ++t) acc[m][t] += av * row[t];
      }
    }
  }
  for (int m = 0; m < M; ++m)
    for (int64_t t = 0; t < w; ++t) y[m * ldy + j + t] = acc[m][t];
}

template <int NR>
void panels(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb, const float* bias,
            float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t Npad = (N + NR - 1) / NR * NR;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t j = p * NR, w = std::min<int64_t>(NR, N - j);
    switch (M) {
      case 1: panel_rows<NR, 1>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 2: panel_rows<NR, 2>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 3: panel_rows<NR, 3>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      default: panel_rows<NR, 4>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
    }
  }
}

}  // namespace

void gemv_panels_baseline16(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                            const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  panels<16>(a, lda, M, K, N, pb, bias, y, ldy, p0, p1);
}

// aarch64: the NEON SGEMM's 12-column panels (NEON is the baseline there, so the compiler
// vectorizes this loop with it).
void gemv_panels_baseline12(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                            const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  panels<12>(a, lda, M, K, N, pb, bias, y, ldy, p0, p1);
}

}  // namespace xinrt
