// The per-tile loops of Winograd F(2x2, 3x3) (kernels/conv_winograd.cc), written so the compiler
// vectorises them over tiles or channels. conv_winograd.cc includes this file for the portable
// build (SSE2 on x86-64, NEON on aarch64); kernels/x86/conv_winograd_{avx2,avx512}.cc include it
// again under their own flags. Internal linkage throughout, so no copy compiled with wider
// instructions can stand in for another file's.
#pragma once

#include <cstdint>

namespace xinrt {
namespace {  // NOLINT(build/namespaces): one private copy per including file, on purpose

// Splits input row r into its even and odd columns from column ix0: ev[q] = r[ix0 + 2q],
// od[q] = r[ix0 + 2q + 1] for q < len, zero outside [0, in_w).
inline void winograd_split_row(const float* __restrict r, int64_t ix0, int64_t in_w, int64_t len,
                               float* __restrict ev, float* __restrict od) {
  // Inside: 0 <= ix0 + 2q and ix0 + 2q + 1 < in_w.
  int64_t lo = ix0 >= 0 ? 0 : (1 - ix0) / 2;
  int64_t hi = in_w - 2 - ix0 >= 0 ? (in_w - 2 - ix0) / 2 + 1 : 0;
  lo = lo < len ? lo : len;
  hi = hi < len ? hi : len;
  hi = hi > lo ? hi : lo;
  auto edge = [&](int64_t q) {
    int64_t ix = ix0 + 2 * q;
    ev[q] = ix >= 0 && ix < in_w ? r[ix] : 0.0f;
    od[q] = ix + 1 >= 0 && ix + 1 < in_w ? r[ix + 1] : 0.0f;
  };
  for (int64_t q = 0; q < lo; ++q) edge(q);
  const float* src = r + ix0;
#pragma GCC ivdep
  for (int64_t q = lo; q < hi; ++q) {
    ev[q] = src[2 * q];
    od[q] = src[2 * q + 1];
  }
  for (int64_t q = hi; q < len; ++q) edge(q);
}

// V = B^T d B of `count` tiles along one tile row, vectorised over the tiles. rows[i]: input row
// 2 * ty - pad_top + i (null: a padding row); ix0 = 2 * tx0 - pad_left. Each row is split into
// its even and odd columns (phases: 8 x (count + 1) floats), so column j of tile q is phase j % 2
// at q + j / 2. Writes element e of tile q to out[e * ld + q].
inline void winograd_input_tiles(const float* const rows[4], int64_t ix0, int64_t in_w, int64_t count,
                                 float* __restrict phases, float* __restrict out, int64_t ld) {
  const int64_t len = count + 1;
  for (int i = 0; i < 4; ++i) {
    float* ev = phases + 2 * i * len;
    if (rows[i]) winograd_split_row(rows[i], ix0, in_w, len, ev, ev + len);
    else
      for (int64_t q = 0; q < 2 * len; ++q) ev[q] = 0.0f;
  }
  const float* row[4] = {phases, phases + 2 * len, phases + 4 * len, phases + 6 * len};  // odd at + len
#pragma GCC ivdep
  for (int64_t q = 0; q < count; ++q) {
    float t[4][4];  // B^T d: rows
    for (int j = 0; j < 4; ++j) {
      const int64_t at = (j & 1) * len + (j >> 1) + q;
      float d0 = row[0][at], d1 = row[1][at], d2 = row[2][at], d3 = row[3][at];
      t[0][j] = d0 - d2;
      t[1][j] = d1 + d2;
      t[2][j] = d2 - d1;
      t[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; ++i) {  // (B^T d) B: columns
      out[(4 * i + 0) * ld + q] = t[i][0] - t[i][2];
      out[(4 * i + 1) * ld + q] = t[i][1] + t[i][2];
      out[(4 * i + 2) * ld + q] = t[i][2] - t[i][1];
      out[(4 * i + 3) * ld + q] = t[i][1] - t[i][3];
    }
  }
}

// Y = A^T M A of one tile for M output channels, vectorised over the channels: element e of
// channel k is m[e * ld + k]; output q (row q / 2, column q % 2) goes to o[q * M + k].
inline void winograd_inverse_tile(const float* __restrict m, int64_t ld, int64_t M, float* __restrict o) {
#pragma GCC ivdep
  for (int64_t k = 0; k < M; ++k) {
    float s[2][4];  // A^T M: rows
    for (int j = 0; j < 4; ++j) {
      float m0 = m[j * ld + k], m1 = m[(4 + j) * ld + k], m2 = m[(8 + j) * ld + k], m3 = m[(12 + j) * ld + k];
      s[0][j] = m0 + m1 + m2;
      s[1][j] = m1 - m2 - m3;
    }
    for (int i = 0; i < 2; ++i) {  // (A^T M) A: columns
      o[(2 * i) * M + k] = s[i][0] + s[i][1] + s[i][2];
      o[(2 * i + 1) * M + k] = s[i][1] - s[i][2] - s[i][3];
    }
  }
}

}  // namespace
}  // namespace xinrt
