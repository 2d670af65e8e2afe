// TopK: the k largest (or smallest) values along an axis and their int64 indices, always
// sorted (the spec leaves sorted=0's order open). Equal values keep the lower index first;
// NaN counts as the greatest value, as numpy's sort places it.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>

#include "core/registry.h"

namespace xinrt {
namespace {

std::string check_topk(const NodeInfo& n) {
  if (n.num_outputs != 2) return "TopK: expects 2 outputs";
  if (n.opset >= 10) {
    std::string r = require_dtype(n, 1, {DType::i64});
    if (!r.empty()) return r;
  } else if (!n.has_attr("k")) {
    return "TopK: attribute k missing";
  }
  int64_t rank = n.input_rank(0), axis = n.attr_int("axis", -1);
  if (rank >= 0 && (axis < -rank || axis >= rank))
    return "TopK: axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank);
  return "";
}

std::vector<DType> topk_dtypes(const NodeInfo& n) { return {n.input_dtypes[0], DType::i64}; }

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point<T>::value) return std::isnan(v);
  else return (static_cast<void>(v), false);
}

template <class T>
void topk_typed(const Tensor& X, int64_t axis, int64_t k, bool largest, Tensor& V, Tensor& I, ThreadPool& pool) {
  int64_t outer = 1, n = X.shape[axis], inner = 1;
  for (int64_t i = 0; i < X.rank(); ++i) {
    if (i < axis) outer *= X.shape[i];
    if (i > axis) inner *= X.shape[i];
  }
  const T* x = X.ptr<T>();
  T* v = V.ptr<T>();
  int64_t* ix = I.ptr<int64_t>();
  pool.parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t t = b; t < e; ++t) {
      const T* p = x + (t / inner) * n * inner + t % inner;
      std::iota(order.begin(), order.end(), int64_t{0});
      auto before = [&](int64_t a, int64_t c) {  // a comes first in the result
        T u = p[a * inner], w = p[c * inner];
        bool un = is_nan(u), wn = is_nan(w);
        if (un || wn) {
          if (un && wn) return a < c;
          return largest ? un : wn;
        }
        if (u != w) return largest ? u > w : u < w;
        return a < c;
      };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      int64_t base = (t / inner) * k * inner + t % inner;
      for (int64_t j = 0; j < k; ++j) {
        v[base + j * inner] = p[order[j] * inner];
        ix[base + j * inner] = order[j];
      }
    }
  });
}

void compute_topk(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t k;
  if (ctx.node.opset >= 10) {
    const Tensor& K = *in[1];
    if (K.dtype != DType::i64 || K.numel() != 1) throw KernelError("TopK: k must be one int64, got shape " + shape_str(K.shape));
    k = *K.ptr<int64_t>();
  } else {
    k = ctx.node.attr_int("k", -1);
  }
  int64_t r = X.rank(), axis = ctx.node.attr_int("axis", -1);
  if (axis < -r || axis >= r) throw KernelError("TopK: axis " + std::to_string(axis) + " out of range for " + shape_str(X.shape));
  if (axis < 0) axis += r;
  if (k < 0 || k > X.shape[axis])
    throw KernelError("TopK: k=" + std::to_string(k) + " outside [0, " + std::to_string(X.shape[axis]) + "] for " + shape_str(X.shape));
  bool largest = ctx.node.attr_int("largest", 1) != 0;
  Shape shape = X.shape;
  shape[axis] = k;
  out[0] = Tensor::empty(X.dtype, shape);
  out[1] = Tensor::empty(DType::i64, shape);
  switch (X.dtype) {
    case DType::f32: topk_typed<float>(X, axis, k, largest, out[0], out[1], ctx.pool); break;
    case DType::f64: topk_typed<double>(X, axis, k, largest, out[0], out[1], ctx.pool); break;
    case DType::i64: topk_typed<int64_t>(X, axis, k, largest, out[0], out[1], ctx.pool); break;
    case DType::i32: topk_typed<int32_t>(X, axis, k, largest, out[0], out[1], ctx.pool); break;
    case DType::i8: topk_typed<int8_t>(X, axis, k, largest, out[0], out[1], ctx.pool); break;
    case DType::u8: topk_typed<uint8_t>(X, axis, k, largest, out[0], out[1], ctx.pool); break;
    default: throw KernelError(std::string("TopK: dtype ") + dtype_name(X.dtype) + " not supported");
  }
}

}  // namespace

void register_topk(std::vector<Kernel>& k) {
  k.push_back(Kernel("TopK").opsets(1, kMaxOpset)
              .types({DType::f32, DType::f64, DType::i64, DType::i32, DType::i8, DType::u8})
              .check(check_topk).outputs(topk_dtypes).compute(compute_topk));
}

}  // namespace xinrt
