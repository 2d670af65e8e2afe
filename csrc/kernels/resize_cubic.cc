// Cubic Resize: four taps per output along each axis, one axis at a time in float64.
#include "kernels/resize_cubic.h"

#include <algorithm>
#include <cmath>

namespace xinrt {
namespace {

// The four tap indices (unclamped) and weights for source coordinate x. An x exactly on a
// sample takes ratio 1 from the sample before it, as onnx.reference does.
void cubic_taps(double x, double a, bool exclude_outside, int64_t n, int64_t* idx, double* w) {
  double f = std::floor(x);
  double ratio = x - f;
  if (ratio == 0.0) {
    f -= 1.0;
    ratio = 1.0;
  }
  double s = ratio + 1, t = 1 - ratio, u = t + 1;
  w[0] = ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
  w[1] = ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1;
  w[2] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[3] = ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
  int64_t base = static_cast<int64_t>(f) - 1;
  double sum = 0;
  for (int k = 0; k < 4; ++k) {
    idx[k] = base + k;
    if (exclude_outside && (idx[k] < 0 || idx[k] >= n)) w[k] = 0;
    sum += w[k];
  }
  if (exclude_outside)
    for (int k = 0; k < 4; ++k) w[k] /= sum;
}

}  // namespace

void resize_cubic(const Tensor& X, const std::vector<std::vector<double>>& coord, double a, bool exclude_outside,
                  Tensor& Y, ThreadPool& pool) {
  int64_t r = X.rank();
  Shape cur = X.shape;
  std::vector<double> data(X.ptr<float>(), X.ptr<float>() + X.numel());
  for (int64_t d = 0; d < r; ++d) {
    int64_t outer = 1, inner = 1, n = cur[d], m = Y.shape[d];
    for (int64_t k = 0; k < d; ++k) outer *= cur[k];
    for (int64_t k = d + 1; k < r; ++k) inner *= cur[k];
    std::vector<int64_t> idx(static_cast<size_t>(4 * m));
    std::vector<double> w(static_cast<size_t>(4 * m));
    for (int64_t j = 0; j < m; ++j) {
      cubic_taps(coord[d][j], a, exclude_outside, n, &idx[4 * j], &w[4 * j]);
      for (int k = 0; k < 4; ++k) idx[4 * j + k] = std::min(std::max<int64_t>(idx[4 * j + k], 0), n - 1);
    }
    std::vector<double> next(static_cast<size_t>(outer * m * inner));
    if (n > 0 && outer * m * inner > 0) {
      pool.parallel_for(outer * m, std::max<int64_t>(1, 4096 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
          int64_t o = t / m, j = t % m;
          double* dst = next.data() + t * inner;
          std::fill(dst, dst + inner, 0.0);
          for (int k = 0; k < 4; ++k) {
            const double* src = data.data() + (o * n + idx[4 * j + k]) * inner;
            double wk = w[4 * j + k];
            for (int64_t i = 0; i < inner; ++i) dst[i] += wk * src[i];
          }
        }
      });
    }
    data.swap(next);
    cur[d] = m;
  }
  float* y = Y.ptr<float>();
  for (size_t k = 0; k < data.size(); ++k) y[k] = static_cast<float>(data[k]);
}

}  // namespace xinrt
