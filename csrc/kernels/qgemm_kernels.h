// Private to qgemm.cc and its SIMD files: the packed layouts and the per-level micro-kernels.
//
// Every level packs B into panels of NR columns; within a panel, K runs in groups of KG values
// (K padded with zeros to a multiple of KG), and a group holds, for each of the NR columns, its
// KG consecutive k values: panel[(g * NR + j) * KG + t] = B'(g * KG + t, j). A rows are packed
// the same way along K (row-major, K padded to Kpad, zeros after K). The element type is int16
// for the widening levels (raw values: exact products, int32 sums) and 8-bit for the dot-product
// levels, which need one fixed signedness per operand (x86 vpdpbusd: u8 x s8; arm sdot: s8 x s8):
// an operand of the other signedness is stored XOR 0x80, i.e. offset by +-128, and its zero point
// moves by the same offset, so (A' - za')(B' - zb') == (A - za)(B - zb) stays exact.
//
// A micro-kernel writes the raw dot products of `mr` packed A rows with one panel into a tile
// [mr][NR]; the output stage then applies the zero-point terms,
//   acc = dot - zb'[n] * rowsum'[m] + colterm[n],  colterm[n] = K*za'*zb'[n] - za'*colsum'[n],
// (all int32 with two's-complement wrap, as the exact result fits int32), and the QGemmOutput.
#pragma once

#include <cstdint>

#include "kernels/qgemm.h"

namespace xinrt {
namespace qgemm_detail {

using MicroKernel = void (*)(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                             int32_t* tile);
// Output stage for rows [m0, m0+mr) and columns [n0, n0+nc) of a tile [mr][tile_ld].
using OutputStage = void (*)(const QGemmOutput& out, const int32_t* tile, int64_t tile_ld, const int32_t* rowsum,
                             const int32_t* zb, const int32_t* colterm, int64_t m0, int mr, int64_t n0, int nc);

void output_stage_baseline(const QGemmOutput& out, const int32_t* tile, int64_t tile_ld, const int32_t* rowsum,
                           const int32_t* zb, const int32_t* colterm, int64_t m0, int mr, int64_t n0, int nc);

#if XINRT_HAVE_X86
// AVX2: int16 operands, KG = 2 (vpmaddwd), NR = 16, MR <= 6.
void qgemm_kernel_6x16_avx2(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                            int32_t* tile);
void output_stage_avx2(const QGemmOutput& out, const int32_t* tile, int64_t tile_ld, const int32_t* rowsum,
                       const int32_t* zb, const int32_t* colterm, int64_t m0, int mr, int64_t n0, int nc);
// DynamicQuantizeLinear's pieces: the running min/max of x (folded into *lo, *hi) and
// y = saturate(round_half_even(x / scale) + zero), the same IEEE division as the portable code.
void min_max_avx2(const float* x, int64_t n, float* lo, float* hi);
void quantize_u8_avx2(const float* x, int64_t n, float scale, int32_t zero, uint8_t* y);
// AVX-512 VNNI: A u8, B s8, KG = 4 (vpdpbusd), NR = 32, MR <= 8.
void qgemm_kernel_8x32_vnni(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                            int32_t* tile);
void output_stage_avx512(const QGemmOutput& out, const int32_t* tile, int64_t tile_ld, const int32_t* rowsum,
                         const int32_t* zb, const int32_t* colterm, int64_t m0, int mr, int64_t n0, int nc);
#endif
#if XINRT_HAVE_NEON
// NEON: int16 operands, KG = 1 (smlal by lane), NR = 16, MR <= 4.
void qgemm_kernel_4x16_neon(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                            int32_t* tile);
// NEON dot product: A and B s8, KG = 4 (sdot), NR = 16, MR <= 4.
void qgemm_kernel_4x16_neon_dot(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                                int32_t* tile);
#endif

}  // namespace qgemm_detail
}  // namespace xinrt
