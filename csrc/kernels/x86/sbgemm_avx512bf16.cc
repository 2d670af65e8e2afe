// AVX512_BF16 parts of the bf16 GEMM (kernels/sbgemm.h): the 12x32 micro-kernel (vdpbf16ps,
// fp32 sums in 24 zmm accumulators) and the B panel packer (vcvtne2ps2bf16 rounds two rows
// at once, vpermw interleaves them into k pairs). Compiled with -mavx512bf16 -mavx512bw;
// called only after a CPU check. Plain: raw pointers, no STL.
#include <immintrin.h>

#include <cstdint>

namespace xinrt {

namespace {

inline __m512bh as_bf16(__m512i v) { return reinterpret_cast<__m512bh&>(v); }

// What the last K block adds on the way out: bias[r], column_bias[j] and residual[r * ldc + j]
// (each may be null), then max(C, 0) if relu.
struct Tail {
  const float* bias;
  const float* column_bias;
  const float* residual;
  int64_t ldc;
  bool relu;
};

inline __m512 finish(__m512 v, const Tail& t, int r, int j, __mmask16 m) {
  if (t.bias) v = _mm512_add_ps(v, _mm512_set1_ps(t.bias[r]));
  if (t.column_bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, t.column_bias + j));
  if (t.residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, t.residual + r * t.ldc + j));
  if (t.relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
  return v;
}

// Stores (or adds to) one row of C from two accumulators, masked where nr < 32.
inline void store_row(float* row, __m512 lo, __m512 hi, int nr, bool accumulate, const Tail* tail, int r) {
  __mmask16 m0 = static_cast<__mmask16>(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
  __mmask16 m1 = static_cast<__mmask16>(nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
  if (accumulate) {
    lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(m0, row));
    hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(m1, row + 16));
  }
  if (tail) {
    lo = finish(lo, *tail, r, 0, m0);
    hi = finish(hi, *tail, r, 16, m1);
  }
  _mm512_mask_storeu_ps(row, m0, lo);
  if (m1) _mm512_mask_storeu_ps(row + 16, m1, hi);
}

// ROWS rows of a 12-row A panel (the rest are past M) x HALVES 16-column halves of a 32-column
// B panel: a panel's tail rows or columns cost only their own dot products.
template <int ROWS, int HALVES>
void kernel_rows(int64_t pairs, const uint32_t* a, const uint32_t* b, float* c, int64_t ldc, int mr, int nr,
                 bool accumulate, const Tail* tail) {
  __m512 acc[ROWS][2];
  for (int r = 0; r < ROWS; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    __m512bh b0 = as_bf16(_mm512_loadu_si512(b)), b1 = b0;
    if (HALVES == 2) b1 = as_bf16(_mm512_loadu_si512(b + 16));
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; ++r) {
      __m512bh ar = as_bf16(_mm512_set1_epi32(static_cast<int>(a[r])));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], ar, b0);
      if (HALVES == 2) acc[r][1] = _mm512_dpbf16_ps(acc[r][1], ar, b1);
    }
    a += 12;  // panels keep their 12-row and 32-column strides
    b += 32;
  }
  for (int r = 0; r < mr; ++r) store_row(c + r * ldc, acc[r][0], acc[r][1], nr, accumulate, tail, r);
}

template <int HALVES>
void kernel_for_rows(int64_t pairs, const uint32_t* a, const uint32_t* b, float* c, int64_t ldc, int mr, int nr,
                     bool accumulate, const Tail* tail) {
  if (mr <= 4) kernel_rows<4, HALVES>(pairs, a, b, c, ldc, mr, nr, accumulate, tail);
  else if (mr <= 8) kernel_rows<8, HALVES>(pairs, a, b, c, ldc, mr, nr, accumulate, tail);
  else kernel_rows<12, HALVES>(pairs, a, b, c, ldc, mr, nr, accumulate, tail);
}

}  // namespace

void sbgemm_kernel_12x32_avx512bf16(int64_t pairs, const uint32_t* a, const uint32_t* b, float* c,
                                    int64_t ldc, int mr, int nr, bool accumulate, const float* bias,
                                    const float* column_bias, const float* residual, bool relu, bool last) {
  Tail t{bias, column_bias, residual, ldc, relu};
  const Tail* tail = last && (bias || column_bias || residual || relu) ? &t : nullptr;
  if (nr <= 16) kernel_for_rows<1>(pairs, a, b, c, ldc, mr, nr, accumulate, tail);
  else kernel_for_rows<2>(pairs, a, b, c, ldc, mr, nr, accumulate, tail);
}

