// AVX2/FMA pieces of the recurrent kernels (recurrent.h): sigmoid, tanh and the per-step
// H_prev * R^T. Plain raw-pointer code, called only after the run-time CPU check.
#include <immintrin.h>

#include <cstdint>

#include "kernels/recurrent_simd.h"

namespace xinrt {
namespace {

// exp(x) for x in [-87.3, 88.7] (clamped): 2^n * e^r, |r| <= ln2/2, degree-7 Taylor polynomial
// (< 6e-9 relative truncation); the same scheme as vmath_avx2.cc, which exports only array
// functions, so it is repeated here to fuse it into the gate math.
inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145752f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860677e-6f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

inline __m256 sigmoid256(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// tanh(|x|) = (1 - e) / (1 + e) with e = exp(-2|x|) (never overflows), sign restored. Near 0
// the difference 1 - e costs relative accuracy but stays within ~1e-7 absolute.
inline __m256 tanh256(__m256 x) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
  __m256 sign = _mm256_and_ps(x, sign_mask);
  __m256 t = _mm256_andnot_ps(sign_mask, x);
  __m256 e = exp256(_mm256_mul_ps(t, _mm256_set1_ps(-2.0f)));
  __m256 y = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
  return _mm256_or_ps(y, sign);
}

template <__m256 (*F)(__m256)>
void map_f32(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float buf[8] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    _mm256_storeu_ps(buf, F(_mm256_loadu_ps(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

// out[R rows, C * 8 columns] += a[R rows, K] * rt[K, C * 8 columns], accumulators in registers.
template <int R, int C>
inline void matmul_block(const float* a, int64_t lda, int64_t K, const float* rt, int64_t ldr, float* out,
                         int64_t ldo) {
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_loadu_ps(out + r * ldo + c * 8);
  for (int64_t k = 0; k < K; ++k) {
    const float* w = rt + k * ldr;
    __m256 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = _mm256_loadu_ps(w + c * 8);
    for (int r = 0; r < R; ++r) {
      __m256 av = _mm256_broadcast_ss(a + r * lda + k);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(av, wv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + r * ldo + c * 8, acc[r][c]);
}

// Rows a group of R at a time: wide column blocks of C vectors, then single vectors, then
// scalars for the last N % 8 columns.
template <int R, int C>
void matmul_rows(const float* a, int64_t lda, int64_t K, const float* rt, int64_t ldr, int64_t N, float* out,
                 int64_t ldo) {
  int64_t n = 0;
  for (; n + C * 8 <= N; n += C * 8) matmul_block<R, C>(a, lda, K, rt + n, ldr, out + n, ldo);
  for (; n + 8 <= N; n += 8) matmul_block<R, 1>(a, lda, K, rt + n, ldr, out + n, ldo);
  for (; n < N; ++n)
    for (int r = 0; r < R; ++r) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += a[r * lda + k] * rt[k * ldr + n];
      out[r * ldo + n] += s;
    }
}

}  // namespace

void sigmoid_f32_avx2(const float* x, float* y, int64_t n) { map_f32<sigmoid256>(x, y, n); }
void tanh_f32_avx2(const float* x, float* y, int64_t n) { map_f32<tanh256>(x, y, n); }

void recurrent_matmul_acc_avx2(const float* a, int64_t lda, int64_t rows, int64_t K, const float* rt,
                               int64_t ldr, int64_t N, float* out, int64_t ldo) {
  int64_t b = 0;
  for (; b + 4 <= rows; b += 4) matmul_rows<4, 2>(a + b * lda, lda, K, rt, ldr, N, out + b * ldo, ldo);
  for (; b + 2 <= rows; b += 2) matmul_rows<2, 4>(a + b * lda, lda, K, rt, ldr, N, out + b * ldo, ldo);
  for (; b < rows; ++b) matmul_rows<1, 8>(a + b * lda, lda, K, rt, ldr, N, out + b * ldo, ldo);
}

}  // namespace xinrt
