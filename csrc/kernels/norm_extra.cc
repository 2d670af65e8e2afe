// Normalizations beyond norm.cc: InstanceNormalization, GroupNormalization (opset 21: scale and
// bias per channel; opset 18's per-group form is deprecated and declined), RMSNormalization and
// LpNormalization (a zero norm gives 0, as onnx.reference does) -- float32, statistics in double.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/registry.h"

namespace xinrt {
namespace {

// ---- InstanceNormalization / GroupNormalization ----

std::string check_instance_group(const NodeInfo& n) {
  if (n.input_dtypes.size() != 3) return n.op_type + ": expects 3 inputs";
  if (n.input_rank(0) >= 0 && n.input_rank(0) < 2) return n.op_type + ": input rank must be at least 2";
  for (size_t i = 1; i < 3; ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  if (n.op_type == "GroupNormalization") {
    if (n.attr_int("num_groups", 0) < 1) return "GroupNormalization: num_groups must be positive";
    if (n.attr_int("stash_type", 1) != 1) return "GroupNormalization: stash_type other than float32 not supported";
  }
  return "";
}

// Normalises each (n, group) block of channels_per_group * spatial elements; channel c's scale
// and bias are at index per_channel ? c : group.
void normalize_groups(const Tensor& X, const Tensor& S, const Tensor& B, int64_t groups, bool per_channel, float eps,
                      Tensor& Y, ThreadPool& pool, const std::string& op) {
  int64_t N = X.shape[0], C = X.shape[1], spatial = 1;
  for (int64_t d = 2; d < X.rank(); ++d) spatial *= X.shape[d];
  if (C % groups != 0) throw KernelError(op + ": " + std::to_string(groups) + " groups do not divide " + std::to_string(C) + " channels");
  int64_t cpg = C / groups, want = per_channel ? C : groups;
  if (S.numel() != want || B.numel() != want)
    throw KernelError(op + ": scale and bias must hold " + std::to_string(want) + " values, got shapes " + shape_str(S.shape) +
                      " and " + shape_str(B.shape));
  const float* x = X.ptr<float>();
  const float* s = S.ptr<float>();
  const float* b = B.ptr<float>();
  float* y = Y.ptr<float>();
  int64_t block = cpg * spatial;
  pool.parallel_for(N * groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* p = x + t * block;
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < block; ++i) sum += p[i];
      double mean = block ? sum / static_cast<double>(block) : 0.0;
      for (int64_t i = 0; i < block; ++i) sq += (p[i] - mean) * (p[i] - mean);
      double inv = 1.0 / std::sqrt((block ? sq / static_cast<double>(block) : 0.0) + eps);
      int64_t g = t % groups;
      for (int64_t c = 0; c < cpg; ++c) {
        int64_t k = per_channel ? g * cpg + c : g;
        double scale = s[k] * inv, shift = b[k] - mean * scale;
        for (int64_t i = 0; i < spatial; ++i) {
          int64_t o = t * block + c * spatial + i;
          y[o] = static_cast<float>(x[o] * scale + shift);
        }
      }
    }
  });
}

void compute_instance_group(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  if (X.dtype != DType::f32 || in[1]->dtype != DType::f32 || in[2]->dtype != DType::f32)
    throw KernelError(op + ": float32 only");
  if (X.rank() < 2) throw KernelError(op + ": input rank must be at least 2, got " + shape_str(X.shape));
  out[0] = Tensor::empty(DType::f32, X.shape);
  float eps = ctx.node.attr_float("epsilon", 1e-5f);
  if (op == "InstanceNormalization")
    normalize_groups(X, *in[1], *in[2], X.shape[1], true, eps, out[0], ctx.pool, op);
  else
    normalize_groups(X, *in[1], *in[2], ctx.node.attr_int("num_groups", 1), true, eps, out[0], ctx.pool, op);
}

// ---- RMSNormalization / LpNormalization ----

std::string check_rms(const NodeInfo& n) {
  if (n.attr_int("stash_type", 1) != 1) return "RMSNormalization: stash_type other than float32 not supported";
  return require_dtype(n, 1, {DType::f32});
}