void sbgemm_pack_b_panel_avx512bf16(const float* b, const int64_t* row_offsets, int64_t K, int64_t n0, int w,
                                    uint32_t* out) {
  // cvtne2ps(row k + 1, row k) holds row k's 16 values in words 0..15 and row k + 1's in
  // 16..31; this permutation makes word 2j row k's column j and word 2j + 1 row k + 1's.
  alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                                       21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                                       11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_load_si512(kInterleave);
  const __mmask16 m0 = static_cast<__mmask16>(w >= 16 ? 0xFFFF : (1u << w) - 1);
  const __mmask16 m1 = static_cast<__mmask16>(w >= 32 ? 0xFFFF : w <= 16 ? 0 : (1u << (w - 16)) - 1);
  for (int64_t k = 0; k < K; k += 2, out += 32) {
    const float* r0 = b + row_offsets[k] + n0;
    __m512 x0 = _mm512_maskz_loadu_ps(m0, r0), x1 = _mm512_maskz_loadu_ps(m1, r0 + 16);
    __m512 y0 = _mm512_setzero_ps(), y1 = _mm512_setzero_ps();
    if (k + 1 < K) {
      const float* r1 = b + row_offsets[k + 1] + n0;
      y0 = _mm512_maskz_loadu_ps(m0, r1);
      y1 = _mm512_maskz_loadu_ps(m1, r1 + 16);
    }
    __m512bh lo = _mm512_cvtne2ps_pbh(y0, x0), hi = _mm512_cvtne2ps_pbh(y1, x1);
    _mm512_storeu_si512(out, _mm512_permutexvar_epi16(idx, reinterpret_cast<__m512i&>(lo)));
    _mm512_storeu_si512(out + 16, _mm512_permutexvar_epi16(idx, reinterpret_cast<__m512i&>(hi)));
  }
}

void sbgemm_pack_b_conv_panel_avx512bf16(const float* x, const int64_t* row_offsets, const int32_t* row_dy,
                                         const int32_t* row_dx, int64_t K, int64_t n0, int w, int64_t out_w,
                                         int64_t in_h, int64_t in_w, uint32_t* out) {
  alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                                       21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                                       11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_load_si512(kInterleave);
  // The panel's columns as runs along one output row: run i holds panel columns first[i] ..
  // first[i] + len[i], output row oh[i], starting at output column ow[i].
  int64_t oh[32], ow[32];
  int first[32], len[32], runs = 0;
  for (int j = 0; j < w; ++runs) {
    int64_t n = n0 + j;
    oh[runs] = n / out_w;
    ow[runs] = n % out_w;
    first[runs] = j;
    len[runs] = static_cast<int>(out_w - ow[runs] < w - j ? out_w - ow[runs] : w - j);
    j += len[runs];
  }
  // Tap row k reads input (oh + dy, ow + dx) of its channel: zero outside the input, so the
  // loads are masked to the columns inside it and rows outside it are skipped.
  auto load_row = [&](int64_t k, __m512& v0, __m512& v1) {
    v0 = _mm512_setzero_ps();
    v1 = _mm512_setzero_ps();
    const int64_t dy = row_dy[k], dx = row_dx[k];
    for (int i = 0; i < runs; ++i) {
      const int64_t ih = oh[i] + dy;
      if (ih < 0 || ih >= in_h) continue;
      int64_t lo = ow[i] > -dx ? ow[i] : -dx, hi = ow[i] + len[i] < in_w - dx ? ow[i] + len[i] : in_w - dx;
      if (lo >= hi) continue;
      // Panel column j reads output column ow[i] + j - first[i].
      const int jl = static_cast<int>(first[i] + lo - ow[i]), jh = static_cast<int>(first[i] + hi - ow[i]);
      const float* src = x + row_offsets[k] + ih * in_w + dx + ow[i] - first[i];
      for (int h = 0; h < 2; ++h) {
        int a = jl > 16 * h ? jl : 16 * h, b = jh < 16 * h + 16 ? jh : 16 * h + 16;
        if (a >= b) continue;
        __mmask16 m = static_cast<__mmask16>(((1u << (b - a)) - 1) << (a - 16 * h));
        if (h == 0) v0 = _mm512_mask_loadu_ps(v0, m, src);
        else v1 = _mm512_mask_loadu_ps(v1, m, src + 16);
      }
    }
  };
  for (int64_t k = 0; k < K; k += 2, out += 32) {
    __m512 x0, x1, y0 = _mm512_setzero_ps(), y1 = _mm512_setzero_ps();
    load_row(k, x0, x1);
    if (k + 1 < K) load_row(k + 1, y0, y1);
    __m512bh lo = _mm512_cvtne2ps_pbh(y0, x0), hi = _mm512_cvtne2ps_pbh(y1, x1);
    _mm512_storeu_si512(out, _mm512_permutexvar_epi16(idx, reinterpret_cast<__m512i&>(lo)));
    _mm512_storeu_si512(out + 16, _mm512_permutexvar_epi16(idx, reinterpret_cast<__m512i&>(hi)));
  }
}

void sbgemm_pack_a_panel_avx512bf16(const float* a, int64_t lda, int rows, int64_t K, uint32_t* out) {
  const int64_t pairs = (K + 1) / 2;
  for (int64_t i = 0; i < pairs * 12; ++i) out[i] = 0;
  alignas(64) uint32_t words[16];
  for (int r = 0; r < rows; ++r) {
    const float* row = a + r * lda;
    // 32 floats round to 16 words in order: word i = (x[2i], x[2i + 1]), a pair of k.
    for (int64_t k = 0; k < K; k += 32) {
      int64_t left = K - k;
      __mmask16 m0 = static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1);
      __mmask16 m1 = static_cast<__mmask16>(left >= 32 ? 0xFFFF : left <= 16 ? 0 : (1u << (left - 16)) - 1);
      __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, row + k + 16), _mm512_maskz_loadu_ps(m0, row + k));
      _mm512_store_si512(words, reinterpret_cast<__m512i&>(v));
      int64_t p0 = k / 2, n = pairs - p0 < 16 ? pairs - p0 : 16;
      for (int64_t i = 0; i < n; ++i) out[(p0 + i) * 12 + r] = words[i];
    }
  }
}

}  // namespace xinrt
