// Elementwise helpers shared by other kernel files.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace xinrt {

// Y = A (op) B with numpy broadcasting; op is "Add", "Sub", "Mul" or "Div" (float32, float64,
// int64, int32).
// simd: the SimdLevel of the float32 inner loops (cpu_features.h).
void binary_op(const std::string& op, const Tensor& A, const Tensor& B, Tensor& Y, ThreadPool& pool,
               int simd = 0);

// NEON inner loops (kernels/arm/elementwise_neon.cc). binary: op 0 Add, 1 Sub, 2 Mul, 3 Div over
// y[i] = a[i * sa] (op) b[i * sb] with sa, sb in {0, 1}, not both 0.
void binary_f32_neon(int op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n);
// y = x < 0 ? x * alpha : x; alpha == 0 is Relu (which gives 0.0f, never -0.0f).
void leaky_relu_f32_neon(const float* x, float* y, int64_t n, float alpha);

// A numpy broadcast of several shapes: the output shape and, per input, element strides over
// the output's dims (0 where the input is broadcast). Throws KernelError naming `op`.
struct Broadcast {
  Shape out;
  std::vector<std::vector<int64_t>> strides;
};
Broadcast broadcast_many(const std::vector<Shape>& shapes, const std::string& op);

// Calls row(offsets, n, out_offset) for every run of the output's last dim, where offsets[i] is
// input i's element offset at the run's start; parallel over runs.
template <class RowFn>
void for_each_row(const Broadcast& b, ThreadPool& pool, RowFn row) {
  int64_t r = static_cast<int64_t>(b.out.size());
  int64_t n = r ? b.out[r - 1] : 1, total = shape_numel(b.out);
  if (total == 0) return;
  int64_t rows = total / n;
  size_t k = b.strides.size();
  pool.parallel_for(rows, std::max<int64_t>(1, 16384 / n), [&](int64_t begin, int64_t end) {
    std::vector<int64_t> off(k);
    for (int64_t t = begin; t < end; ++t) {
      std::fill(off.begin(), off.end(), 0);
      int64_t rem = t;
      for (int64_t d = r - 2; d >= 0; --d) {
        int64_t idx = rem % b.out[d];
        rem /= b.out[d];
        for (size_t i = 0; i < k; ++i) off[i] += idx * b.strides[i][d];
      }
      row(off.data(), n, t * n);
    }
  });
}

}  // namespace xinrt