void compute_rms(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& S = *in[1];
  if (X.dtype != DType::f32 || S.dtype != DType::f32) throw KernelError("RMSNormalization: float32 only");
  int64_t r = X.rank(), axis = ctx.node.attr_int("axis", -1);
  if (axis < -r || axis >= r) throw KernelError("RMSNormalization: axis " + std::to_string(axis) + " out of range for " + shape_str(X.shape));
  if (axis < 0) axis += r;
  int64_t rows = 1, n = 1;
  for (int64_t d = 0; d < r; ++d) (d < axis ? rows : n) *= X.shape[d];
  // The scale broadcasts against the normalised dims [axis, r): here it must cover them exactly
  // or be a suffix of them (numpy broadcasting of a trailing shape).
  Shape tail(X.shape.begin() + axis, X.shape.end());
  int64_t sn = S.numel();
  bool ok = S.rank() <= static_cast<int64_t>(tail.size());
  for (int64_t i = 0; ok && i < S.rank(); ++i) ok = S.shape[S.rank() - 1 - i] == tail[tail.size() - 1 - i];
  if (!ok || (sn && n % sn)) throw KernelError("RMSNormalization: scale shape " + shape_str(S.shape) + " does not match " + shape_str(tail));
  float eps = ctx.node.attr_float("epsilon", 1e-5f);
  out[0] = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  const float* s = S.ptr<float>();
  float* y = out[0].ptr<float>();
  ctx.pool.parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const float* p = x + t * n;
      double sq = 0;
      for (int64_t i = 0; i < n; ++i) sq += static_cast<double>(p[i]) * p[i];
      double inv = 1.0 / std::sqrt(sq / static_cast<double>(n) + eps);
      for (int64_t i = 0; i < n; ++i) y[t * n + i] = static_cast<float>(p[i] * inv * s[i % sn]);
    }
  });
}

std::string check_lp(const NodeInfo& n) {
  int64_t p = n.attr_int("p", 2);
  if (p != 1 && p != 2) return "LpNormalization: p must be 1 or 2, got " + std::to_string(p);
  int64_t rank = n.input_rank(0), axis = n.attr_int("axis", -1);
  if (rank >= 0 && (axis < -rank || axis >= rank)) return "LpNormalization: axis out of range";
  return "";
}

void compute_lp(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (X.dtype != DType::f32) throw KernelError("LpNormalization: float32 only");
  int64_t r = X.rank(), axis = ctx.node.attr_int("axis", -1), p = ctx.node.attr_int("p", 2);
  if (axis < -r || axis >= r) throw KernelError("LpNormalization: axis out of range for " + shape_str(X.shape));
  if (axis < 0) axis += r;
  int64_t outer = 1, n = X.shape[axis], inner = 1;
  for (int64_t d = 0; d < r; ++d) {
    if (d < axis) outer *= X.shape[d];
    if (d > axis) inner *= X.shape[d];
  }
  out[0] = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  ctx.pool.parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t base = (t / inner) * n * inner + t % inner;
      double norm = 0;
      for (int64_t k = 0; k < n; ++k) {
        double v = x[base + k * inner];
        norm += p == 1 ? std::fabs(v) : v * v;
      }
      if (p == 2) norm = std::sqrt(norm);
      for (int64_t k = 0; k < n; ++k)
        y[base + k * inner] = norm == 0 ? 0.0f : static_cast<float>(x[base + k * inner] / norm);
    }
  });
}

}  // namespace

void register_norm_extra(std::vector<Kernel>& k) {
  k.push_back(Kernel("InstanceNormalization").opsets(6, kMaxOpset).types({DType::f32})
              .check(check_instance_group).compute(compute_instance_group));
  k.push_back(Kernel("GroupNormalization").opsets(21, kMaxOpset).types({DType::f32})
              .check(check_instance_group).compute(compute_instance_group));
  k.push_back(Kernel("RMSNormalization").opsets(23, kMaxOpset).types({DType::f32}).check(check_rms)
              .compute(compute_rms));
  k.push_back(Kernel("LpNormalization").opsets(1, kMaxOpset).types({DType::f32}).check(check_lp)
              .compute(compute_lp));
}

}  // namespace xinrt
