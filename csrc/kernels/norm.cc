// BatchNormalization (inference) and LRN (across channels, as the spec defines it).
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/registry.h"

namespace xinrt {
namespace {

std::string check_batchnorm(const NodeInfo& n) {
  if (n.input_dtypes.size() != 5) return "BatchNormalization: expects 5 inputs";
  for (size_t i = 1; i < 5; ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  if (n.opset < 6) return "BatchNormalization: opset < 6 (consumed_inputs form) not supported";
  if (n.num_outputs > 1) return "BatchNormalization: training outputs (mean/var) are not supported";
  if (n.opset < 7 && n.attr_int("is_test", 0) == 0) return "BatchNormalization: is_test=0 (training) not supported";
  if (n.opset < 9 && n.attr_int("spatial", 1) != 1) return "BatchNormalization: spatial=0 not supported";
  if (n.opset >= 14 && n.attr_int("training_mode", 0) != 0)
    return "BatchNormalization: training_mode=1 not supported";
  if (n.input_rank(0) >= 0 && n.input_rank(0) < 2) return "BatchNormalization: input rank must be >= 2";
  return "";
}

void compute_batchnorm(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  for (size_t i = 0; i < 5; ++i)
    if (!in[i] || in[i]->dtype != DType::f32) throw KernelError("BatchNormalization: float32 only");
  if (X.rank() < 2) throw KernelError("BatchNormalization: input rank must be >= 2");
  int64_t C = X.dim(1);
  for (size_t i = 1; i < 5; ++i)
    if (in[i]->numel() != C)
      throw KernelError("BatchNormalization: input " + std::to_string(i) + " has shape " + shape_str(in[i]->shape) +
                        ", expected " + std::to_string(C) + " values");
  float eps = ctx.node.attr_float("epsilon", 1e-5f);
  const float *s = in[1]->ptr<float>(), *b = in[2]->ptr<float>(), *mean = in[3]->ptr<float>(),
              *var = in[4]->ptr<float>();
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = s[c] / std::sqrt(var[c] + eps);
    shift[c] = b[c] - mean[c] * scale[c];
  }
  out[0] = Tensor::empty(DType::f32, X.shape);
  int64_t planes = X.dim(0) * C, size = planes ? X.numel() / planes : 0;
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  ctx.pool.parallel_for(planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(size, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float a = scale[p % C], sh = shift[p % C];
      const float* xp = x + p * size;
      float* yp = y + p * size;
      for (int64_t i = 0; i < size; ++i) yp[i] = xp[i] * a + sh;
    }
  });
}

std::string check_lrn(const NodeInfo& n) {
  if (!n.has_attr("size") || n.attr_int("size", 0) < 1) return "LRN: size attribute missing or < 1";
  if (n.input_rank(0) >= 0 && n.input_rank(0) != 4) return "LRN: only 4-D inputs";
  return "";
}

void compute_lrn(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (X.dtype != DType::f32 || X.rank() != 4) throw KernelError("LRN: float32 4-D input only");
  float alpha = ctx.node.attr_float("alpha", 1e-4f), beta = ctx.node.attr_float("beta", 0.75f),
        bias = ctx.node.attr_float("bias", 1.0f);
  int64_t size = ctx.node.attr_int("size", 1);
  int64_t N = X.dim(0), C = X.dim(1), HW = X.dim(2) * X.dim(3);
  int64_t before = (size - 1) / 2, after = (size - 1) - before;  // floor and ceil of (size-1)/2
  out[0] = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  ctx.pool.parallel_for(N * C, 1, [&](int64_t p0, int64_t p1) {
    std::vector<float> sq(HW);
    for (int64_t p = p0; p < p1; ++p) {
      int64_t n = p / C, c = p % C;
      std::fill(sq.begin(), sq.end(), 0.0f);
      for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(C - 1, c + after); ++j) {
        const float* xj = x + (n * C + j) * HW;
        for (int64_t i = 0; i < HW; ++i) sq[i] += xj[i] * xj[i];
      }
      const float* xp = x + p * HW;
      float* yp = y + p * HW;
      for (int64_t i = 0; i < HW; ++i) yp[i] = xp[i] / std::pow(bias + alpha / size * sq[i], beta);
    }
  });
}

}  // namespace

void register_norm(std::vector<Kernel>& k) {
  k.push_back({"BatchNormalization", "", 6, kMaxOpset, {DType::f32}, 0, check_batchnorm, nullptr,
               compute_batchnorm, nullptr});
  k.push_back({"LRN", "", 1, kMaxOpset, {DType::f32}, 0, check_lrn, nullptr, compute_lrn, nullptr});
}

}  // namespace xinrt
