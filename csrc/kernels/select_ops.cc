// Selection and reordering along an axis: Compress, ReverseSequence, and Unique (flattened
// input; the axis attribute is declined).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <type_traits>

#include "core/registry.h"

namespace xinrt {
namespace {

const std::vector<DType> kAllDTypes = {DType::f32, DType::f64, DType::f16, DType::i64,
                                       DType::i32, DType::i8,  DType::u8,  DType::boolean};

// (outer, n, inner) of `shape` around `axis`.
void split_at(const Shape& shape, int64_t axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  *n = shape[axis];
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i < axis) *outer *= shape[i];
    if (i > axis) *inner *= shape[i];
  }
}

// ---- Compress ----

std::string check_compress(const NodeInfo& n) { return require_dtype(n, 1, {DType::boolean}); }

void compute_compress(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& Cond = *in[1];
  if (Cond.dtype != DType::boolean || Cond.rank() != 1)
    throw KernelError("Compress: condition must be a 1-D bool tensor, got " + shape_str(Cond.shape));
  Tensor src = X;
  int64_t axis = 0;
  if (ctx.node.has_attr("axis")) {
    axis = ctx.node.attr_int("axis", 0);
    int64_t r = X.rank();
    if (axis < -r || axis >= r) throw KernelError("Compress: axis " + std::to_string(axis) + " out of range for " + shape_str(X.shape));
    if (axis < 0) axis += r;
  } else {
    src = X.reshaped({X.numel()});
  }
  int64_t outer, n, inner;
  split_at(src.shape, axis, &outer, &n, &inner);
  if (Cond.numel() > n) throw KernelError("Compress: condition longer than the axis (" + std::to_string(n) + ")");
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < Cond.numel(); ++i)
    if (Cond.ptr<uint8_t>()[i]) keep.push_back(i);
  Shape shape = src.shape;
  shape[axis] = static_cast<int64_t>(keep.size());
  out[0] = Tensor::empty(X.dtype, shape);
  size_t es = dtype_size(X.dtype), row = static_cast<size_t>(inner) * es;
  const char* x = static_cast<const char*>(src.data);
  char* y = static_cast<char*>(out[0].data);
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < keep.size(); ++k)
      std::memcpy(y + (o * keep.size() + k) * row, x + static_cast<size_t>(o * n + keep[k]) * row, row);
}

// ---- ReverseSequence ----

std::string check_reverse_sequence(const NodeInfo& n) {
  int64_t t = n.attr_int("time_axis", 0), b = n.attr_int("batch_axis", 1);
  if (!((t == 0 && b == 1) || (t == 1 && b == 0)))
    return "ReverseSequence: time_axis and batch_axis must be 0 and 1 in some order";
  if (n.input_rank(0) >= 0 && n.input_rank(0) < 2) return "ReverseSequence: input rank must be at least 2";
  return require_dtype(n, 1, {DType::i64});
}

void compute_reverse_sequence(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& L = *in[1];
  int64_t t_axis = ctx.node.attr_int("time_axis", 0), b_axis = ctx.node.attr_int("batch_axis", 1);
  if (X.rank() < 2) throw KernelError("ReverseSequence: input rank must be at least 2, got " + shape_str(X.shape));
  int64_t T = X.shape[t_axis], B = X.shape[b_axis], inner = 1;
  for (int64_t d = 2; d < X.rank(); ++d) inner *= X.shape[d];
  if (L.dtype != DType::i64 || L.numel() != B)
    throw KernelError("ReverseSequence: sequence_lens must be int64 with one value per batch (" + std::to_string(B) + ")");
  out[0] = Tensor::empty(X.dtype, X.shape);
  size_t es = dtype_size(X.dtype), row = static_cast<size_t>(inner) * es;
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(out[0].data);
  auto offset = [&](int64_t t, int64_t b) { return static_cast<size_t>(t_axis == 0 ? t * B + b : b * T + t) * row; };
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = L.ptr<int64_t>()[b];
    if (len < 0 || len > T) throw KernelError("ReverseSequence: sequence length " + std::to_string(len) + " outside [0, " + std::to_string(T) + "]");
    for (int64_t t = 0; t < T; ++t) std::memcpy(y + offset(t, b), x + offset(t < len ? len - 1 - t : t, b), row);
  }
}

