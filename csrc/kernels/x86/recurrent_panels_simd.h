// recurrent_simd.h's H_prev * R^T over R^T panels, written once over a lane-primitive struct S
// (simd_avx2.h's Avx2, simd_avx512.h's Avx512). A 16-float panel row is kPanelVectors<S>
// vectors (2 for AVX2, 1 for AVX-512); a "chain" is one accumulator: chain j of a block of
// panels is vector j % N of panel j / N, so it lands in columns j * kLanes onwards of out.
// Include only from a file compiled for S's ISA; internal linkage.
//
// Accumulators are named variables, not arrays: with arrays GCC 12 stored every accumulator to
// the stack on every k step. Stores are always masked: a branch there made GCC keep the
// accumulators in memory inside the k loop.
#pragma once

#include <cstdint>

#include "kernels/recurrent_simd.h"

namespace xinrt {
namespace {

// The named accumulators: (row, chain 0, chain 1) of the row blocks, (chain, its accumulator)
// of the batch-1 blocks; M is applied to each in order.
#define XINRT_EIGHT_ROWS(M) \
  M(0, c00, c01) M(1, c10, c11) M(2, c20, c21) M(3, c30, c31) \
  M(4, c40, c41) M(5, c50, c51) M(6, c60, c61) M(7, c70, c71)
#define XINRT_EIGHT_CHAINS(M) M(0, c0) M(1, c1) M(2, c2) M(3, c3) M(4, c4) M(5, c5) M(6, c6) M(7, c7)

template <class S>
constexpr int kPanelVectors = kRecurrentPanel / S::kLanes;

// How many of chain j's lanes are real columns, in a block of P panels whose last one is
// last_width wide (the others 16): >= kLanes means all, <= 0 none (the second AVX2 vector of a
// panel at most 8 wide); S::add_first takes both.
template <class S, int P>
inline int chain_width(int j, int last_width) {
  const int panel = j / kPanelVectors<S>;
  return (panel == P - 1 ? last_width : kRecurrentPanel) - j % kPanelVectors<S> * S::kLanes;
}

// Where chain j reads row k of its panel, panels being K rows of 16 floats apart.
template <class S>
inline const float* chain_row(const float* panels, int j, int64_t K, int64_t k) {
  return panels + j / kPanelVectors<S> * K * kRecurrentPanel + k * kRecurrentPanel + j % kPanelVectors<S> * S::kLanes;
}

// R rows x P panels, two chains per row at most (P * N <= 2).
template <class S, int R, int P>
inline void panels_block(const float* a, int64_t lda, int64_t K, const float* panels, float* out, int64_t ldo,
                         int last_width) {
  using V = typename S::V;
  constexpr int C = P * kPanelVectors<S>;  // chains per row
  static_assert(C <= 2, "two chains per row");
  const V z = S::zero();
  V c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  V c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
  for (int64_t k = 0; k < K; ++k) {
    const V w0 = S::load(chain_row<S>(panels, 0, K, k));
    const V w1 = C > 1 ? S::load(chain_row<S>(panels, 1, K, k)) : z;
#define XINRT_PANEL_ROW(r, x0, x1)                      \
  if constexpr (R > r) {                               \
    const V av = S::broadcast(a + r * lda + k);        \
    x0 = S::fmadd(av, w0, x0);                         \
    if constexpr (C > 1) x1 = S::fmadd(av, w1, x1);    \
  }
    XINRT_EIGHT_ROWS(XINRT_PANEL_ROW)
#undef XINRT_PANEL_ROW
  }
  const int w0 = chain_width<S, P>(0, last_width), w1 = chain_width<S, P>(1, last_width);
#define XINRT_PANEL_STORE(r, x0, x1)                                          \
  if constexpr (R > r) {                                                     \
    S::add_first(out + r * ldo, x0, w0);                                     \
    if constexpr (C > 1) S::add_first(out + r * ldo + S::kLanes, x1, w1);    \
  }
  XINRT_EIGHT_ROWS(XINRT_PANEL_STORE)
#undef XINRT_PANEL_STORE
}

// R rows x all panels, two chains per row: 2 / N panels at a time. Not inlined: inside the
// caller, GCC 12 ran out of general registers in the 6-row AVX2 and 8-row AVX-512 k loops and
// spilled the loop counter (10% more instructions in callgrind).
template <class S, int R>
__attribute__((noinline)) void panels_rows(const float* a, int64_t lda, int64_t K, const float* panels,
                                           int64_t npanels, int last_width, float* out, int64_t ldo) {
  constexpr int P = 2 / kPanelVectors<S>;
  int64_t q = 0;
  for (; q + P <= npanels; q += P)
    panels_block<S, R, P>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, q + P == npanels ? last_width : 16);
  if constexpr (P > 1) {
    if (q < npanels) panels_block<S, R, 1>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, last_width);
  }
}

