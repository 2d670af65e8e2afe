// The reductions beyond ReduceSum/ReduceMean (reduce.cc): ReduceMax, ReduceMin, ReduceProd,
// ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare; and ArgMax/ArgMin.
// Axes are an attribute before opset 18 and an optional int64 input from 18; keepdims and
// noop_with_empty_axes as the spec says. Float reductions accumulate in double; an empty
// reduction gives the identity (-inf for Max, +inf for Min, 0 for sums, 1 for Prod).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "core/registry.h"

namespace xinrt {
namespace {

enum Kind { kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

Kind kind_of(const std::string& op) {
  if (op == "ReduceMax") return kMax;
  if (op == "ReduceMin") return kMin;
  if (op == "ReduceProd") return kProd;
  if (op == "ReduceL1") return kL1;
  if (op == "ReduceL2") return kL2;
  if (op == "ReduceLogSum") return kLogSum;
  if (op == "ReduceLogSumExp") return kLogSumExp;
  return kSumSquare;
}

bool float_only(Kind k) { return k == kL2 || k == kLogSum || k == kLogSumExp; }

std::string check_reduce_op(const NodeInfo& n) {
  Kind kind = kind_of(n.op_type);
  if (n.opset >= 18) {
    std::string r = require_dtype(n, 1, {DType::i64});
    if (!r.empty()) return r;
  } else if (n.input_dtypes.size() > 1) {
    return n.op_type + ": unexpected second input before opset 18";
  }
  if (float_only(kind)) return require_dtype(n, 0, {DType::f32, DType::f64});
  if (kind == kMax || kind == kMin) {
    if (n.opset >= 20) return require_dtype(n, 0, {DType::f32, DType::f64, DType::i64, DType::i32, DType::i8, DType::u8, DType::boolean});
    return require_dtype(n, 0, {DType::f32, DType::f64, DType::i64, DType::i32, DType::i8, DType::u8});
  }
  return require_dtype(n, 0, {DType::f32, DType::f64, DType::i64, DType::i32});
}

// Element offsets of every output position (kept dims) and of every reduced position.
struct ReduceIndex {
  Shape out_shape;
  std::vector<int64_t> out_base, reduced;
};

// Offsets of all index combinations over `dims` with `strides`, row-major.
std::vector<int64_t> offsets(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  std::vector<int64_t> out(static_cast<size_t>(total));
  std::vector<int64_t> idx(dims.size(), 0);
  int64_t off = 0;
  for (int64_t t = 0; t < total; ++t) {
    out[static_cast<size_t>(t)] = off;
    for (int64_t d = static_cast<int64_t>(dims.size()) - 1; d >= 0; --d) {
      off += strides[d];
      if (++idx[d] < dims[d]) break;
      off -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return out;
}

ReduceIndex reduce_index(const Shape& shape, const std::vector<bool>& reduced, bool keepdims) {
  int64_t r = static_cast<int64_t>(shape.size());
  std::vector<int64_t> stride(r, 1);
  for (int64_t i = r - 2; i >= 0; --i) stride[i] = stride[i + 1] * shape[i + 1];
  std::vector<int64_t> kd, ks, rd, rs;
  ReduceIndex ix;
  for (int64_t i = 0; i < r; ++i) {
    if (reduced[i]) {
      rd.push_back(shape[i]);
      rs.push_back(stride[i]);
      if (keepdims) ix.out_shape.push_back(1);
    } else {
      kd.push_back(shape[i]);
      ks.push_back(stride[i]);
      ix.out_shape.push_back(shape[i]);
    }
  }
  ix.out_base = offsets(kd, ks);
  ix.reduced = offsets(rd, rs);
  return ix;
}

// The reduced-axis mask from the axes attribute/input. Empty axes reduce every axis, or none
// with noop_with_empty_axes (each element then reduces alone: ReduceL2 gives |x|, as ORT does).
std::vector<bool> reduced_axes(const KernelContext& ctx, const std::vector<const Tensor*>& in, int axes_opset) {
  const std::string& op = ctx.node.op_type;
  const Tensor& X = *in[0];
  std::vector<int64_t> axes;
  if (ctx.node.opset >= axes_opset) {
    if (in.size() > 1 && in[1]) {
      if (in[1]->dtype != DType::i64) throw KernelError(op + ": axes must be int64");
      axes.assign(in[1]->ptr<int64_t>(), in[1]->ptr<int64_t>() + in[1]->numel());
    }
  } else {
    axes = ctx.node.attr_ints("axes");
  }
  bool noop = axes.empty() && ctx.node.attr_int("noop_with_empty_axes", 0) != 0;
  int64_t r = X.rank();
  std::vector<bool> reduced(r, axes.empty() && !noop);
  for (int64_t a : axes) {
    if (a < -r || a >= r)
      throw KernelError(op + ": axis " + std::to_string(a) + " out of range for " + shape_str(X.shape));
    reduced[a < 0 ? a + r : a] = true;
  }
  return reduced;
}

template <class T>
T reduce_float(Kind kind, const T* p, const std::vector<int64_t>& red) {
  if (kind == kMax || kind == kMin) {
    T acc = kind == kMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    for (int64_t o : red) {
      T v = p[o];
      if (std::isnan(v)) return v;
      acc = kind == kMax ? std::max(acc, v) : std::min(acc, v);
    }
    return acc;
  }
  if (kind == kLogSumExp) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t o : red) m = std::max(m, static_cast<double>(p[o]));
    if (std::isinf(m)) return static_cast<T>(m);  // empty, all -inf, or some +inf
    double s = 0;
    for (int64_t o : red) s += std::exp(static_cast<double>(p[o]) - m);
    return static_cast<T>(std::log(s) + m);
  }
  double acc = kind == kProd ? 1.0 : 0.0;
  for (int64_t o : red) {
    double v = static_cast<double>(p[o]);
    if (kind == kProd) acc *= v;
    else if (kind == kL1) acc += std::fabs(v);
    else if (kind == kLogSum) acc += v;
    else acc += v * v;  // L2, SumSquare
  }
  if (kind == kL2) acc = std::sqrt(acc);
  if (kind == kLogSum) acc = std::log(acc);
  return static_cast<T>(acc);
}

// Integers (and bool for Max/Min) wrap as numpy's integer reductions do.
template <class T>
T reduce_int(Kind kind, const T* p, const std::vector<int64_t>& red) {
  if (kind == kMax || kind == kMin) {
    T acc = kind == kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    for (int64_t o : red) acc = kind == kMax ? std::max(acc, p[o]) : std::min(acc, p[o]);
    return acc;
  }
  using U = typename std::make_unsigned<T>::type;
  U acc = kind == kProd ? 1 : 0;
  for (int64_t o : red) {
    U v = static_cast<U>(p[o]);
    if (kind == kProd) acc = static_cast<U>(acc * v);
    else if (kind == kL1) acc = static_cast<U>(acc + (p[o] < 0 ? U(0) - v : v));
    else acc = static_cast<U>(acc + v * v);
  }
  return static_cast<T>(acc);
}

template <class T>
void reduce_typed(Kind kind, const Tensor& X, const ReduceIndex& ix, Tensor& Y, ThreadPool& pool) {
  const T* x = X.ptr<T>();
  T* y = Y.ptr<T>();
  int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, static_cast<int64_t>(ix.reduced.size())));
  pool.parallel_for(static_cast<int64_t>(ix.out_base.size()), grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if constexpr (std::is_floating_point<T>::value) y[t] = reduce_float<T>(kind, x + ix.out_base[t], ix.reduced);
      else y[t] = reduce_int<T>(kind, x + ix.out_base[t], ix.reduced);
    }
  });
}

