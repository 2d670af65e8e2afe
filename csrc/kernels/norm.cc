// BatchNormalization (inference), LayerNormalization and LRN (across channels, as the spec
// defines it).
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/simd_level.h"
#include "core/registry.h"
#include "kernels/elementwise.h"

namespace xinrt {

// NEON inner loops (kernels/arm/norm_neon.cc).
void scale_shift_f32_neon(const float* x, float* y, int64_t n, float a, float b);
void layer_norm_row_neon(const float* x, const float* scale, const float* bias, float* y, int64_t n, float eps);

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
#if XINRT_HAVE_NEON
      if (ctx.simd >= kSimdNeon) {
        scale_shift_f32_neon(xp, yp, size, a, sh);
        continue;
      }
#endif
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

// LayerNormalization (opset 17): Y = (X - mean) / sqrt(var + epsilon) * Scale + B over the
// axes [axis, rank); Scale and B broadcast to those axes. Mean/InvStdDev outputs are declined.
std::string check_layer_norm(const NodeInfo& n) {
  if (n.input_dtypes.size() < 2 || !n.has_input(1)) return "LayerNormalization: Scale input missing";
  for (size_t i = 1; i < n.input_dtypes.size(); ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  if (n.num_outputs > 1) return "LayerNormalization: Mean/InvStdDev outputs are not supported";
  if (n.attr_int("stash_type", 1) != 1) return "LayerNormalization: stash_type other than float32 not supported";
  return "";
}

// A per-normalized-element copy of Scale or B (broadcast to the normalized shape).
std::vector<float> expand_to(const Tensor& t, const Shape& norm_shape) {
  Broadcast b = broadcast_many({t.shape, norm_shape}, "LayerNormalization");
  if (b.out != norm_shape)
    throw KernelError("LayerNormalization: Scale/B shape " + shape_str(t.shape) + " does not broadcast to " +
                      shape_str(norm_shape));
  std::vector<float> v(shape_numel(norm_shape));
  std::vector<int64_t> idx(norm_shape.size(), 0);
  for (size_t k = 0; k < v.size(); ++k) {
    int64_t off = 0, rem = static_cast<int64_t>(k);
    for (size_t d = norm_shape.size(); d-- > 0;) {
      off += (rem % norm_shape[d]) * b.strides[0][d];
      rem /= norm_shape[d];
    }
    v[k] = t.ptr<float>()[off];
  }
  return v;
}

void compute_layer_norm(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] && in[i]->dtype != DType::f32) throw KernelError("LayerNormalization: float32 only");
  int64_t r = X.rank(), axis = ctx.node.attr_int("axis", -1);
  if (axis < -r || axis >= r) throw KernelError("LayerNormalization: axis out of range for " + shape_str(X.shape));
  if (axis < 0) axis += r;
  Shape norm_shape(X.shape.begin() + axis, X.shape.end());
  int64_t n = shape_numel(norm_shape), rows = n ? X.numel() / n : 0;
  std::vector<float> scale = expand_to(*in[1], norm_shape);
  std::vector<float> bias = in.size() > 2 && in[2] ? expand_to(*in[2], norm_shape) : std::vector<float>(n, 0.0f);
  float eps = ctx.node.attr_float("epsilon", 1e-5f);
  out[0] = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  ctx.pool.parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const float* xr = x + row * n;
      float* yr = y + row * n;
#if XINRT_HAVE_NEON
      if (ctx.simd >= kSimdNeon) {
        layer_norm_row_neon(xr, scale.data(), bias.data(), yr, n, eps);
        continue;
      }
#endif
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) sum += xr[i];
      float mean = static_cast<float>(sum / n);
      double sq = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        float d = xr[i] - mean;
        sq += static_cast<double>(d) * d;
      }
      float inv = 1.0f / std::sqrt(static_cast<float>(sq / n) + eps);
      for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mean) * inv * scale[i] + bias[i];
    }
  });
}

}  // namespace

void register_norm(std::vector<Kernel>& k) {
  k.push_back(Kernel("BatchNormalization").opsets(6, kMaxOpset).types({DType::f32}).check(check_batchnorm)
              .compute(compute_batchnorm));
  k.push_back(Kernel("LayerNormalization").opsets(17, kMaxOpset).types({DType::f32}).check(check_layer_norm)
              .compute(compute_layer_norm));
  k.push_back(Kernel("LRN").opsets(1, kMaxOpset).types({DType::f32}).check(check_lrn).compute(compute_lrn));
}

}  // namespace xinrt
