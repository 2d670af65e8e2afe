// Float math written once over a lane-primitive struct S (simd_avx2.h's Avx2, simd_avx512.h's
// Avx512): exp, erf, sigmoid, tanh and the loops of vmath.h and recurrent_simd.h built on them.
// Include after one of those headers, only from a file compiled for that ISA; internal linkage.
// The polynomials are the NEON file's too (kernels/arm/vmath_neon.cc); the accuracy each path
// reaches is in vmath.h.
#pragma once

#include <math.h>

#include <cstdint>

namespace xinrt {
namespace {

// exp(x) for x in [-87.3, 88.7]: 2^n * e^r with |r| <= ln2/2 and a degree-7 Taylor polynomial
// (truncation < 6e-9 relative); 0 below the range (the true value would be denormal).
template <class S>
inline typename S::V exp_v(typename S::V x) {
  using V = typename S::V;
  const V hi = S::set1(88.7f), lo = S::set1(-87.3f);
  const auto under = S::lt(x, lo);
  x = S::min(S::max(x, lo), hi);
  const V n = S::round_nearest(S::mul(x, S::set1(1.44269504f)));
  V r = S::fnmadd(n, S::set1(0.693145752f), x);
  r = S::fnmadd(n, S::set1(1.42860677e-6f), r);
  V p = S::set1(1.0f / 5040);
  p = S::fmadd(p, r, S::set1(1.0f / 720));
  p = S::fmadd(p, r, S::set1(1.0f / 120));
  p = S::fmadd(p, r, S::set1(1.0f / 24));
  p = S::fmadd(p, r, S::set1(1.0f / 6));
  p = S::fmadd(p, r, S::set1(0.5f));
  p = S::fmadd(p, r, S::set1(1.0f));
  p = S::fmadd(p, r, S::set1(1.0f));
  return S::select(under, S::zero(), S::mul(p, S::pow2(n)));
}

// erf: |x| < 0.875: x + x * P(x^2) (the Taylor series, 12 terms); 0.875 <= |x| < 3.9192:
// 1 - exp(Q(|x|)) with Q a degree-9 fit of log(erfc); beyond, erf rounds to +-1. NaN stays NaN.
template <class S>
inline typename S::V erf_v(typename S::V x) {
  using V = typename S::V;
  const V sign = S::sign_bits(x), t = S::abs(x), s = S::mul(x, x);
  V p = S::set1(-1.2290555e-09f);
  p = S::fmadd(p, s, S::set1(1.4807193e-08f));
  p = S::fmadd(p, s, S::set1(-1.6365844e-07f));
  p = S::fmadd(p, s, S::set1(1.6462114e-06f));
  p = S::fmadd(p, s, S::set1(-1.4925650e-05f));
  p = S::fmadd(p, s, S::set1(1.2055333e-04f));
  p = S::fmadd(p, s, S::set1(-8.5483270e-04f));
  p = S::fmadd(p, s, S::set1(5.2239778e-03f));
  p = S::fmadd(p, s, S::set1(-2.6866172e-02f));
  p = S::fmadd(p, s, S::set1(1.1283792e-01f));
  p = S::fmadd(p, s, S::set1(-3.7612638e-01f));
  p = S::fmadd(p, s, S::set1(1.2837917e-01f));
  const V small = S::fmadd(p, x, x);
  const V tc = S::min(t, S::set1(3.92f));
  V q = S::set1(-3.1137495e-09f);
  q = S::fmadd(q, tc, S::set1(1.6914061e-06f));
  q = S::fmadd(q, tc, S::set1(-4.6392099e-05f));
  q = S::fmadd(q, tc, S::set1(5.9733010e-04f));
  q = S::fmadd(q, tc, S::set1(-4.7559123e-03f));
  q = S::fmadd(q, tc, S::set1(2.6398428e-02f));
  q = S::fmadd(q, tc, S::set1(-1.1002314e-01f));
  q = S::fmadd(q, tc, S::set1(-6.3190180e-01f));
  q = S::fmadd(q, tc, S::set1(-1.1301812e+00f));
  q = S::fmadd(q, tc, S::set1(3.0549182e-04f));
  V big = S::sub(S::set1(1.0f), exp_v<S>(q));
  big = S::select(S::ge(t, S::set1(3.9192058f)), S::set1(1.0f), big);
  big = S::or_bits(big, sign);
  return S::select(S::ge(t, S::set1(0.875f)), big, small);
}

// exp_v clamps its input, which would turn NaN into a number: put NaN lanes back.
template <class S>
inline typename S::V keep_nan(typename S::V x, typename S::V y) {
  return S::select(S::is_nan(x), x, y);
}

// A true division: rcp + one Newton step is 2-4 ulp off, and sigmoid near 1 feeds GRU's
// (1 - z), where that error became 1e-7 absolute on tiny states (onnx's GRU tests caught it).
template <class S>
inline typename S::V sigmoid_v(typename S::V x) {
  const typename S::V one = S::set1(1.0f);
  return keep_nan<S>(x, S::div(one, S::add(one, exp_v<S>(S::sub(S::zero(), x)))));
}

// tanh(|x|) = (1 - e) / (1 + e) with e = exp(-2|x|) (never overflows), sign restored. Near 0
// the difference 1 - e loses relative accuracy (tiny states came out ~1e-7 off, failing onnx's
// GRU tests), so |x| < 1/4 takes the odd Taylor series through x^11 (truncation < 1e-9 relative).
template <class S>
inline typename S::V tanh_v(typename S::V x) {
  using V = typename S::V;
  const V one = S::set1(1.0f), sign = S::sign_bits(x), t = S::abs(x);
  const V e = exp_v<S>(S::mul(t, S::set1(-2.0f)));
  V y = S::mul(S::sub(one, e), S::div(one, S::add(one, e)));
  const V t2 = S::mul(t, t);
  V p = S::fmadd(t2, S::set1(-1382.0f / 155925.0f), S::set1(62.0f / 2835.0f));
  p = S::fmadd(t2, p, S::set1(-17.0f / 315.0f));
  p = S::fmadd(t2, p, S::set1(2.0f / 15.0f));
  p = S::fmadd(t2, p, S::set1(-1.0f / 3.0f));
  p = S::fmadd(S::mul(t2, t), p, t);
  y = S::select(S::lt(t, S::set1(0.25f)), p, y);
  return keep_nan<S>(x, S::or_bits(y, sign));
}

// y[i] = f(x[i]) for a lane function f; the tail through partial loads and stores.
template <class S, class F>
inline void map_lanes(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + S::kLanes <= n; i += S::kLanes) S::store(y + i, f(S::load(x + i)));
  if (i < n) S::store_partial(y + i, f(S::load_partial(x + i, n - i)), n - i);
}

template <class S>
void erf_f32_lanes(const float* x, float* y, int64_t n) {
  map_lanes<S>(x, y, n, [](typename S::V v) { return erf_v<S>(v); });
}

// The Erf GELU as exporters write it: ((erf(x / div) + add) * x) * mul, in that float order.
template <class S>
void gelu_erf_f32_lanes(const float* x, float* y, int64_t n, float div, float add, float mul) {
  const typename S::V vd = S::set1(div), va = S::set1(add), vm = S::set1(mul);
  map_lanes<S>(x, y, n, [&](typename S::V v) {
    return S::mul(S::mul(S::add(erf_v<S>(S::div(v, vd)), va), v), vm);
  });
}

// y[i] = exp(x[i] - shift), returning the sum of y; the tail in scalar code, as the baseline.
template <class S>
float exp_shift_sum_f32_lanes(const float* x, float* y, int64_t n, float shift) {
  const typename S::V vs = S::set1(shift);
  typename S::V acc = S::zero();
  int64_t i = 0;
  for (; i + S::kLanes <= n; i += S::kLanes) {
    const typename S::V e = exp_v<S>(S::sub(S::load(x + i), vs));
    S::store(y + i, e);
    acc = S::add(acc, e);
  }
  float sum = S::reduce_add(acc);
  for (; i < n; ++i) {
    y[i] = expf(x[i] - shift);  // the C function: no inline C++ wrapper compiled for this ISA
    sum += y[i];
  }
  return sum;
}

template <class S>
void sigmoid_f32_lanes(const float* x, float* y, int64_t n) {
  map_lanes<S>(x, y, n, [](typename S::V v) { return sigmoid_v<S>(v); });
}

template <class S>
void tanh_f32_lanes(const float* x, float* y, int64_t n) {
  map_lanes<S>(x, y, n, [](typename S::V v) { return tanh_v<S>(v); });
}

// recurrent_simd.h's lstm_gates: the LSTM cell with the default activations for n units.
template <class S>
void lstm_gates_lanes(int64_t n, const float* gi, const float* go, const float* gf, const float* gc, const float* c_prev,
                const float* pi, const float* po, const float* pf, float clip, bool input_forget, float* c_next,
                float* h_next) {
  using V = typename S::V;
  const bool clip_on = clip > 0.0f, peephole = pi != nullptr;
  const V lo = S::set1(-clip), hi = S::set1(clip);
  // max(lo, x) / min(hi, x) return x when it is NaN, like the scalar clip.
  auto clamp = [&](V x) { return clip_on ? S::min(hi, S::max(lo, x)) : x; };
  for (int64_t j = 0; j < n; j += S::kLanes) {
    const int64_t w = n - j < S::kLanes ? n - j : S::kLanes;
    auto load = [&](const float* p) { return w == S::kLanes ? S::load(p + j) : S::load_partial(p + j, w); };
    auto store = [&](float* p, V v) { w == S::kLanes ? S::store(p + j, v) : S::store_partial(p + j, v, w); };
    const V cp = load(c_prev);
    auto peep = [&](const float* p, V c, V g) { return peephole ? S::fmadd(load(p), c, g) : g; };
    const V i = sigmoid_v<S>(clamp(peep(pi, cp, load(gi))));
    const V f = input_forget ? S::sub(S::set1(1.0f), i) : sigmoid_v<S>(clamp(peep(pf, cp, load(gf))));
    const V c = S::fmadd(f, cp, S::mul(i, tanh_v<S>(clamp(load(gc)))));
    const V o = sigmoid_v<S>(clamp(peep(po, c, load(go))));
    store(c_next, c);
    store(h_next, S::mul(o, tanh_v<S>(c)));
  }
}

}  // namespace
}  // namespace xinrt
