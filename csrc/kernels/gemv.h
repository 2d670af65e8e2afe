// Few-row products against MatMul's packed weight panels (decoders, batch-1 steps).
//
// MatMul packs a constant B[K, N] once into NR-column panels per kGemmKC block (block pc at
// pc * Npad, panel p of a block at p * kc * NR). A GEMM of M <= 4 rows through the MR-row
// micro-kernel would compute MR rows (up to 12) for every row it keeps; these kernels read each
// panel once and multiply it with all M rows instead, streaming the weights.
//
// y[m, p*NR : p*NR + w] = bias (or 0) + a[m, :] . B  for panels p in [p0, p1), m < M <= 4.
#pragma once

#include <cstdint>

namespace xinrt {

constexpr int kGemvMaxRows = 4;

void gemv_panels_baseline16(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                            const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1);
void gemv_panels_baseline12(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                            const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1);
void gemv_panels_avx2(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                      const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1);  // NR 16
void gemv_panels_avx512(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb,
                        const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1);  // NR 32

}  // namespace xinrt
