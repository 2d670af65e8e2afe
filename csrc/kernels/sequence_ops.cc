// Ops that generate or walk index sequences: Range, CumSum, CumProd, NonZero, Trilu and OneHot.
#include <cmath>
#include <cstring>
#include <string>

#include "core/registry.h"

namespace xinrt {
namespace {

const std::vector<DType> kAllDTypes = {DType::f32, DType::f64, DType::f16, DType::i64,
                                       DType::i32, DType::i8,  DType::u8,  DType::boolean};
const std::vector<DType> kArithDTypes = {DType::f32, DType::f64, DType::i64, DType::i32};

// The single value of a 0-d or one-element tensor of an arithmetic dtype, as double.
double scalar_value(const Tensor& t, const std::string& what) {
  if (t.numel() != 1) throw KernelError(what + " must hold one value, got shape " + shape_str(t.shape));
  switch (t.dtype) {
    case DType::f32: return *t.ptr<float>();
    case DType::f64: return *t.ptr<double>();
    case DType::i64: return static_cast<double>(*t.ptr<int64_t>());
    case DType::i32: return *t.ptr<int32_t>();
    default: throw KernelError(what + ": dtype " + dtype_name(t.dtype) + " not supported");
  }
}

int64_t scalar_int(const Tensor& t, const std::string& what) {
  if (t.numel() != 1) throw KernelError(what + " must hold one value, got shape " + shape_str(t.shape));
  if (t.dtype == DType::i64) return *t.ptr<int64_t>();
  if (t.dtype == DType::i32) return *t.ptr<int32_t>();
  throw KernelError(what + " must be int64 or int32, got " + dtype_name(t.dtype));
}

// ---- Range ----

std::string check_range(const NodeInfo& n) {
  if (n.input_dtypes.size() != 3) return "Range: expects 3 inputs";
  for (size_t i = 1; i < 3; ++i)
    if (n.input_dtypes[i] != DType::unknown && n.input_dtypes[0] != DType::unknown &&
        n.input_dtypes[i] != n.input_dtypes[0])
      return "Range: start, limit and delta dtypes differ";
  return "";
}

template <class T>
void range_typed(const Tensor& S, const Tensor& L, const Tensor& D, Tensor& Y) {
  T start = *S.ptr<T>(), limit = *L.ptr<T>(), delta = *D.ptr<T>();
  if (delta == 0) throw KernelError("Range: delta is 0");
  int64_t n;
  if constexpr (std::is_floating_point<T>::value) {
    double c = std::ceil((static_cast<double>(limit) - start) / delta);
    if (!(c < 9.0e15)) throw KernelError("Range: the sequence is not finite");
    n = c > 0 ? static_cast<int64_t>(c) : 0;
  } else {
    int64_t span = static_cast<int64_t>(limit) - static_cast<int64_t>(start), d = delta;
    n = (span > 0) == (d > 0) && span != 0 ? (span + d + (d > 0 ? -1 : 1)) / d : 0;
  }
  Y = Tensor::empty(S.dtype, {n});
  T* y = Y.ptr<T>();
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_floating_point<T>::value) y[i] = static_cast<T>(start + static_cast<double>(i) * delta);
    else y[i] = static_cast<T>(start + i * static_cast<int64_t>(delta));
  }
}

void compute_range(const KernelContext&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  for (size_t i = 0; i < 3; ++i)
    if (in[i]->numel() != 1 || in[i]->dtype != in[0]->dtype)
      throw KernelError("Range: start, limit and delta must be scalars of one dtype");
  switch (in[0]->dtype) {
    case DType::f32: range_typed<float>(*in[0], *in[1], *in[2], out[0]); break;
    case DType::f64: range_typed<double>(*in[0], *in[1], *in[2], out[0]); break;
    case DType::i64: range_typed<int64_t>(*in[0], *in[1], *in[2], out[0]); break;
    case DType::i32: range_typed<int32_t>(*in[0], *in[1], *in[2], out[0]); break;
    default: throw KernelError(std::string("Range: dtype ") + dtype_name(in[0]->dtype) + " not supported");
  }
}

// ---- CumSum ----

std::string check_cumsum(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return n.op_type + ": expects 2 inputs";
  return require_dtype(n, 1, {DType::i64, DType::i32});
}

