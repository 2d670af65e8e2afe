// ReduceSum and ReduceMean (float32; ReduceSum also int64/int32). Axes are an attribute before
// opset 13 (ReduceSum) / 18 (ReduceMean) and an optional int64 input after; keepdims and
// noop_with_empty_axes as the spec says. Float sums accumulate in double.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/registry.h"

namespace xinrt {
namespace {

int axes_input_opset(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

std::string check_reduce(const NodeInfo& n) {
  if (n.opset >= axes_input_opset(n.op_type)) {
    std::string r = require_dtype(n, 1, {DType::i64});
    if (!r.empty()) return r;
  } else if (n.input_dtypes.size() > 1) {
    return n.op_type + ": unexpected second input before opset " + std::to_string(axes_input_opset(n.op_type));
  }
  if (n.op_type == "ReduceMean") return require_dtype(n, 0, {DType::f32});
  return "";
}

template <class T, class Acc>
void reduce_typed(const Tensor& X, const std::vector<bool>& reduced, bool mean, Tensor& Y, ThreadPool& pool) {
  int64_t r = X.rank();
  const T* x = X.ptr<T>();
  T* y = Y.ptr<T>();
  int64_t count = 1;
  for (int64_t i = 0; i < r; ++i)
    if (reduced[i]) count *= X.shape[i];
  auto finish = [&](Acc s) -> T {
    if (mean && count == 0) return T(0);  // the mean of nothing: 0, as ONNX Runtime gives
    if (mean) return static_cast<T>(static_cast<double>(s) / static_cast<double>(count));
    return static_cast<T>(s);
  };
  // Coalesce into (outer, reduced, inner) when the reduced axes are one contiguous block.
  int64_t first = -1, last = -1;
  for (int64_t i = 0; i < r; ++i)
    if (reduced[i] && X.shape[i] != 1) {
      if (first < 0) first = i;
      last = i;
    }
  bool block = true;
  for (int64_t i = first; first >= 0 && i <= last; ++i) block = block && (reduced[i] || X.shape[i] == 1);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < r; ++i) {
    if (first >= 0 && i < first) outer *= X.shape[i];
    if (first >= 0 && i > last) inner *= X.shape[i];
  }
  if (first < 0) {  // nothing of size > 1 reduced
    for (int64_t i = 0; i < Y.numel(); ++i) y[i] = finish(static_cast<Acc>(x[i]));
    return;
  }
  if (block) {
    pool.parallel_for(outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(count, 1)), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / inner, i = t % inner;
        const T* p = x + o * count * inner + i;
        Acc s = 0;
        for (int64_t k = 0; k < count; ++k) s += static_cast<Acc>(p[k * inner]);
        y[t] = finish(s);
      }
    });
    return;
  }
  // General case: walk the input once, adding each element to its output.
  std::vector<Acc> acc(Y.numel(), 0);
  std::vector<int64_t> out_stride(r, 0), idx(r, 0);
  int64_t s = 1;
  for (int64_t i = r - 1; i >= 0; --i) {
    if (reduced[i]) continue;
    out_stride[i] = s;
    s *= X.shape[i];
  }
  int64_t o = 0;
  for (int64_t k = 0; k < X.numel(); ++k) {
    acc[o] += static_cast<Acc>(x[k]);
    for (int64_t d = r - 1; d >= 0; --d) {
      o += out_stride[d];
      if (++idx[d] < X.shape[d]) break;
      o -= out_stride[d] * idx[d];
      idx[d] = 0;
    }
  }
  for (size_t i = 0; i < acc.size(); ++i) y[i] = finish(acc[i]);
}

void compute_reduce(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  std::vector<int64_t> axes;
  if (ctx.node.opset >= axes_input_opset(op)) {
    if (in.size() > 1 && in[1]) {
      if (in[1]->dtype != DType::i64) throw KernelError(op + ": axes must be int64");
      axes.assign(in[1]->ptr<int64_t>(), in[1]->ptr<int64_t>() + in[1]->numel());
    }
  } else {
    axes = ctx.node.attr_ints("axes");
  }
  bool keepdims = ctx.node.attr_int("keepdims", 1) != 0;
  if (axes.empty() && ctx.node.attr_int("noop_with_empty_axes", 0) != 0) {
    out[0] = X;
    return;
  }
  int64_t r = X.rank();
  std::vector<bool> reduced(r, axes.empty());
  for (int64_t a : axes) {
    if (a < -r || a >= r) throw KernelError(op + ": axis " + std::to_string(a) + " out of range for " + shape_str(X.shape));
    reduced[a < 0 ? a + r : a] = true;
  }
  Shape shape;
  for (int64_t i = 0; i < r; ++i) {
    if (!reduced[i]) shape.push_back(X.shape[i]);
    else if (keepdims) shape.push_back(1);
  }
  out[0] = Tensor::empty(X.dtype, shape);
  bool mean = op == "ReduceMean";
  switch (X.dtype) {
    case DType::f32: reduce_typed<float, double>(X, reduced, mean, out[0], ctx.pool); break;
    case DType::i64: reduce_typed<int64_t, int64_t>(X, reduced, mean, out[0], ctx.pool); break;
    case DType::i32: reduce_typed<int32_t, int32_t>(X, reduced, mean, out[0], ctx.pool); break;
    default: throw KernelError(op + ": dtype " + dtype_name(X.dtype) + " not supported");
  }
}

}  // namespace

void register_reduce(std::vector<Kernel>& k) {
  k.push_back(Kernel("ReduceSum").opsets(1, kMaxOpset).types({DType::f32, DType::i64, DType::i32})
              .check(check_reduce).compute(compute_reduce));
  k.push_back(Kernel("ReduceMean").opsets(1, kMaxOpset).types({DType::f32}).check(check_reduce)
              .compute(compute_reduce));
}

}  // namespace xinrt
