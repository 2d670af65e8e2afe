// gemv.h's panel kernel written once over a lane-primitive struct S (simd_avx2.h, simd_avx512.h):
// the SGEMM packs B in panels of 2 * S::kLanes columns (16 for AVX2, 32 for AVX-512), and each
// of the M (1..4) rows streams every panel once. Include only from a file compiled for S's ISA.
#pragma once

#include <cstdint>

#include "kernels/sgemm.h"

namespace xinrt {
namespace {

template <class S, int M>
void gemv_panel_rows(const float* a, int64_t lda, int64_t K, int64_t Npad, const float* pb, int64_t j,
                     const float* bias, float* y, int64_t ldy, int64_t w) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  // Columns j .. j + w of the panel: w0 in the first vector, w1 in the second.
  const int64_t w0 = w < L ? w : L, w1 = w > L ? w - L : 0;
  V acc0[M], acc1[M];
  const V b0 = bias ? S::load_partial(bias + j, w0) : S::zero();
  const V b1 = bias && w1 ? S::load_partial(bias + j + L, w1) : S::zero();
  for (int m = 0; m < M; ++m) {
    acc0[m] = b0;
    acc1[m] = b1;
  }
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    const int64_t kc = K - pc < kGemmKC ? K - pc : kGemmKC;
    const float* bp = pb + pc * Npad + j * kc;
    const float* ak = a + pc;
    for (int64_t k = 0; k < kc; ++k) {
      const V r0 = S::load(bp + k * 2 * L), r1 = S::load(bp + k * 2 * L + L);
      for (int m = 0; m < M; ++m) {
        const V av = S::broadcast(ak + m * lda + k);
        acc0[m] = S::fmadd(av, r0, acc0[m]);
        acc1[m] = S::fmadd(av, r1, acc1[m]);
      }
    }
  }
  for (int m = 0; m < M; ++m) {
    float* row = y + m * ldy + j;
    if (w == 2 * L) {
      S::store(row, acc0[m]);
      S::store(row + L, acc1[m]);
    } else {
      if (w0 == L) S::store(row, acc0[m]); else S::store_partial(row, acc0[m], w0);
      if (w1) S::store_partial(row + L, acc1[m], w1);
    }
  }
}

// Panels p0 .. p1 of the product of M rows of a with the packed B.
template <class S>
void gemv_panels(const float* a, int64_t lda, int M, int64_t K, int64_t N, const float* pb, const float* bias,
                 float* y, int64_t ldy, int64_t p0, int64_t p1) {
  constexpr int64_t P = 2 * S::kLanes;
  const int64_t Npad = (N + P - 1) / P * P;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t j = p * P, w = N - j < P ? N - j : P;
    switch (M) {
      case 1: gemv_panel_rows<S, 1>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 2: gemv_panel_rows<S, 2>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      case 3: gemv_panel_rows<S, 3>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
      default: gemv_panel_rows<S, 4>(a, lda, K, Npad, pb, j, bias, y, ldy, w); break;
    }
  }
}

}  // namespace
}  // namespace xinrt
