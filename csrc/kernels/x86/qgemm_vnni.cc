// AVX-512 VNNI integer GEMM: vpdpbusd multiplies u8 by s8 in groups of four and adds into int32
// without saturation (the non-"s" form), so A is stored u8 and B s8; qgemm.cc offsets the other
// signedness by 128 and moves its zero point with it, which keeps every result exact.
#include <immintrin.h>

#include <cstring>

#include "kernels/qgemm_kernels.h"

namespace xinrt {
namespace qgemm_detail {

// tile[i][0:32] = sum_g A(i, 4g..4g+3) . B(4g..4g+3, 0:32); a B group is 32 columns x 4 bytes.
// Sixteen named accumulators (not an array) so the compiler keeps them all in registers.
void qgemm_kernel_8x32_vnni(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                            int32_t* tile) {
  const char* ap = static_cast<const char*>(a);
  const __m512i* b = static_cast<const __m512i*>(b_panel);
  // Rows past mr read row 0 again (valid memory) and are never stored.
  const char* a0 = ap;
  const char* a1 = ap + (mr > 1 ? 1 : 0) * lda_bytes;
  const char* a2 = ap + (mr > 2 ? 2 : 0) * lda_bytes;
  const char* a3 = ap + (mr > 3 ? 3 : 0) * lda_bytes;
  const char* a4 = ap + (mr > 4 ? 4 : 0) * lda_bytes;
  const char* a5 = ap + (mr > 5 ? 5 : 0) * lda_bytes;
  const char* a6 = ap + (mr > 6 ? 6 : 0) * lda_bytes;
  const char* a7 = ap + (mr > 7 ? 7 : 0) * lda_bytes;
  __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512i c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  auto bcast = [](const char* row, int64_t g) {
    int32_t v;
    std::memcpy(&v, row + g * 4, 4);
    return _mm512_set1_epi32(v);
  };
#define XINRT_VNNI_ROW(r)                        \
  {                                              \
    __m512i av = bcast(a##r, g);                 \
    c##r##0 = _mm512_dpbusd_epi32(c##r##0, av, b0); \
    c##r##1 = _mm512_dpbusd_epi32(c##r##1, av, b1); \
  }
  for (int64_t g = 0; g < kgroups; ++g) {
    __m512i b0 = _mm512_load_si512(b + 2 * g), b1 = _mm512_load_si512(b + 2 * g + 1);
    XINRT_VNNI_ROW(0)
    XINRT_VNNI_ROW(1)
    XINRT_VNNI_ROW(2)
    XINRT_VNNI_ROW(3)
    XINRT_VNNI_ROW(4)
    XINRT_VNNI_ROW(5)
    XINRT_VNNI_ROW(6)
    XINRT_VNNI_ROW(7)
  }
#undef XINRT_VNNI_ROW
  const __m512i rows[16] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71};
  for (int i = 0; i < mr; ++i) {
    _mm512_storeu_si512(tile + i * 32, rows[2 * i]);
    _mm512_storeu_si512(tile + i * 32 + 16, rows[2 * i + 1]);
  }
}

void output_stage_avx512(const QGemmOutput& out, const int32_t* tile, int64_t tile_ld, const int32_t* rowsum,
                         const int32_t* zb, const int32_t* colterm, int64_t m0, int mr, int64_t n0, int nc) {
  const bool per_col = out.scale_count != 1;
  const bool quant = out.kind == QGemmOutput::kUint8 || out.kind == QGemmOutput::kInt8;
  const int32_t lo = out.kind == QGemmOutput::kInt8 ? -128 : 0, hi = out.kind == QGemmOutput::kInt8 ? 127 : 255;
  const __m512 qlo = _mm512_set1_ps(static_cast<float>(lo - out.out_zero));
  const __m512 qhi = _mm512_set1_ps(static_cast<float>(hi - out.out_zero));
  const __m512i qzero = _mm512_set1_epi32(out.out_zero);
  for (int i = 0; i < mr; ++i) {
    __m512i rs = _mm512_set1_epi32(rowsum[i]);
    int64_t m = m0 + i;
    for (int j = 0; j < nc; j += 16) {
      __mmask16 k = nc - j >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (nc - j)) - 1);
      int64_t n = n0 + j;
      // tile, zb and colterm hold full panels, so the unmasked loads stay in bounds.
      __m512i acc = _mm512_loadu_si512(tile + i * tile_ld + j);
      acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_loadu_si512(zb + j), rs));
      acc = _mm512_add_epi32(acc, _mm512_loadu_si512(colterm + j));
      if (out.kind == QGemmOutput::kInt32) {  // the int32 stage takes no bias
        int32_t* c = static_cast<int32_t*>(out.c) + m * out.ldc + n;
        if (out.accumulate) acc = _mm512_add_epi32(acc, _mm512_maskz_loadu_epi32(k, c));
        _mm512_mask_storeu_epi32(c, k, acc);
        continue;
      }
      if (out.bias) acc = _mm512_add_epi32(acc, _mm512_maskz_loadu_epi32(k, out.bias + n));
      __m512 scale = !out.scale ? _mm512_set1_ps(1.0f)
                     : per_col  ? _mm512_maskz_loadu_ps(k, out.scale + n)
                                : _mm512_set1_ps(out.scale[0]);
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
      if (quant) {
        // Clamp in float, then convert with the default round-to-nearest-even (as ORT does).
        v = _mm512_min_ps(qhi, _mm512_max_ps(qlo, v));
        __m128i q = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), qzero));
        _mm_mask_storeu_epi8(static_cast<char*>(out.c) + m * out.ldc + n, k, q);
        continue;
      }
      // Scale then bias: Cast -> Mul -> Add up to float rounding (the compiler may fuse an FMA).
      if (out.float_bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, out.float_bias + n));
      float* c = static_cast<float*>(out.c) + m * out.ldc + n;
      if (out.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, c));
      _mm512_mask_storeu_ps(c, k, v);
    }
  }
}

}  // namespace qgemm_detail
}  // namespace xinrt
