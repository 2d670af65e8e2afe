// bf16 GEMM with fp32 sums: SessionOptions.precision "bf16" on CPUs with AVX512_BF16.
//
// C[M, N] = A[M, K] * B[K, N] (+ the GemmEpilogue) where A and B are first rounded to bf16
// (nearest even) and vdpbf16ps sums their products in fp32. Both operands are stored as
// 32-bit words holding a pair of bf16 values at consecutive k (k even in the low half): A, the
// weights, once at plan time in MR-row panels; B, the activations, as each task packs the
// KC x NC block it multiplies next into NR-column panels. K is padded to even with zeros.
// C stays fp32.
#pragma once

#include <cstdint>
#include <memory>

#include "core/thread_pool.h"
#include "kernels/sgemm.h"

namespace xinrt {

constexpr int kSbgemmMR = 12;   // rows of A per micro-kernel call (24 zmm accumulators)
constexpr int kSbgemmNR = 32;   // columns of B per micro-kernel call (two zmm of 16)
constexpr int kSbgemmKC = 256;  // k per block (even): a 16 KB B panel block stays in L1

// fp32 -> bf16 rounded to nearest even, denormals to zero (what vcvtne2ps2bf16 computes).
uint16_t float_to_bf16(float x);
float bf16_to_float(uint16_t h);

// A(m, k) = a[m * lda + k], packed for sbgemm: round_up(M, MR) * ceil(K / 2) words.
std::shared_ptr<uint32_t> pack_a_bf16(const float* a, int64_t lda, int64_t M, int64_t K);

// C = A * B with B(k, n) = b[row_offsets[k] + n]: every row of B is a contiguous run of N
// floats somewhere in b (im2col rows, a 1x1 convolution's input planes). Needs
// simd >= kSimdAvx512Bf16 (callers check; throws KernelError if not).
void sbgemm_rows(int64_t M, int64_t N, int64_t K, const uint32_t* packed_a, const float* b,
                 const int64_t* row_offsets, float* c, int64_t ldc, ThreadPool* pool, int simd,
                 const GemmEpilogue* epilogue = nullptr);

// A stride-1 convolution read straight from its unpadded input x (planes in_h x in_w): B's row
// k is tap (channel, ki, kj) with row_offsets[k] = channel * in_h * in_w, and B(k, n) for output
// n = (oh, ow) (out_w columns) is x[row_offsets[k] + (oh + row_dy[k]) * in_w + ow + row_dx[k]],
// zero where that lies outside the plane (the padding). Needs simd >= kSimdAvx512Bf16.
void sbgemm_conv_rows(int64_t M, int64_t N, int64_t K, const uint32_t* packed_a, const float* x,
                      const int64_t* row_offsets, const int32_t* row_dy, const int32_t* row_dx, int64_t out_w,
                      int64_t in_h, int64_t in_w, float* c, int64_t ldc, ThreadPool* pool, int simd,
                      const GemmEpilogue* epilogue);

// The weights as the right operand instead (MatMul): W[K, N] (W(k, n) = w[k * ldw + n]) packed
// once in NR-column panels of K pairs, for sbgemm_packed_b.
std::shared_ptr<uint32_t> pack_b_bf16(const float* w, int64_t ldw, int64_t K, int64_t N);

// C[M, N] = A[M, K] * W + column_bias[n] (optional) with W from pack_b_bf16; A (row stride lda,
// the activations) is rounded and packed per call. Needs simd >= kSimdAvx512Bf16.
void sbgemm_packed_b(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const uint32_t* packed_w,
                     const float* column_bias, float* c, int64_t ldc, ThreadPool* pool, int simd);

// The AVX512_BF16 parts (kernels/x86/sbgemm_avx512bf16.cc).
// c[r * ldc + j] (+)= sum_p a[p * MR + r] . b[p * NR + j] over `pairs` k pairs, r < mr, j < nr;
// when `last` (the last K block) then + bias[r] + column_bias[j] + residual[r * ldc + j] (each
// optional, pointing at this call's first row / column / element) and max(0, .) if relu.
void sbgemm_kernel_12x32_avx512bf16(int64_t pairs, const uint32_t* a, const uint32_t* b, float* c,
                                    int64_t ldc, int mr, int nr, bool accumulate, const float* bias,
                                    const float* column_bias, const float* residual, bool relu, bool last);
// One NR-column panel of B as sbgemm_conv_rows reads it (columns n0 .. n0 + w, rows 0 .. K).
void sbgemm_pack_b_conv_panel_avx512bf16(const float* x, const int64_t* row_offsets, const int32_t* row_dy,
                                         const int32_t* row_dx, int64_t K, int64_t n0, int w, int64_t out_w,
                                         int64_t in_h, int64_t in_w, uint32_t* out);
// One MR-row panel of A (rows <= MR of K floats, row stride lda; missing rows zero), rounded.
void sbgemm_pack_a_panel_avx512bf16(const float* a, int64_t lda, int rows, int64_t K, uint32_t* out);
// One NR-column panel of B (as sbgemm_rows reads it): columns n0 .. n0 + w (w <= NR; the rest
// zero) of rows 0 .. K, rows k and k + 1 rounded and interleaved into word p = k / 2 (a missing
// last row is zero).
void sbgemm_pack_b_panel_avx512bf16(const float* b, const int64_t* row_offsets, int64_t K, int64_t n0,
                                    int w, uint32_t* out);

}  // namespace xinrt