// One row x P panels: P * N (<= 8) chains, for batch 1.
template <class S, int P>
inline void panels_block_row(const float* a, int64_t K, const float* panels, float* out, int last_width) {
  using V = typename S::V;
  constexpr int C = P * kPanelVectors<S>;
  static_assert(C <= 8, "eight chains");
  const V z = S::zero();
  V c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
  for (int64_t k = 0; k < K; ++k) {
    const V av = S::broadcast(a + k);
#define XINRT_CHAIN(j, x) \
  if constexpr (C > j) x = S::fmadd(av, S::load(chain_row<S>(panels, j, K, k)), x);
    XINRT_EIGHT_CHAINS(XINRT_CHAIN)
#undef XINRT_CHAIN
  }
#define XINRT_CHAIN_STORE(j, x) \
  if constexpr (C > j) S::add_first(out + j * S::kLanes, x, chain_width<S, P>(j, last_width));
  XINRT_EIGHT_CHAINS(XINRT_CHAIN_STORE)
#undef XINRT_CHAIN_STORE
}

// Batch 1: blocks of 8 chains (8 / N panels), then halves of that down to one panel.
template <class S>
void panels_one_row(const float* a, int64_t K, const float* panels, int64_t npanels, int last_width, float* out) {
  constexpr int kMost = 8 / kPanelVectors<S>;
  const int64_t stride = K * kRecurrentPanel;
  int64_t q = 0;
  auto width = [&](int64_t n) { return q + n == npanels ? last_width : 16; };
  if constexpr (kMost >= 8) {
    for (; q + 8 <= npanels; q += 8)
      panels_block_row<S, 8>(a, K, panels + q * stride, out + q * 16, width(8));
  }
  for (; q + 4 <= npanels; q += 4) panels_block_row<S, 4>(a, K, panels + q * stride, out + q * 16, width(4));
  for (; q + 2 <= npanels; q += 2) panels_block_row<S, 2>(a, K, panels + q * stride, out + q * 16, width(2));
  for (; q < npanels; ++q) panels_block_row<S, 1>(a, K, panels + q * stride, out + q * 16, width(1));
}

// The last rows - b rows (fewer than kRows; a row count of kRows or more never comes here).
template <class S, int R, int kRows>
void tail_rows(const float* a, int64_t lda, int64_t K, const float* panels, int64_t npanels, int last_width,
               float* out, int64_t ldo) {
  if constexpr (R < kRows) panels_rows<S, R>(a, lda, K, panels, npanels, last_width, out, ldo);
}

// recurrent_simd.h's recurrent_panels_acc_*: blocks of kRows batch rows (2 * kRows accumulators
// must fit the ISA's registers beside two panel vectors and a broadcast), the rest by count.
template <class S, int kRows>
void recurrent_panels_acc_lanes(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                                int64_t npanels, int last_width, float* out, int64_t ldo) {
  static_assert(kRows <= 8, "eight rows of accumulators");
  int64_t b = 0;
  for (; b + kRows <= rows; b += kRows)
    panels_rows<S, kRows>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  const float* ar = a + b * lda;
  float* o = out + b * ldo;
  switch (rows - b) {
    case 7: return tail_rows<S, 7, kRows>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 6: return tail_rows<S, 6, kRows>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 5: return tail_rows<S, 5, kRows>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 4: return tail_rows<S, 4, kRows>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 3: return tail_rows<S, 3, kRows>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 2: return tail_rows<S, 2, kRows>(ar, lda, K, panels, npanels, last_width, o, ldo);
    case 1: return panels_one_row<S>(ar, K, panels, npanels, last_width, o);
    default: return;
  }
}

#undef XINRT_EIGHT_ROWS
#undef XINRT_EIGHT_CHAINS

}  // namespace
}  // namespace xinrt
