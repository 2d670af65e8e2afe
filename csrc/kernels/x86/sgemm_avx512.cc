// AVX-512F 12x32 SGEMM micro-kernel (24 zmm accumulators). Compiled with -mavx512f -mfma;
// called only after a CPU check. Plain: raw pointers, no STL.
//
// One core reads B rows at any stride (packed panels: 32; a row-major B read in place: its
// leading dimension) and stores through a TileStore (sgemm.h), so the bias, residual and Relu
// of a Conv are applied in the store instead of in passes of their own over C.
#include <immintrin.h>

#include <cstdint>

#include "kernels/sgemm.h"

namespace xinrt {
namespace {

// Column masks of a tile nr columns wide: lanes 0-15 and 16-31.
inline __mmask16 low_mask(int nr) { return static_cast<__mmask16>(nr >= 16 ? 0xFFFF : (1u << nr) - 1); }
inline __mmask16 high_mask(int nr) {
  return static_cast<__mmask16>(nr <= 16 ? 0 : nr >= 32 ? 0xFFFF : (1u << (nr - 16)) - 1);
}

// How a tile's stored value starts: nothing, C (accumulate), or residual + bias (first K block).
enum class Start { kZero, kC, kBias, kResidualBias };

template <Start kStart, bool kRelu, bool kMasked>
inline __m512 finish(__m512 acc, const float* row, const float* res, __m512 bias, __mmask16 m) {
  __m512 v = acc;
  if (kStart == Start::kC) v = _mm512_add_ps(kMasked ? _mm512_maskz_loadu_ps(m, row) : _mm512_loadu_ps(row), v);
  if (kStart == Start::kBias) v = _mm512_add_ps(bias, v);
  if (kStart == Start::kResidualBias)
    v = _mm512_add_ps(_mm512_add_ps(kMasked ? _mm512_maskz_loadu_ps(m, res) : _mm512_loadu_ps(res), bias), v);
  // max(0, v) keeps a NaN (the second operand wins) and -0, as the scalar v < 0 ? 0 : v does
  // (the all-lanes maskz form: plain _mm512_max_ps trips GCC 12's -Wmaybe-uninitialized).
  if (kRelu) v = _mm512_maskz_max_ps(static_cast<__mmask16>(0xFFFF), _mm512_setzero_ps(), v);
  return v;
}

template <Start kStart, bool kRelu, bool kMasked, bool kHigh>
void store_rows_as(const __m512* lo, const __m512* hi, float* c, int64_t ldc, int mr, int nr, const TileStore& st) {
  const __mmask16 m0 = low_mask(nr), m1 = high_mask(nr);
  for (int r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    const float* res = kStart == Start::kResidualBias ? st.residual + r * st.ldr : nullptr;
    const __m512 bias = _mm512_set1_ps(st.bias ? st.bias[r] : 0.0f);
    __m512 v0 = finish<kStart, kRelu, kMasked>(lo[r], row, res, bias, m0);
    if (kMasked) _mm512_mask_storeu_ps(row, m0, v0);
    else _mm512_storeu_ps(row, v0);
    if (!kHigh) continue;
    __m512 v1 = finish<kStart, kRelu, kMasked>(hi[r], row + 16, res ? res + 16 : nullptr, bias, m1);
    if (kMasked) _mm512_mask_storeu_ps(row + 16, m1, v1);
    else _mm512_storeu_ps(row + 16, v1);
  }
}

template <Start kStart, bool kRelu>
void store_rows_start(const __m512* lo, const __m512* hi, float* c, int64_t ldc, int mr, int nr, const TileStore& st) {
  if (!hi && nr == 16) store_rows_as<kStart, kRelu, false, false>(lo, hi, c, ldc, mr, nr, st);
  else if (!hi) store_rows_as<kStart, kRelu, true, false>(lo, hi, c, ldc, mr, nr, st);
  else if (nr == 32) store_rows_as<kStart, kRelu, false, true>(lo, hi, c, ldc, mr, nr, st);
  else store_rows_as<kStart, kRelu, true, true>(lo, hi, c, ldc, mr, nr, st);
}

template <Start kStart>
void store_rows_relu(const __m512* lo, const __m512* hi, float* c, int64_t ldc, int mr, int nr, const TileStore& st) {
  if (st.relu) store_rows_start<kStart, true>(lo, hi, c, ldc, mr, nr, st);
  else store_rows_start<kStart, false>(lo, hi, c, ldc, mr, nr, st);
}

// Stores rows [0, mr) of a tile (hi null: 16 columns wide) whose accumulators the caller copied
// out to lo/hi after its k loop (the k loop's accumulators are then indexed by constants only and
// stay in registers; reading them here with a variable row made GCC keep them in memory inside
// the k loop). One branch per tile picks the start, Relu and masking.
void store_rows(const __m512* lo, const __m512* hi, float* c, int64_t ldc, int mr, int nr, const TileStore& st) {
  if (st.init && st.residual) store_rows_relu<Start::kResidualBias>(lo, hi, c, ldc, mr, nr, st);
  else if (st.init) store_rows_relu<Start::kBias>(lo, hi, c, ldc, mr, nr, st);
  else if (st.accumulate) store_rows_relu<Start::kC>(lo, hi, c, ldc, mr, nr, st);
  else store_rows_relu<Start::kZero>(lo, hi, c, ldc, mr, nr, st);
}

// Tail panels of at most 16 columns: half the FMAs of the full kernel. Masked B loads, so a B
// read in place is never read past its row's last column.
void kernel_12x16(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr, int nr,
                  const TileStore& st) {
  const __mmask16 m0 = low_mask(nr);
  __m512 acc[12];
  for (int r = 0; r < 12; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_maskz_loadu_ps(m0, b);
#pragma GCC unroll 12
    for (int r = 0; r < 12; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), b0, acc[r]);
    a += 12;
    b += ldb;
  }
  __m512 out[12];
#pragma GCC unroll 12
  for (int r = 0; r < 12; ++r) out[r] = acc[r];
  store_rows(out, nullptr, c, ldc, mr, nr, st);
}

template <bool kFull>
void kernel_12x32(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr, int nr,
                  const TileStore& st) {
  const __mmask16 m1 = kFull ? 0xFFFF : high_mask(nr);
  __m512 lo[12], hi[12];
  for (int r = 0; r < 12; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = kFull ? _mm512_loadu_ps(b + 16) : _mm512_maskz_loadu_ps(m1, b + 16);
#pragma GCC unroll 12
    for (int r = 0; r < 12; ++r) {
      __m512 ar = _mm512_set1_ps(a[r]);
      lo[r] = _mm512_fmadd_ps(ar, b0, lo[r]);
      hi[r] = _mm512_fmadd_ps(ar, b1, hi[r]);
    }
    a += 12;
    b += ldb;
  }
  __m512 out_lo[12], out_hi[12];
#pragma GCC unroll 12
  for (int r = 0; r < 12; ++r) {
    out_lo[r] = lo[r];
    out_hi[r] = hi[r];
  }
  store_rows(out_lo, out_hi, c, ldc, mr, nr, st);
}

// Narrow tails of 1-8 columns: the vectors run down the 12 rows of A, so a column costs one FMA
// per k instead of a 16-lane vector's share; 49 columns (a 7x7 output) cost 32 + 16 + 1 lanes
// instead of 64. Each sum is the same FMA chain from zero in k order as in the wide kernels, so
// the results are bit-identical to theirs.
constexpr int kNarrowMax = 8;

template <int kCols>
void kernel_12xn(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr,
                 const TileStore& st) {
  __m512 acc[kCols];
#pragma GCC unroll 8
  for (int j = 0; j < kCols; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 ak = _mm512_maskz_loadu_ps(static_cast<__mmask16>(0x0FFF), a);
#pragma GCC unroll 8
    for (int j = 0; j < kCols; ++j) acc[j] = _mm512_fmadd_ps(ak, _mm512_set1_ps(b[j]), acc[j]);
    a += 12;
    b += ldb;
  }
  alignas(64) float out[kCols][16];
#pragma GCC unroll 8
  for (int j = 0; j < kCols; ++j) _mm512_store_ps(out[j], acc[j]);
  for (int r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    const float bias = st.init && st.bias ? st.bias[r] : 0.0f;
    const float* res = st.init && st.residual ? st.residual + r * st.ldr : nullptr;
    for (int j = 0; j < kCols; ++j) {  // the wide kernels' order: (residual + bias) + sum
      float v = out[j][r];
      if (st.init) v = (res ? res[j] + bias : bias) + v;
      else if (st.accumulate) v = row[j] + v;
      row[j] = st.relu && v < 0.0f ? 0.0f : v;
    }
  }
}

void kernel_narrow(int cols, int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr,
                   const TileStore& st) {
  switch (cols) {
    case 1: return kernel_12xn<1>(kc, a, b, ldb, c, ldc, mr, st);
    case 2: return kernel_12xn<2>(kc, a, b, ldb, c, ldc, mr, st);
    case 3: return kernel_12xn<3>(kc, a, b, ldb, c, ldc, mr, st);
    case 4: return kernel_12xn<4>(kc, a, b, ldb, c, ldc, mr, st);
    case 5: return kernel_12xn<5>(kc, a, b, ldb, c, ldc, mr, st);
    case 6: return kernel_12xn<6>(kc, a, b, ldb, c, ldc, mr, st);
    case 7: return kernel_12xn<7>(kc, a, b, ldb, c, ldc, mr, st);
    default: return kernel_12xn<8>(kc, a, b, ldb, c, ldc, mr, st);
  }
}

}  // namespace

