// Packed single-precision GEMM shared by MatMul, Gemm and Conv.
//
// C[M, N] (+)= packedA[M, K] * B[K, N]. A is packed once (weights at plan time) into MR-row
// panels per KC block; B is packed per task into NR-column panels (or, where the level has a
// store-kernel, a row-major B is read in place). Tasks are MC x NC output
// tiles spread over the thread pool. MR/NR depend on the SimdLevel's micro-kernel, so A must
// be packed for the same level that runs the GEMM.
#pragma once

#include <cstdint>
#include <memory>

#include "core/simd_level.h"
#include "core/thread_pool.h"

namespace xinrt {

// K is summed in blocks of 128, each an FMA chain from zero added to C in order: MLAS's SGEMM
// StrideK, so a float Conv or MatMul that ORT leaves unfused in a QDQ model rounds as ORT's.
constexpr int kGemmKC = 128;

// Floats needed for a packed M x K matrix at this SimdLevel.
size_t packed_a_size(int64_t M, int64_t K, int simd);
// Packs alpha * A where A(m, k) = trans ? a[k * lda + m] : a[m * lda + k].
void pack_a(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha, float* packed, int simd);
std::shared_ptr<float> pack_a_new(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha,
                                  int simd);

// Work folded into each output tile while it is in cache (instead of extra passes over C):
// C starts as residual + bias[row] (either optional) and gets max(C, 0) at the end if relu.
struct GemmEpilogue {
  const float* bias = nullptr;      // one value per row of C
  const float* residual = nullptr;  // same layout as C, leading dimension ldc
  bool relu = false;
};

// C = packedA * B (+ C if accumulate), with B(k, n) = trans_b ? b[n * ldb + k] : b[k * ldb + n].
void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b, int64_t ldb,
                  bool trans_b, float* c, int64_t ldc, bool accumulate, ThreadPool* pool, int simd,
                  const GemmEpilogue* epilogue = nullptr);

// B packed ahead too (constant right operands: Winograd convolution weights): NR-column panels
// per KC block, B(k, n) = b[k * ldb + n]. Like pack_a, for the SimdLevel that runs the GEMM.
size_t packed_b_size(int64_t K, int64_t N, int simd);
void pack_b_panels(const float* b, int64_t ldb, int64_t K, int64_t N, float* packed, int simd);

// C = packedA * packedB, both operands packed ahead (pack_a's and pack_b_panels' layouts).
void sgemm_packed_ab(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* packed_b, float* c,
                     int64_t ldc, ThreadPool* pool, int simd);

// Like sgemm_packed with B(k, n) = b[row_offsets[k] + n]: every row of B is a contiguous run
// somewhere in b (a stride-1 convolution reads its taps this way from a padded input).
void sgemm_packed_rows(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b,
                       const int64_t* row_offsets, float* c, int64_t ldc, ThreadPool* pool, int simd);

// The micro-kernel a SimdLevel runs and its panel shape (MR rows of A, NR columns of B): every
// user of the micro-kernels (pack_a, sgemm_packed, MatMul's packed weights, the recurrent input
// projection) picks it here, so panels and kernel always agree.
using SgemmMicroKernel = void (*)(int64_t, const float*, const float*, float*, int64_t, int, int, bool);

// How a store-kernel writes its tile: C = init ? (residual + bias[row]) + sum : accumulate ? C +
// sum : sum, then max(0, C) if relu (the last K block). bias and residual point at the tile's
// first row; either may be null.
struct TileStore {
  const float* bias = nullptr;
  const float* residual = nullptr;
  int64_t ldr = 0;
  bool init = false;
  bool accumulate = false;
  bool relu = false;
};
// A micro-kernel that also reads B rows ldb floats apart (packed panels: NR; a row-major B in
// place: its leading dimension, never read past column nr) and stores through a TileStore.
using SgemmStoreKernel = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, int,
                                  const TileStore&);
struct SgemmMicro {
  int mr, nr;
  SgemmMicroKernel kernel;
  SgemmStoreKernel store_kernel = nullptr;  // where the level has one (AVX-512)
};
SgemmMicro sgemm_micro(int simd);

// Micro-kernels: c[r * ldc + j] (+)= sum_k a[k * MR + r] * b[k * NR + j] for r < mr, j < nr.
void sgemm_kernel_6x16_baseline(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                int mr, int nr, bool accumulate);
void sgemm_kernel_6x16_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                            int nr, bool accumulate);
void sgemm_kernel_12x32_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                               int nr, bool accumulate);
void sgemm_kernel_12x32_avx512_store(int64_t kc, const float* a, const float* b, int64_t ldb, float* c,
                                     int64_t ldc, int mr, int nr, const TileStore& st);
void sgemm_kernel_8x12_neon(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                            int nr, bool accumulate);  // kernels/arm/sgemm_neon.cc

// Dot products for GEMV-shaped work (one activation row against weight rows).
float dot_f32_baseline(const float* a, const float* b, int64_t n);
float dot_f32_avx2(const float* a, const float* b, int64_t n);
float dot_f32_neon(const float* a, const float* b, int64_t n);
inline float dot_f32(const float* a, const float* b, int64_t n, int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx2Fma) return dot_f32_avx2(a, b, n);
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return dot_f32_neon(a, b, n);
#endif
  return dot_f32_baseline(a, b, n);
}

// y[i] += a * x[i] (depthwise convolution taps).
void axpy_f32_avx2(float* y, const float* x, float a, int64_t n);  // kernels/x86/axpy_avx2.cc
void axpy_f32_neon(float* y, const float* x, float a, int64_t n);  // kernels/arm/sgemm_neon.cc
inline void axpy_f32(float* y, const float* x, float a, int64_t n, int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx2Fma) return axpy_f32_avx2(y, x, a, n);
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return axpy_f32_neon(y, x, a, n);
#endif
  for (int64_t i = 0; i < n; ++i) y[i] += x[i] * a;
}

}  // namespace xinrt
