// Integer GEMM shared by every int8 op (MatMulInteger, QLinearMatMul, QLinearConv, ConvInteger,
// fused QDQ Conv/MatMul/Gemm and ORT's com.microsoft dynamic-quant ops).
//
//   acc[m, n] = sum_k (A[m, k] - a_zero) * (B[k, n] - b_zero[n])        (exact int32)
//
// A is the activation side: uint8 or int8, row-major [M, K] with leading dimension lda, one
// zero point. B is the weight side: uint8 or int8 [K, N], packed once at plan time with its
// per-column zero points (one value for a per-tensor zero point) and column sums. A NHWC
// convolution is this GEMM with A = the im2col rows [out pixels, Cin*kh*kw] (for 1x1 stride 1,
// the input itself) and B = the weights transposed to [Cin*kh*kw, Cout].
//
// The output stage runs on each tile while it is in cache: int32 as is, int32 to float
// (y = acc * scale[n]), or requantization to uint8/int8 (y = saturate(round_half_even(
// (acc + bias[n]) * scale[n]) + out_zero)), the arithmetic ORT's QLinearConv/QLinearMatMul use
// (the product is clamped in float before rounding, so out-of-range values saturate).
//
// Kernels per SIMD level (layouts in qgemm_kernels.h): portable int16, AVX2 int16 pairs with
// vpmaddwd, AVX-512 VNNI vpdpbusd (u8 x s8; other signedness offset by 128 exactly), NEON int16
// smlal, NEON dot sdot (s8 x s8). Every level gives the same int32 results; float outputs agree
// up to float rounding (a SIMD level may fuse the bias add into an FMA).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/thread_pool.h"

namespace xinrt {

struct QPackedB {
  int64_t K = 0, N = 0;
  bool b_signed = true;
  std::vector<int32_t> zero;     // per column (size N)
  std::vector<int32_t> col_sum;  // per column: sum_k B[k, n] (raw values, before zero points)
  int simd = 0;                  // SimdLevel the panels were packed for
  std::shared_ptr<void> panels;  // layout private to qgemm.cc and the micro-kernels
  int64_t panel_bytes = 0;
  int32_t b_offset = 0;  // packed value = raw value + b_offset (0 or +-128, see qgemm_kernels.h)
  int64_t k_padded = 0;  // K rounded up to the level's K group
};

// b(k, n) = trans ? b[n * ldb + k] : b[k * ldb + n]; zero has 1 (per tensor) or N values.
std::shared_ptr<QPackedB> qpack_b(const void* b, bool b_signed, int64_t K, int64_t N, int64_t ldb,
                                  bool trans, const int32_t* zero, int64_t zero_count, int simd);

struct QGemmOutput {
  enum Kind { kInt32, kFloat, kUint8, kInt8 } kind = kInt32;
  void* c = nullptr;  // [M, N] row-major of the kind's element type
  int64_t ldc = 0;
  const float* scale = nullptr;  // kFloat / kUint8 / kInt8: 1 or N values (scale_count)
  int64_t scale_count = 1;
  const int32_t* bias = nullptr;  // optional, N values, added to acc before scaling
  const float* float_bias = nullptr;  // kFloat only: optional, N values, added after scaling
  int32_t out_zero = 0;           // kUint8 / kInt8
  bool accumulate = false;        // kInt32 / kFloat: add to what c holds
};

// A: uint8 when !a_signed else int8. Runs on `pool` (may be null: the calling thread alone).
// The kernels are those of the level `b` was packed for (b.simd); pack with the plan's level.
void qgemm(int64_t M, const void* a, bool a_signed, int64_t lda, int32_t a_zero, const QPackedB& b,
           const QGemmOutput& out, ThreadPool* pool, int simd);

// DynamicQuantizeLinear's uint8 parameters for x[0:n], with ONNX Runtime's arithmetic:
// range [min(0, min x), max(0, max x)], scale = range / 255 (1 when the range is empty),
// zero = round_half_even(clamp(-min / scale, 0, 255)).
void dynamic_quantize_params(const float* x, int64_t n, float* scale, uint8_t* zero, ThreadPool* pool, int simd);
// y = saturate(round_half_even(x / scale) + zero) into uint8, as QuantizeLinear computes it.
void quantize_u8(const float* x, int64_t n, float scale, int32_t zero, uint8_t* y, ThreadPool* pool, int simd);

// Rounds half to even and saturates, as QuantizeLinear does.
inline int32_t round_half_even(float x) { return static_cast<int32_t>(__builtin_nearbyintf(x)); }
// The same for |x| <= 2^22 (a value already clamped to a quantized range) without a libm call,
// so loops over it vectorize: adding 1.5 * 2^23 leaves a float whose spacing is 1, which the
// default round-to-nearest-even mode rounds; the subtraction is then exact.
inline int32_t round_half_even_small(float x) {
  return static_cast<int32_t>((x + 12582912.0f) - 12582912.0f);
}

}  // namespace xinrt