// Sums (products) in the input's dtype, in order, as numpy's cumsum (cumprod) does.
template <class T>
void cumsum_typed(const Tensor& X, int64_t axis, bool exclusive, bool reverse, bool prod, Tensor& Y, ThreadPool& pool) {
  int64_t outer = 1, n = X.shape[axis], inner = 1;
  for (int64_t i = 0; i < X.rank(); ++i) {
    if (i < axis) outer *= X.shape[i];
    if (i > axis) inner *= X.shape[i];
  }
  const T* x = X.ptr<T>();
  T* y = Y.ptr<T>();
  pool.parallel_for(outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t base = (t / inner) * n * inner + t % inner;
      T acc = prod ? 1 : 0;
      for (int64_t j = 0; j < n; ++j) {
        int64_t k = reverse ? n - 1 - j : j;
        int64_t o = base + k * inner;
        T next = prod ? static_cast<T>(acc * x[o]) : static_cast<T>(acc + x[o]);
        y[o] = exclusive ? acc : next;
        acc = next;
      }
    }
  });
}

void compute_cumsum(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  int64_t r = X.rank(), axis = scalar_int(*in[1], op + ": axis");
  if (axis < -r || axis >= r) throw KernelError(op + ": axis " + std::to_string(axis) + " out of range for " + shape_str(X.shape));
  if (axis < 0) axis += r;
  bool exclusive = ctx.node.attr_int("exclusive", 0) != 0, reverse = ctx.node.attr_int("reverse", 0) != 0;
  bool prod = op == "CumProd";
  out[0] = Tensor::empty(X.dtype, X.shape);
  switch (X.dtype) {
    case DType::f32: cumsum_typed<float>(X, axis, exclusive, reverse, prod, out[0], ctx.pool); break;
    case DType::f64: cumsum_typed<double>(X, axis, exclusive, reverse, prod, out[0], ctx.pool); break;
    case DType::i64: cumsum_typed<int64_t>(X, axis, exclusive, reverse, prod, out[0], ctx.pool); break;
    case DType::i32: cumsum_typed<int32_t>(X, axis, exclusive, reverse, prod, out[0], ctx.pool); break;
    default: throw KernelError(op + ": dtype " + dtype_name(X.dtype) + " not supported");
  }
}

// ---- NonZero ----

std::vector<DType> i64_output(const NodeInfo&) { return {DType::i64}; }

// Whether element i is non-zero (-0.0 is zero; NaN is not).
bool nonzero_at(const Tensor& X, int64_t i) {
  switch (X.dtype) {
    case DType::f32: return X.ptr<float>()[i] != 0.0f;
    case DType::f64: return X.ptr<double>()[i] != 0.0;
    case DType::f16: return (X.ptr<uint16_t>()[i] & 0x7fff) != 0;
    case DType::i64: return X.ptr<int64_t>()[i] != 0;
    case DType::i32: return X.ptr<int32_t>()[i] != 0;
    default: return X.ptr<uint8_t>()[i] != 0;  // int8, uint8, bool
  }
}

std::string check_nonzero(const NodeInfo& n) {
  if (n.input_rank(0) == 0) return "NonZero: 0-d input not supported";
  return "";
}

void compute_nonzero(const KernelContext&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t r = X.rank(), total = X.numel();
  if (r == 0) throw KernelError("NonZero: 0-d input not supported");
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < total; ++i)
    if (nonzero_at(X, i)) hits.push_back(i);
  int64_t nnz = static_cast<int64_t>(hits.size());
  out[0] = Tensor::empty(DType::i64, {r, nnz});
  int64_t* y = out[0].ptr<int64_t>();
  for (int64_t j = 0; j < nnz; ++j) {
    int64_t rem = hits[j];
    for (int64_t d = r - 1; d >= 0; --d) {
      y[d * nnz + j] = rem % X.shape[d];
      rem /= X.shape[d];
    }
  }
}

// ---- Trilu ----

std::string check_trilu(const NodeInfo& n) {
  int64_t rank = n.input_rank(0);
  if (rank >= 0 && rank < 2) return "Trilu: input rank must be at least 2";
  return require_dtype(n, 1, {DType::i64});
}