void compute_reduce_op(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  Kind kind = kind_of(op);
  std::vector<bool> reduced = reduced_axes(ctx, in, 18);
  ReduceIndex ix = reduce_index(X.shape, reduced, ctx.node.attr_int("keepdims", 1) != 0);
  out[0] = Tensor::empty(X.dtype, ix.out_shape);
  bool is_float = X.dtype == DType::f32 || X.dtype == DType::f64;
  if (float_only(kind) && !is_float) throw KernelError(op + ": float32, float64 only");
  switch (X.dtype) {
    case DType::f32: reduce_typed<float>(kind, X, ix, out[0], ctx.pool); break;
    case DType::f64: reduce_typed<double>(kind, X, ix, out[0], ctx.pool); break;
    case DType::i64: reduce_typed<int64_t>(kind, X, ix, out[0], ctx.pool); break;
    case DType::i32: reduce_typed<int32_t>(kind, X, ix, out[0], ctx.pool); break;
    case DType::i8:
      if (kind != kMax && kind != kMin) throw KernelError(op + ": int8 only for ReduceMax/ReduceMin");
      reduce_typed<int8_t>(kind, X, ix, out[0], ctx.pool);
      break;
    case DType::u8:
    case DType::boolean:
      if (kind != kMax && kind != kMin) throw KernelError(op + ": uint8/bool only for ReduceMax/ReduceMin");
      reduce_typed<uint8_t>(kind, X, ix, out[0], ctx.pool);
      break;
    default: throw KernelError(op + ": dtype " + dtype_name(X.dtype) + " not supported");
  }
}

