// Packed single-precision GEMM shared by MatMul, Gemm and Conv.
//
// C[M, N] (+)= packedA[M, K] * B[K, N]. A is packed once (weights at plan time) into MR-row
// panels per KC block; B is packed per task into NR-column panels. Tasks are MC x NC output
// tiles spread over the thread pool.
#pragma once

#include <cstdint>
#include <memory>

#include "core/thread_pool.h"

namespace xinrt {

constexpr int kGemmMR = 6;
constexpr int kGemmNR = 16;
constexpr int kGemmKC = 256;

// Floats needed for a packed M x K matrix.
size_t packed_a_size(int64_t M, int64_t K);
// Packs alpha * A where A(m, k) = trans ? a[k * lda + m] : a[m * lda + k].
void pack_a(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha, float* packed);
std::shared_ptr<float> pack_a_new(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha);

// C = packedA * B (+ C if accumulate), with B(k, n) = trans_b ? b[n * ldb + k] : b[k * ldb + n].
void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b, int64_t ldb,
                  bool trans_b, float* c, int64_t ldc, bool accumulate, ThreadPool* pool, bool simd);

// Micro-kernels: c[r * ldc + j] (+)= sum_k a[k * MR + r] * b[k * NR + j] for r < mr, j < nr.
void sgemm_kernel_6x16_baseline(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                int mr, int nr, bool accumulate);
void sgemm_kernel_6x16_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                            int nr, bool accumulate);

}  // namespace xinrt

namespace xinrt {

// Dot products for GEMV-shaped work (one activation row against weight rows).
float dot_f32_baseline(const float* a, const float* b, int64_t n);
float dot_f32_avx2(const float* a, const float* b, int64_t n);
inline float dot_f32(const float* a, const float* b, int64_t n, bool simd) {
#if XINRT_HAVE_X86
  if (simd) return dot_f32_avx2(a, b, n);
#endif
  return dot_f32_baseline(a, b, n);
}

}  // namespace xinrt
