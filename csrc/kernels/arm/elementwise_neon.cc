// NEON inner loops of the elementwise ops: float32 Add/Sub/Mul/Div over one broadcast run
// (both inputs contiguous, or one a scalar) and Relu/LeakyRelu. Each lane computes exactly the
// scalar expression (one IEEE operation, compare-and-select), so results equal the baseline's
// bit for bit, NaN and signed zeros included. Plain: raw pointers only.
#include <arm_neon.h>

#include <cstdint>

namespace xinrt {
namespace {

template <int kOp>
inline float32x4_t apply(float32x4_t a, float32x4_t b) {
  if constexpr (kOp == 0) return vaddq_f32(a, b);
  else if constexpr (kOp == 1) return vsubq_f32(a, b);
  else if constexpr (kOp == 2) return vmulq_f32(a, b);
  else return vdivq_f32(a, b);
}

template <int kOp>
inline float apply(float a, float b) {
  if constexpr (kOp == 0) return a + b;
  else if constexpr (kOp == 1) return a - b;
  else if constexpr (kOp == 2) return a * b;
  else return a / b;
}

// sa, sb: 1 (contiguous) or 0 (one value repeated); the caller handles other strides.
template <int kOp>
void binary_run(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  int64_t i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= n; i += 8) {
      vst1q_f32(y + i, apply<kOp>(vld1q_f32(a + i), vld1q_f32(b + i)));
      vst1q_f32(y + i + 4, apply<kOp>(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
    }
    for (; i < n; ++i) y[i] = apply<kOp>(a[i], b[i]);
  } else if (sa == 0) {
    float32x4_t va = vdupq_n_f32(a[0]);
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, apply<kOp>(va, vld1q_f32(b + i)));
    for (; i < n; ++i) y[i] = apply<kOp>(a[0], b[i]);
  } else {
    float32x4_t vb = vdupq_n_f32(b[0]);
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, apply<kOp>(vld1q_f32(a + i), vb));
    for (; i < n; ++i) y[i] = apply<kOp>(a[i], b[0]);
  }
}

}  // namespace

// op: 0 Add, 1 Sub, 2 Mul, 3 Div.
void binary_f32_neon(int op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  switch (op) {
    case 0: binary_run<0>(a, sa, b, sb, y, n); break;
    case 1: binary_run<1>(a, sa, b, sb, y, n); break;
    case 2: binary_run<2>(a, sa, b, sb, y, n); break;
    default: binary_run<3>(a, sa, b, sb, y, n); break;
  }
}

// y = x < 0 ? x * alpha : x (Relu is alpha = 0; -0.0 and NaN pass through as in the scalar form).
void leaky_relu_f32_neon(const float* x, float* y, int64_t n, float alpha) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  int64_t i = 0;
  if (alpha == 0.0f) {  // Relu: the scalar form returns 0.0f, not x * 0
    for (; i + 4 <= n; i += 4) {
      float32x4_t v = vld1q_f32(x + i);
      vst1q_f32(y + i, vbslq_f32(vcltq_f32(v, zero), zero, v));
    }
    for (; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
    return;
  }
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vld1q_f32(x + i);
    vst1q_f32(y + i, vbslq_f32(vcltq_f32(v, zero), vmulq_n_f32(v, alpha), v));
  }
  for (; i < n; ++i) y[i] = x[i] < 0.0f ? x[i] * alpha : x[i];
}

}  // namespace xinrt