void compute_trilu(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (X.rank() < 2) throw KernelError("Trilu: input rank must be at least 2, got " + shape_str(X.shape));
  int64_t k = in.size() > 1 && in[1] ? scalar_int(*in[1], "Trilu: k") : 0;
  bool upper = ctx.node.attr_int("upper", 1) != 0;
  int64_t rows = X.dim(-2), cols = X.dim(-1), mats = rows * cols != 0 ? X.numel() / (rows * cols) : 0;
  size_t es = dtype_size(X.dtype);
  out[0] = Tensor::empty(X.dtype, X.shape);
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(out[0].data);
  std::memset(y, 0, out[0].nbytes());
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        bool keep = upper ? j - i >= k : j - i <= k;
        size_t o = static_cast<size_t>((m * rows + i) * cols + j) * es;
        if (keep) std::memcpy(y + o, x + o, es);
      }
}

// ---- OneHot ----

std::string check_onehot(const NodeInfo& n) {
  if (n.input_dtypes.size() != 3) return "OneHot: expects 3 inputs";
  std::string r = require_dtype(n, 0, kArithDTypes);
  if (r.empty()) r = require_dtype(n, 1, kArithDTypes);
  return r;
}

std::vector<DType> onehot_dtypes(const NodeInfo& n) { return {n.input_dtypes.size() > 2 ? n.input_dtypes[2] : DType::unknown}; }

void compute_onehot(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& I = *in[0];
  const Tensor& V = *in[2];
  double depth_value = scalar_value(*in[1], "OneHot: depth");
  if (!(depth_value >= 1 && depth_value < 9.0e15)) throw KernelError("OneHot: depth must be positive");
  int64_t depth = static_cast<int64_t>(depth_value);
  if (V.numel() != 2) throw KernelError("OneHot: values must hold [off, on], got shape " + shape_str(V.shape));
  int64_t r = I.rank() + 1, axis = ctx.node.attr_int("axis", -1);
  if (axis < -r || axis >= r) throw KernelError("OneHot: axis " + std::to_string(axis) + " out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  Shape shape = I.shape;
  shape.insert(shape.begin() + axis, depth);
  out[0] = Tensor::empty(V.dtype, shape);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < I.rank(); ++i) (i < axis ? outer : inner) *= I.shape[i];
  size_t es = dtype_size(V.dtype);
  const char* off = static_cast<const char*>(V.data);
  const char* on = off + es;
  char* y = static_cast<char*>(out[0].data);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t d = 0; d < depth; ++d)
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(y + static_cast<size_t>((o * depth + d) * inner + i) * es, off, es);
  for (int64_t t = 0; t < I.numel(); ++t) {
    double v;
    switch (I.dtype) {
      case DType::f32: v = I.ptr<float>()[t]; break;
      case DType::f64: v = I.ptr<double>()[t]; break;
      case DType::i64: v = static_cast<double>(I.ptr<int64_t>()[t]); break;
      case DType::i32: v = I.ptr<int32_t>()[t]; break;
      default: throw KernelError(std::string("OneHot: indices dtype ") + dtype_name(I.dtype) + " not supported");
    }
    if (std::isnan(v)) continue;
    int64_t idx = static_cast<int64_t>(std::trunc(v));
    if (idx < 0 && ctx.node.opset >= 11) idx += depth;  // negative indices count from the end since 11
    if (idx < 0 || idx >= depth) continue;  // out of range: all "off", as the spec says
    int64_t o = t / inner, i = t % inner;
    std::memcpy(y + static_cast<size_t>((o * depth + idx) * inner + i) * es, on, es);
  }
}

}  // namespace

void register_sequence_ops(std::vector<Kernel>& k) {
  k.push_back(Kernel("Range").opsets(11, kMaxOpset).types(kArithDTypes).check(check_range)
              .compute(compute_range));
  k.push_back(Kernel("CumSum").opsets(11, kMaxOpset).types(kArithDTypes).check(check_cumsum)
              .compute(compute_cumsum));
  k.push_back(Kernel("CumProd").opsets(26, kMaxOpset).types(kArithDTypes).check(check_cumsum)
              .compute(compute_cumsum));
  k.push_back(Kernel("NonZero").opsets(9, kMaxOpset).types(kAllDTypes).check(check_nonzero)
              .outputs(i64_output).compute(compute_nonzero));
  k.push_back(Kernel("Trilu").opsets(14, kMaxOpset).types(kAllDTypes).check(check_trilu)
              .compute(compute_trilu));
  k.push_back(Kernel("OneHot").opsets(9, kMaxOpset).types(kAllDTypes, 2).check(check_onehot)
              .outputs(onehot_dtypes).compute(compute_onehot));
}

}  // namespace xinrt
