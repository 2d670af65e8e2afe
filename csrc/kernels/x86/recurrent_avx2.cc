// AVX2/FMA pieces of the recurrent kernels (recurrent_simd.h): sigmoid, tanh and the per-step
// H_prev * R^T over R^T panels. Plain raw-pointer code, called only after the run-time CPU check.
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

// exp256 clamps its input, which would turn NaN into a number: put NaN lanes back.
inline __m256 keep_nan(__m256 x, __m256 y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }

inline __m256 sigmoid256(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return keep_nan(x, _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x)))));
}

// tanh(|x|) = (1 - e) / (1 + e) with e = exp(-2|x|) (never overflows), sign restored. Near 0
// the difference 1 - e costs relative accuracy but stays within ~1e-7 absolute.
inline __m256 tanh256(__m256 x) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
  __m256 sign = _mm256_and_ps(x, sign_mask);
  __m256 t = _mm256_andnot_ps(sign_mask, x);
  __m256 e = exp256(_mm256_mul_ps(t, _mm256_set1_ps(-2.0f)));
  __m256 y = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
  return keep_nan(x, _mm256_or_ps(y, sign));
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

// Adds acc (one 16-column panel row as two vectors) into out, only `width` columns of it.
inline void add_panel(float* out, __m256 lo, __m256 hi, int width) {
  if (width == 16) {
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), lo));
    _mm256_storeu_ps(out + 8, _mm256_add_ps(_mm256_loadu_ps(out + 8), hi));
    return;
  }
  alignas(32) float buf[16];
  _mm256_store_ps(buf, lo);
  _mm256_store_ps(buf + 8, hi);
  for (int j = 0; j < width; ++j) out[j] += buf[j];
}

// R rows x P panels, accumulators in registers; panel q's last row ends its stream.
template <int R, int P>
inline void panels_block(const float* a, int64_t lda, int64_t K, const float* panels, float* out, int64_t ldo,
                         int last_width) {
  __m256 acc[R][2 * P];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 2 * P; ++c) acc[r][c] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    __m256 w[2 * P];
    for (int p = 0; p < P; ++p) {
      w[2 * p] = _mm256_loadu_ps(panels + (p * K + k) * 16);
      w[2 * p + 1] = _mm256_loadu_ps(panels + (p * K + k) * 16 + 8);
    }
    for (int r = 0; r < R; ++r) {
      __m256 av = _mm256_broadcast_ss(a + r * lda + k);
      for (int c = 0; c < 2 * P; ++c) acc[r][c] = _mm256_fmadd_ps(av, w[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p)
      add_panel(out + r * ldo + p * 16, acc[r][2 * p], acc[r][2 * p + 1], p == P - 1 ? last_width : 16);
}

// Blocks of P panels, then narrower blocks for the rest, so a few panels still get several
// independent accumulator chains. The block holding the last panel keeps last_width columns.
template <int R, int P>
void panels_rows(const float* a, int64_t lda, int64_t K, const float* panels, int64_t npanels, int last_width,
                 float* out, int64_t ldo) {
  int64_t q = 0;
  auto width = [&](int64_t n) { return q + n == npanels ? last_width : 16; };
  for (; q + P <= npanels; q += P) panels_block<R, P>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(P));
  if constexpr (P > 4)
    for (; q + 4 <= npanels; q += 4) panels_block<R, 4>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(4));
  if constexpr (P > 2)
    for (; q + 2 <= npanels; q += 2) panels_block<R, 2>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(2));
  for (; q < npanels; ++q) panels_block<R, 1>(a, lda, K, panels + q * K * 16, out + q * 16, ldo, width(1));
}

// One LSTM gate vector (8 units) with the default activations; see lstm_gates_avx2.
struct LstmLanes {
  __m256 gi, go, gf, gc, cp, pi, po, pf;
};

