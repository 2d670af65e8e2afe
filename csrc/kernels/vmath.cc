// Portable baselines of vmath.h (the SIMD files hold the vector versions).
#include "kernels/vmath.h"

#include <cmath>

namespace xinrt {

void erf_f32_baseline(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
}

void gelu_erf_f32_baseline(const float* x, float* y, int64_t n, float div, float add, float mul) {
  for (int64_t i = 0; i < n; ++i) y[i] = ((std::erf(x[i] / div) + add) * x[i]) * mul;
}

float exp_shift_sum_f32_baseline(const float* x, float* y, int64_t n, float shift) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

void exp_f32_baseline(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

void sigmoid_f32_baseline(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if (v > 0.0f) {
      y[i] = 1.0f / (1.0f + std::exp(-v));
    } else {
      float e = std::exp(v);
      y[i] = e / (1.0f + e);
    }
  }
}

void tanh_f32_baseline(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

}  // namespace xinrt
