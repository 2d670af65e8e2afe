// AVX-512F pooling loops (kernels/pool.cc), the x86 counterparts of arm/pool_neon.cc. Compiled
// with -mavx512f; called only after a CPU check.
//
// Max keeps the scalar rule `e > y ? e : y`: _mm512_max_ps(e, y) returns its second operand
// when either is NaN, so a NaN input never wins, as onnx.reference's pooling skips it.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/pool_plane.h"

namespace xinrt {
namespace {

// All-lanes maskz form: plain _mm512_max_ps trips GCC 12's -Wmaybe-uninitialized.
inline __m512 max16(__m512 a, __m512 b) { return _mm512_maskz_max_ps(static_cast<__mmask16>(0xFFFF), a, b); }

inline __mmask16 first(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }

// Sixteen taps t[0], t[s], ..., t[15 s] for s = 1 or 2: reads t[0..31] at most, which the
// caller's row has room for from any tap (pool.cc's line has 32 spare floats).
inline __m512 taps16(const float* t, int64_t s) {
  if (s == 1) return _mm512_loadu_ps(t);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  return _mm512_permutex2var_ps(_mm512_loadu_ps(t), even, _mm512_loadu_ps(t + 16));
}

}  // namespace

namespace {

// The two reductions, vector and scalar: fold a new value e into the running value c.
struct Max {
  static __m512 fold(__m512 e, __m512 c) { return max16(e, c); }
  static float fold(float e, float c) { return e > c ? e : c; }
};
struct Add {
  static __m512 fold(__m512 e, __m512 c) { return _mm512_add_ps(c, e); }
  static float fold(float e, float c) { return c + e; }
};

template <class Op>
void rows(float* v, const float* row, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(v + i, Op::fold(_mm512_loadu_ps(row + i), _mm512_loadu_ps(v + i)));
  if (i < n) {
    const __mmask16 m = first(n - i);
    _mm512_mask_storeu_ps(v + i, m, Op::fold(_mm512_maskz_loadu_ps(m, row + i), _mm512_maskz_loadu_ps(m, v + i)));
  }
}

// Strides 1 and 2 run 16 outputs at a time, the last < 16 masked (t must have 32 readable
// floats past any tap: pool.cc's line); other strides one at a time.
template <class Op>
void taps(float* y, const float* t, int64_t s, int64_t n) {
  if (s > 2) {
    for (int64_t i = 0; i < n; ++i) y[i] = Op::fold(t[i * s], y[i]);
    return;
  }
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : first(n - i);
    _mm512_mask_storeu_ps(y + i, m, Op::fold(taps16(t + i * s, s), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

}  // namespace

// v[i] = max(row[i], v[i]) / v[i] += row[i] for i < n: one window row into the running row.
void pool_rows_max_avx512(float* v, const float* row, int64_t n) { rows<Max>(v, row, n); }
void pool_rows_add_avx512(float* v, const float* row, int64_t n) { rows<Add>(v, row, n); }

// y[i] = max(t[i * s], y[i]) / y[i] += t[i * s] for i < n: one kernel column tap over a row.
void pool_taps_max_avx512(float* y, const float* t, int64_t s, int64_t n) { taps<Max>(y, t, s, n); }
void pool_taps_add_avx512(float* y, const float* t, int64_t s, int64_t n) { taps<Add>(y, t, s, n); }

}  // namespace xinrt

namespace xinrt {

// Consecutive planes of a pool with column stride 1 or 2 (kernels/pool_plane.h), sixteen output
// columns at a time, every tap read straight from its input row with the lanes outside the row
// masked off: no running row and no call per row and tap, which dominated small planes (14x14,
// 7x7). MaxPool: a NaN never wins (max16(e, acc) keeps acc), as in the row-then-tap loops.
// AveragePool: each tap column's window rows are summed first, then the columns in order, as
// those loops do (masked lanes add +0.0, which changes no sum), so the bits are the same.
namespace {

// Sixteen taps of one kernel column for lanes whose bits are set in m: stride 1 reads them
// straight; stride 2 reads the 32 floats they span (positions 2i; the masked-off ones are
// never read) and keeps the even ones. Masked-off lanes hold `fill`.
template <int kStride>
inline __m512 tap_lanes(const float* at, __mmask16 m, __mmask32 m2, __m512 fill) {
  if (kStride == 1) return _mm512_mask_loadu_ps(fill, m, at);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512 lo = _mm512_mask_loadu_ps(fill, static_cast<__mmask16>(m2 & 0xFFFF), at);
  const __m512 hi = _mm512_mask_loadu_ps(fill, static_cast<__mmask16>(m2 >> 16), at + 16);
  return _mm512_permutex2var_ps(lo, even, hi);
}

template <bool kMax, int kStride>
void planes_strided(const float* x, float* y, int64_t planes, const PoolPlane& p) {
  const WindowGeometry& g = *p.g;
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const int64_t dh = kMax ? g.d_h : 1, dw = kMax ? g.d_w : 1;
  std::vector<__mmask16> masks(static_cast<size_t>(g.k_w));
  std::vector<__mmask32> spans(static_cast<size_t>(g.k_w));  // stride 2: the floats read
  std::vector<intptr_t> offsets(static_cast<size_t>(g.k_w));
  for (int64_t ow0 = 0; ow0 < g.out_w; ow0 += 16) {
    const __mmask16 out = g.out_w - ow0 >= 16 ? static_cast<__mmask16>(0xFFFF) : first(g.out_w - ow0);
    // Per kernel column: the lanes whose tap falls inside the row (output columns [col_lo,
    // col_hi)) and the byte offset of lane 0's tap from its row's start.
    for (int64_t kj = 0; kj < g.k_w; ++kj) {
      const int64_t lo = std::max(p.col_lo[kj], ow0) - ow0, hi = std::min(p.col_hi[kj], ow0 + 16) - ow0;
      masks[kj] = hi <= lo ? 0 : static_cast<__mmask16>(static_cast<__mmask16>(first(hi) & ~first(lo)) & out);
      spans[kj] = 0;
      for (int i = 0; i < 16; ++i)
        if (masks[kj] >> i & 1) spans[kj] |= __mmask32{1} << (2 * i);
      offsets[kj] = static_cast<intptr_t>((ow0 * kStride + kj * dw - g.pad_left) * 4);
    }
    __m512 count_cols = _mm512_setzero_ps();
    if (!kMax) count_cols = _mm512_maskz_loadu_ps(out, p.col_count + ow0);
    for (int64_t plane = 0; plane < planes; ++plane) {
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        const int64_t h0 = oh * g.s_h - g.pad_top, k0 = p.kh_lo[oh], k1 = p.kh_hi[oh];
        __m512 acc = kMax ? neg_inf : _mm512_setzero_ps();
        for (int64_t kj = 0; kj < g.k_w; ++kj) {
          const __mmask16 m = masks[kj];
          if (!m) continue;
          __m512 v = _mm512_setzero_ps();
          for (int64_t ki = k0; ki < k1; ++ki) {
            // Masked-off lanes are never read, so the address may start before the row.
            const intptr_t row = reinterpret_cast<intptr_t>(x + (plane * g.in_h + h0 + ki * dh) * g.in_w);
            const float* at = reinterpret_cast<const float*>(row + offsets[kj]);
            if (kMax) acc = max16(tap_lanes<kStride>(at, m, spans[kj], neg_inf), acc);
            else v = _mm512_add_ps(v, tap_lanes<kStride>(at, m, spans[kj], _mm512_setzero_ps()));
          }
          if (!kMax) acc = _mm512_add_ps(acc, v);
        }
        if (!kMax) {  // divisor (window rows) x (window columns); 0 where the window is empty
          const __m512 count = _mm512_mul_ps(_mm512_set1_ps(p.rows[oh]), count_cols);
          acc = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(count, _mm512_setzero_ps(), _CMP_GT_OQ), acc, count);
        }
        _mm512_mask_storeu_ps(y + (plane * g.out_h + oh) * g.out_w + ow0, out, acc);
      }
    }
  }
}

}  // namespace

void pool_planes_avx512(const float* x, float* y, int64_t planes, const PoolPlane& p) {
  if (p.g->s_w == 2) {
    if (p.is_max) planes_strided<true, 2>(x, y, planes, p);
    else planes_strided<false, 2>(x, y, planes, p);
  } else if (p.is_max) {
    planes_strided<true, 1>(x, y, planes, p);
  } else {
    planes_strided<false, 1>(x, y, planes, p);
  }
}

}  // namespace xinrt