// ---- ArgMax, ArgMin ----

std::string check_arg(const NodeInfo& n) {
  int64_t rank = n.input_rank(0), axis = n.attr_int("axis", 0);
  if (rank >= 0 && (axis < -rank || axis >= rank))
    return n.op_type + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank);
  return "";
}

std::vector<DType> i64_output(const NodeInfo&) { return {DType::i64}; }

// NaN counts as the greatest value (numpy's argmax/argmin return the first NaN); ties go to
// the first index, or the last with select_last_index.
template <class T>
void arg_typed(bool is_max, bool last, const Tensor& X, int64_t axis, Tensor& Y, ThreadPool& pool) {
  int64_t outer = 1, n = X.shape[axis], inner = 1;
  for (int64_t i = 0; i < X.rank(); ++i) {
    if (i < axis) outer *= X.shape[i];
    if (i > axis) inner *= X.shape[i];
  }
  const T* x = X.ptr<T>();
  int64_t* y = Y.ptr<int64_t>();
  auto isnan_ = [](T v) {
    if constexpr (std::is_floating_point<T>::value) return std::isnan(v);
    else return (static_cast<void>(v), false);
  };
  pool.parallel_for(outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const T* p = x + (t / inner) * n * inner + t % inner;
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k) {
        T v = p[k * inner], cur = p[best * inner];
        bool vn = isnan_(v), cn = isnan_(cur);
        bool better, equal;
        if (vn || cn) {
          better = vn && !cn;
          equal = vn && cn;
        } else {
          better = is_max ? v > cur : v < cur;
          equal = v == cur;
        }
        if (better || (equal && last)) best = k;
      }
      y[t] = best;
    }
  });
}

void compute_arg(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  int64_t r = X.rank(), axis = ctx.node.attr_int("axis", 0);
  if (axis < -r || axis >= r) throw KernelError(op + ": axis " + std::to_string(axis) + " out of range for " + shape_str(X.shape));
  if (axis < 0) axis += r;
  if (X.shape[axis] == 0) throw KernelError(op + ": cannot reduce the empty axis of " + shape_str(X.shape));
  Shape shape = X.shape;
  if (ctx.node.attr_int("keepdims", 1) != 0) shape[axis] = 1;
  else shape.erase(shape.begin() + axis);
  out[0] = Tensor::empty(DType::i64, shape);
  bool is_max = op == "ArgMax", last = ctx.node.attr_int("select_last_index", 0) != 0;
  switch (X.dtype) {
    case DType::f32: arg_typed<float>(is_max, last, X, axis, out[0], ctx.pool); break;
    case DType::f64: arg_typed<double>(is_max, last, X, axis, out[0], ctx.pool); break;
    case DType::i64: arg_typed<int64_t>(is_max, last, X, axis, out[0], ctx.pool); break;
    case DType::i32: arg_typed<int32_t>(is_max, last, X, axis, out[0], ctx.pool); break;
    case DType::i8: arg_typed<int8_t>(is_max, last, X, axis, out[0], ctx.pool); break;
    case DType::u8: arg_typed<uint8_t>(is_max, last, X, axis, out[0], ctx.pool); break;
    default: throw KernelError(op + ": dtype " + dtype_name(X.dtype) + " not supported");
  }
}

}  // namespace

void register_reduce_ops(std::vector<Kernel>& k) {
  for (const char* op : {"ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                         "ReduceLogSumExp", "ReduceSumSquare"})
    k.push_back(Kernel(op).opsets(1, kMaxOpset)
                .types({DType::f32, DType::f64, DType::i64, DType::i32, DType::i8, DType::u8, DType::boolean})
                .check(check_reduce_op).compute(compute_reduce_op));
  for (const char* op : {"ArgMax", "ArgMin"})
    k.push_back(Kernel(op).opsets(1, kMaxOpset)
                .types({DType::f32, DType::f64, DType::i64, DType::i32, DType::i8, DType::u8})
                .check(check_arg).outputs(i64_output).compute(compute_arg));
}

}  // namespace xinrt