inline void lstm_lanes(const LstmLanes& v, bool peephole, bool clip_on, __m256 lo, __m256 hi, bool input_forget,
                       __m256* c_out, __m256* h_out) {
  // max(lo, x) / min(hi, x) return x when it is NaN, like the scalar clip.
  auto clip = [&](__m256 x) { return clip_on ? _mm256_min_ps(hi, _mm256_max_ps(lo, x)) : x; };
  auto peep = [&](__m256 p, __m256 c, __m256 g) { return peephole ? _mm256_fmadd_ps(p, c, g) : g; };
  const __m256 i = sigmoid256(clip(peep(v.pi, v.cp, v.gi)));
  const __m256 f = input_forget ? _mm256_sub_ps(_mm256_set1_ps(1.0f), i) : sigmoid256(clip(peep(v.pf, v.cp, v.gf)));
  const __m256 c = _mm256_fmadd_ps(f, v.cp, _mm256_mul_ps(i, tanh256(clip(v.gc))));
  const __m256 o = sigmoid256(clip(peep(v.po, c, v.go)));
  *c_out = c;
  *h_out = _mm256_mul_ps(o, tanh256(c));
}

}  // namespace

void lstm_gates_avx2(int64_t n, const float* gi, const float* go, const float* gf, const float* gc,
                     const float* c_prev, const float* pi, const float* po, const float* pf, float clip,
                     bool input_forget, float* c_next, float* h_next) {
  const bool clip_on = clip > 0.0f;
  const __m256 lo = _mm256_set1_ps(-clip), hi = _mm256_set1_ps(clip), zero = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    LstmLanes v{_mm256_loadu_ps(gi + j), _mm256_loadu_ps(go + j), _mm256_loadu_ps(gf + j), _mm256_loadu_ps(gc + j),
                _mm256_loadu_ps(c_prev + j), pi ? _mm256_loadu_ps(pi + j) : zero, po ? _mm256_loadu_ps(po + j) : zero,
                pf ? _mm256_loadu_ps(pf + j) : zero};
    __m256 c, h;
    lstm_lanes(v, pi != nullptr, clip_on, lo, hi, input_forget, &c, &h);
    _mm256_storeu_ps(c_next + j, c);
    _mm256_storeu_ps(h_next + j, h);
  }
  if (j == n) return;
  // The last n % 8 units through zero-padded buffers.
  alignas(32) float buf[8][8] = {};
  const float* src[8] = {gi, go, gf, gc, c_prev, pi, po, pf};
  for (int a = 0; a < 8; ++a)
    if (src[a])
      for (int64_t k = j; k < n; ++k) buf[a][k - j] = src[a][k];
  LstmLanes v{_mm256_load_ps(buf[0]), _mm256_load_ps(buf[1]), _mm256_load_ps(buf[2]), _mm256_load_ps(buf[3]),
              _mm256_load_ps(buf[4]), _mm256_load_ps(buf[5]), _mm256_load_ps(buf[6]), _mm256_load_ps(buf[7])};
  __m256 c, h;
  lstm_lanes(v, pi != nullptr, clip_on, lo, hi, input_forget, &c, &h);
  _mm256_store_ps(buf[0], c);
  _mm256_store_ps(buf[1], h);
  for (int64_t k = j; k < n; ++k) {
    c_next[k] = buf[0][k - j];
    h_next[k] = buf[1][k - j];
  }
}

void sigmoid_f32_avx2(const float* x, float* y, int64_t n) { map_f32<sigmoid256>(x, y, n); }
void tanh_f32_avx2(const float* x, float* y, int64_t n) { map_f32<tanh256>(x, y, n); }

void recurrent_panels_acc_avx2(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                               int64_t npanels, int last_width, float* out, int64_t ldo) {
  int64_t b = 0;
  for (; b + 6 <= rows; b += 6) panels_rows<6, 1>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  for (; b + 4 <= rows; b += 4) panels_rows<4, 1>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  for (; b + 2 <= rows; b += 2) panels_rows<2, 2>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
  for (; b < rows; ++b) panels_rows<1, 4>(a + b * lda, lda, K, panels, npanels, last_width, out + b * ldo, ldo);
}

}  // namespace xinrt