// A panel nr columns wide: 32 at once; 17-24 as 16 + a narrow tail; 25-31 masked at 32 wide;
// 9-16 at 16 wide; 1-8 narrow.
void sgemm_kernel_12x32_avx512_store(int64_t kc, const float* a, const float* b, int64_t ldb, float* c,
                                     int64_t ldc, int mr, int nr, const TileStore& st) {
  if (nr == 32) {
    kernel_12x32<true>(kc, a, b, ldb, c, ldc, mr, nr, st);
  } else if (nr > 16 + kNarrowMax) {
    kernel_12x32<false>(kc, a, b, ldb, c, ldc, mr, nr, st);
  } else if (nr > 16) {
    kernel_12x16(kc, a, b, ldb, c, ldc, mr, 16, st);
    TileStore tail = st;
    if (tail.residual) tail.residual += 16;
    kernel_narrow(nr - 16, kc, a, b + 16, ldb, c + 16, ldc, mr, tail);
  } else if (nr > kNarrowMax) {
    kernel_12x16(kc, a, b, ldb, c, ldc, mr, nr, st);
  } else {
    kernel_narrow(nr, kc, a, b, ldb, c, ldc, mr, st);
  }
}

void sgemm_kernel_12x32_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                               int nr, bool accumulate) {
  TileStore st;
  st.accumulate = accumulate;
  sgemm_kernel_12x32_avx512_store(kc, a, b, 32, c, ldc, mr, nr, st);
}

}  // namespace xinrt
