// Winograd F(2x2, 3x3) for fp32 3x3 stride-1 convolutions (one group, dilation 1, any padding):
// 4x4 input tiles, 16 GEMMs with 2.25x fewer multiplies than the direct convolution. Chosen
// over F(4x4, 3x3) because its rounding error matches the direct GEMM's (bench/conv-notes.md).
#pragma once

#include <cstdint>
#include <memory>

#include "core/thread_pool.h"
#include "kernels/conv_geometry.h"

namespace xinrt {

// The transformed weights U = G g G^T, one packed GEMM operand (C x M) per tile element.
struct WinogradWeights {
  int64_t M = 0, C = 0;
  size_t stride = 0;  // floats between consecutive tile elements' operands
  std::shared_ptr<float> packed;
};

// Transforms and packs the weights w[M, C, 3, 3] for the GEMMs of SimdLevel `simd`.
std::shared_ptr<WinogradWeights> winograd_prepare(const float* w, int64_t M, int64_t C, int simd);

// Whether a stride-1 3x3 convolution with C input and M output channels runs faster through
// Winograd than through the direct GEMM (measured per layer: bench/conv-notes.md).
bool winograd_pays(int64_t C, int64_t M);

// y[N, M, out_h, out_w] = conv(x[N, C, in_h, in_w]) for geometry g (3x3, stride 1, dilation 1),
// starting from bias (+ residual, same layout as y) when given, then max(., 0) if relu: the
// GEMM epilogue's semantics.
void conv_winograd(const WinogradWeights& w, const float* x, int64_t N, const WindowGeometry& g, const float* bias,
                   const float* residual, bool relu, float* y, ThreadPool& pool, int simd);

// How many convolutions have run through Winograd in this process (tests check the path taken).
uint64_t conv_winograd_runs();

}  // namespace xinrt
