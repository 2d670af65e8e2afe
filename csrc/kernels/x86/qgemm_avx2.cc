// AVX2 integer GEMM: int16 operands and vpmaddwd, exact for every u8/s8 pair (each product
// fits 17 bits, a pair sum 18 bits), unlike the saturating u8 x s8 vpmaddubsw.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/qgemm_kernels.h"

namespace xinrt {
namespace qgemm_detail {

// tile[i][0:16] = sum_g A(i, 2g..2g+1) . B(2g..2g+1, 0:16); B panel rows of 16 int16 pairs.
void qgemm_kernel_6x16_avx2(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                            int32_t* tile) {
  const char* ap = static_cast<const char*>(a);
  const __m256i* b = static_cast<const __m256i*>(b_panel);
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  auto pair = [&](int i, int64_t g) {
    int32_t v;
    std::memcpy(&v, ap + i * lda_bytes + g * 4, 4);
    return _mm256_set1_epi32(v);
  };
  // Rows past mr read row 0 again (valid memory) and are never stored.
  const int64_t r1 = mr > 1 ? 1 : 0, r2 = mr > 2 ? 2 : 0, r3 = mr > 3 ? 3 : 0, r4 = mr > 4 ? 4 : 0, r5 = mr > 5 ? 5 : 0;
  for (int64_t g = 0; g < kgroups; ++g) {
    __m256i b0 = _mm256_load_si256(b + 2 * g), b1 = _mm256_load_si256(b + 2 * g + 1);
    __m256i a0 = pair(0, g);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a0, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a0, b1));
    __m256i a1 = pair(static_cast<int>(r1), g);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a1, b0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a1, b1));
    __m256i a2 = pair(static_cast<int>(r2), g);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a2, b0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a2, b1));
    __m256i a3 = pair(static_cast<int>(r3), g);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a3, b0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a3, b1));
    __m256i a4 = pair(static_cast<int>(r4), g);
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(a4, b0));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(a4, b1));
    __m256i a5 = pair(static_cast<int>(r5), g);
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(a5, b0));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(a5, b1));
  }
  // The packed pairs interleave columns: lane j of b0 holds column j (k, k+1) for j < 8.
  __m256i* t = reinterpret_cast<__m256i*>(tile);
  __m256i rows[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int i = 0; i < mr; ++i) {
    _mm256_storeu_si256(t + 2 * i, rows[2 * i]);
    _mm256_storeu_si256(t + 2 * i + 1, rows[2 * i + 1]);
  }
}

namespace {

inline __m256i correct(const int32_t* tile, const int32_t* zb, const int32_t* colterm, __m256i rs, int j) {
  __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + j));
  acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(zb + j)), rs));
  return _mm256_add_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(colterm + j)));
}

}  // namespace

