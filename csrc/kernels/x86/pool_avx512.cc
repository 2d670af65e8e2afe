// AVX-512F pooling loops (kernels/pool.cc), the x86 counterparts of arm/pool_neon.cc. Compiled
// with -mavx512f; called only after a CPU check.
//
// Max keeps the scalar rule `e > y ? e : y`: _mm512_max_ps(e, y) returns its second operand
// when either is NaN, so a NaN input never wins, as onnx.reference's pooling skips it.
#include <immintrin.h>

#include <cstdint>

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

// v[i] = max(row[i], v[i]) / v[i] += row[i] for i < n: one window row into the running row.
void pool_rows_max_avx512(float* v, const float* row, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(v + i, max16(_mm512_loadu_ps(row + i), _mm512_loadu_ps(v + i)));
  if (i < n) {
    const __mmask16 m = first(n - i);
    _mm512_mask_storeu_ps(v + i, m, max16(_mm512_maskz_loadu_ps(m, row + i), _mm512_maskz_loadu_ps(m, v + i)));
  }
}

void pool_rows_add_avx512(float* v, const float* row, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(v + i, _mm512_add_ps(_mm512_loadu_ps(v + i), _mm512_loadu_ps(row + i)));
  if (i < n) {
    const __mmask16 m = first(n - i);
    _mm512_mask_storeu_ps(v + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, v + i), _mm512_maskz_loadu_ps(m, row + i)));
  }
}

// y[i] = max(t[i * s], y[i]) / y[i] += t[i * s] for i < n: one kernel column tap over a row.
// Strides 1 and 2 run 16 outputs at a time, the last < 16 masked (t must have 32 readable
// floats past any tap: pool.cc's line); other strides one at a time.
void pool_taps_max_avx512(float* y, const float* t, int64_t s, int64_t n) {
  if (s > 2) {
    for (int64_t i = 0; i < n; ++i) y[i] = t[i * s] > y[i] ? t[i * s] : y[i];
    return;
  }
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : first(n - i);
    _mm512_mask_storeu_ps(y + i, m, max16(taps16(t + i * s, s), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

void pool_taps_add_avx512(float* y, const float* t, int64_t s, int64_t n) {
  if (s > 2) {
    for (int64_t i = 0; i < n; ++i) y[i] += t[i * s];
    return;
  }
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : first(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), taps16(t + i * s, s)));
  }
}

}  // namespace xinrt
