// Softmax. Opsets 1-12 coerce the input to 2-D at `axis` (default 1), as the spec and ONNX
// Runtime do; opset 13+ normalises along `axis` (default -1).
#include <algorithm>
#include <cmath>

#include "core/registry.h"
#include "kernels/vmath.h"

namespace xinrt {
namespace {

std::string check_softmax(const NodeInfo& n) {
  int64_t rank = n.input_rank(0);
  int64_t axis = n.attr_int("axis", n.opset < 13 ? 1 : -1);
  if (rank >= 0 && (axis < -rank || axis >= std::max<int64_t>(rank, 1)))
    return "Softmax: axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank);
  return "";
}

void compute_softmax(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (X.dtype != DType::f32) throw KernelError("Softmax: float32 only");
  int64_t rank = X.rank();
  int64_t axis = ctx.node.attr_int("axis", ctx.node.opset < 13 ? 1 : -1);
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    throw KernelError("axis " + std::to_string(axis) + " out of range for shape " + shape_str(X.shape));
  if (axis < 0) axis += rank;
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) outer *= X.shape[i];
    else if (i == axis || ctx.node.opset < 13) n *= X.shape[i];
    else inner *= X.shape[i];
  }
  out[0] = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  if (X.numel() == 0) return;
  if (inner == 1) {  // contiguous rows: vector exp and sum
    int simd = ctx.simd;
    ctx.pool.parallel_for(outer, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float* xs = x + o * n;
        float* ys = y + o * n;
        float mx = xs[0];
        for (int64_t j = 1; j < n; ++j) mx = std::max(mx, xs[j]);
        float s = exp_shift_sum_f32(xs, ys, n, mx, simd);
        for (int64_t j = 0; j < n; ++j) ys[j] /= s;
      }
    });
    return;
  }
  ctx.pool.parallel_for(outer * inner, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / inner, i = t % inner;
      const float* xs = x + o * n * inner + i;
      float* ys = y + o * n * inner + i;
      float mx = xs[0];
      for (int64_t j = 1; j < n; ++j) mx = std::max(mx, xs[j * inner]);
      double sum = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        float v = std::exp(xs[j * inner] - mx);
        ys[j * inner] = v;
        sum += v;
      }
      float s = static_cast<float>(sum);
      for (int64_t j = 0; j < n; ++j) ys[j * inner] /= s;
    }
  });
}

}  // namespace

void register_softmax(std::vector<Kernel>& k) {
  k.push_back(Kernel("Softmax").opsets(1, kMaxOpset).types({DType::f32}).check(check_softmax)
              .compute(compute_softmax));
}

}  // namespace xinrt