// ---- Unique ----

std::string check_unique(const NodeInfo& n) {
  if (n.has_attr("axis")) return "Unique: the axis attribute is not supported (flattened input only)";
  return "";
}

std::vector<DType> unique_dtypes(const NodeInfo& n) {
  std::vector<DType> d(n.num_outputs, DType::i64);
  d[0] = n.input_dtypes[0];
  return d;
}

template <class T>
void unique_typed(const Tensor& X, bool sorted, std::vector<Tensor>& out) {
  const T* x = X.ptr<T>();
  int64_t n = X.numel();
  auto isnan_ = [](T v) {
    if constexpr (std::is_floating_point<T>::value) return std::isnan(v);
    else return (static_cast<void>(v), false);
  };
  // NaN sorts last and equals NaN (numpy's unique with equal_nan).
  auto less = [&](T a, T b) { return isnan_(a) ? false : isnan_(b) ? true : a < b; };
  auto same = [&](T a, T b) { return (isnan_(a) && isnan_(b)) || a == b; };
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return less(x[a], x[b]); });
  // Groups of equal values in sorted order: first index (smallest, thanks to the stable sort).
  std::vector<int64_t> group_first, group_count, group_of(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    int64_t i = order[k];
    if (k == 0 || !same(x[order[k - 1]], x[i])) {
      group_first.push_back(i);
      group_count.push_back(0);
    }
    group_of[i] = static_cast<int64_t>(group_first.size()) - 1;
    ++group_count.back();
  }
  int64_t u = static_cast<int64_t>(group_first.size());
  std::vector<int64_t> rank(static_cast<size_t>(u));  // output position of each sorted group
  std::iota(rank.begin(), rank.end(), int64_t{0});
  if (!sorted) {  // order of first occurrence
    std::vector<int64_t> g(static_cast<size_t>(u));
    std::iota(g.begin(), g.end(), int64_t{0});
    std::sort(g.begin(), g.end(), [&](int64_t a, int64_t b) { return group_first[a] < group_first[b]; });
    for (int64_t p = 0; p < u; ++p) rank[g[p]] = p;
  }
  out[0] = Tensor::empty(X.dtype, {u});
  Tensor idx = Tensor::empty(DType::i64, {u}), inv = Tensor::empty(DType::i64, {n}), cnt = Tensor::empty(DType::i64, {u});
  for (int64_t g = 0; g < u; ++g) {
    out[0].ptr<T>()[rank[g]] = x[group_first[g]];
    idx.ptr<int64_t>()[rank[g]] = group_first[g];
    cnt.ptr<int64_t>()[rank[g]] = group_count[g];
  }
  for (int64_t i = 0; i < n; ++i) inv.ptr<int64_t>()[i] = rank[group_of[i]];
  if (out.size() > 1) out[1] = idx;
  if (out.size() > 2) out[2] = inv;
  if (out.size() > 3) out[3] = cnt;
}

void compute_unique(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  bool sorted = ctx.node.attr_int("sorted", 1) != 0;
  switch (X.dtype) {
    case DType::f32: unique_typed<float>(X, sorted, out); break;
    case DType::f64: unique_typed<double>(X, sorted, out); break;
    case DType::i64: unique_typed<int64_t>(X, sorted, out); break;
    case DType::i32: unique_typed<int32_t>(X, sorted, out); break;
    case DType::i8: unique_typed<int8_t>(X, sorted, out); break;
    case DType::u8: unique_typed<uint8_t>(X, sorted, out); break;
    default: throw KernelError(std::string("Unique: dtype ") + dtype_name(X.dtype) + " not supported");
  }
}

}  // namespace

void register_select_ops(std::vector<Kernel>& k) {
  k.push_back(Kernel("Compress").opsets(9, kMaxOpset).types(kAllDTypes).check(check_compress)
              .compute(compute_compress));
  k.push_back(Kernel("ReverseSequence").opsets(10, kMaxOpset).types(kAllDTypes)
              .check(check_reverse_sequence).compute(compute_reverse_sequence));
  k.push_back(Kernel("Unique").opsets(11, kMaxOpset)
              .types({DType::f32, DType::f64, DType::i64, DType::i32, DType::i8, DType::u8})
              .check(check_unique).outputs(unique_dtypes).compute(compute_unique));
}

}  // namespace xinrt