void output_stage_avx2(const QGemmOutput& out, const int32_t* tile, int64_t tile_ld, const int32_t* rowsum,
                       const int32_t* zb, const int32_t* colterm, int64_t m0, int mr, int64_t n0, int nc) {
  // Column tails run the portable stage (scalar but the same arithmetic).
  if (nc % 8 != 0) {
    output_stage_baseline(out, tile, tile_ld, rowsum, zb, colterm, m0, mr, n0, nc);
    return;
  }
  const bool per_col = out.scale_count != 1;
  const bool quant = out.kind == QGemmOutput::kUint8 || out.kind == QGemmOutput::kInt8;
  const int32_t lo = out.kind == QGemmOutput::kInt8 ? -128 : 0, hi = out.kind == QGemmOutput::kInt8 ? 127 : 255;
  const __m256 qlo = _mm256_set1_ps(static_cast<float>(lo - out.out_zero));
  const __m256 qhi = _mm256_set1_ps(static_cast<float>(hi - out.out_zero));
  const __m256i qzero = _mm256_set1_epi32(out.out_zero);
  for (int i = 0; i < mr; ++i) {
    __m256i rs = _mm256_set1_epi32(rowsum[i]);
    int64_t m = m0 + i;
    for (int j = 0; j < nc; j += 8) {
      __m256i acc = correct(tile + i * tile_ld, zb, colterm, rs, j);
      int64_t n = n0 + j;
      if (out.kind == QGemmOutput::kInt32) {  // the int32 stage takes no bias
        __m256i* c = reinterpret_cast<__m256i*>(static_cast<int32_t*>(out.c) + m * out.ldc + n);
        if (out.accumulate) acc = _mm256_add_epi32(acc, _mm256_loadu_si256(c));
        _mm256_storeu_si256(c, acc);
        continue;
      }
      if (out.bias) acc = _mm256_add_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out.bias + n)));
      __m256 scale = !out.scale ? _mm256_set1_ps(1.0f) : per_col ? _mm256_loadu_ps(out.scale + n) : _mm256_set1_ps(out.scale[0]);
      __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
      if (quant) {
        // Clamp in float, then cvtps2dq rounds half to even (the default MXCSR mode); the
        // values are in range, so the saturating packs below change nothing.
        v = _mm256_min_ps(qhi, _mm256_max_ps(qlo, v));
        __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), qzero);
        __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        __m128i bytes = out.kind == QGemmOutput::kUint8 ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<char*>(out.c) + m * out.ldc + n), bytes);
        continue;
      }
      // Scale then bias: Cast -> Mul -> Add up to float rounding (the compiler may fuse an FMA).
      if (out.float_bias) v = _mm256_add_ps(v, _mm256_loadu_ps(out.float_bias + n));
      float* c = static_cast<float*>(out.c) + m * out.ldc + n;
      if (out.accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(c));
      _mm256_storeu_ps(c, v);
    }
  }
}

void min_max_avx2(const float* x, int64_t n, float* lo, float* hi) {
  __m256 l0 = _mm256_set1_ps(*lo), l1 = l0, h0 = _mm256_set1_ps(*hi), h1 = h0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    l0 = _mm256_min_ps(v0, l0);
    l1 = _mm256_min_ps(v1, l1);
    h0 = _mm256_max_ps(v0, h0);
    h1 = _mm256_max_ps(v1, h1);
  }
  alignas(32) float ls[8], hs[8];
  _mm256_store_ps(ls, _mm256_min_ps(l0, l1));
  _mm256_store_ps(hs, _mm256_max_ps(h0, h1));
  for (int j = 0; j < 8; ++j) {
    *lo = std::min(*lo, ls[j]);
    *hi = std::max(*hi, hs[j]);
  }
  for (; i < n; ++i) {
    *lo = std::min(*lo, x[i]);
    *hi = std::max(*hi, x[i]);
  }
}

void quantize_u8_avx2(const float* x, int64_t n, float scale, int32_t zero, uint8_t* y) {
  const float qlo = 0.0f - static_cast<float>(zero), qhi = 255.0f - static_cast<float>(zero);
  const __m256 s = _mm256_set1_ps(scale), lo = _mm256_set1_ps(qlo), hi = _mm256_set1_ps(qhi);
  const __m256i z = _mm256_set1_epi32(zero), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  // Clamp in float, then cvtps2dq rounds half to even (the default MXCSR mode).
  auto q = [&](const float* p) {
    __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_div_ps(_mm256_loadu_ps(p), s)));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), z);
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i ab = _mm256_packs_epi32(q(x + i), q(x + i + 8));
    __m256i cd = _mm256_packs_epi32(q(x + i + 16), q(x + i + 24));
    __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), bytes);
  }
  for (; i < n; ++i) {
    float v = std::min(qhi, std::max(qlo, x[i] / scale));
    y[i] = static_cast<uint8_t>(round_half_even_small(v) + zero);
  }
}

}  // namespace qgemm_detail
}  // namespace xinrt
