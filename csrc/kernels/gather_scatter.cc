// Index-driven copies: GatherElements, ScatterElements, GatherND and ScatterND (with
// batch_dims, negative indices, and the add/mul/max/min reductions). Scatter updates apply in
// index order, so a repeated index without reduction keeps the last update.
#include <algorithm>
#include <cstring>
#include <string>

#include "core/registry.h"

namespace xinrt {
namespace {

const std::vector<DType> kAllDTypes = {DType::f32, DType::f64, DType::f16, DType::i64,
                                       DType::i32, DType::i8,  DType::u8,  DType::boolean};

int64_t index_at(const Tensor& I, int64_t i) {
  return I.dtype == DType::i64 ? I.ptr<int64_t>()[i] : I.ptr<int32_t>()[i];
}

// idx made non-negative, or a KernelError naming the op when it lies outside [-dim, dim).
int64_t checked_index(int64_t idx, int64_t dim, const std::string& op) {
  if (idx < -dim || idx >= dim)
    throw KernelError(op + ": index " + std::to_string(idx) + " out of range for a dimension of " + std::to_string(dim));
  return idx < 0 ? idx + dim : idx;
}

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t i = static_cast<int64_t>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// The reduction attribute as a code: 0 none, 1 add, 2 mul, 3 max, 4 min; -1 unknown.
int reduction_code(const NodeInfo& n) {
  std::string r = n.attr_string("reduction", "none");
  int since = r == "add" || r == "mul" ? 16 : 18;
  if (r != "none" && n.opset < since) return -1;
  return r == "none" ? 0 : r == "add" ? 1 : r == "mul" ? 2 : r == "max" ? 3 : r == "min" ? 4 : -1;
}

std::string check_scatter(const NodeInfo& n) {
  int code = reduction_code(n);
  if (code < 0)
    return n.op_type + ": reduction '" + n.attr_string("reduction", "none") + "' not in opset " + std::to_string(n.opset);
  if (code > 0) {
    std::string r = require_dtype(n, 0, {DType::f32, DType::f64, DType::i64, DType::i32});
    if (!r.empty()) return n.op_type + " with reduction: " + r;
  }
  if (n.input_dtypes.size() != 3) return n.op_type + ": expects 3 inputs";
  if (n.input_dtypes[2] != DType::unknown && n.input_dtypes[0] != DType::unknown && n.input_dtypes[2] != n.input_dtypes[0])
    return n.op_type + ": data and updates dtypes differ";
  return require_dtype(n, 1, n.op_type == "ScatterND" ? std::vector<DType>{DType::i64} : std::vector<DType>{DType::i64, DType::i32});
}

std::string check_gather(const NodeInfo& n) {
  return require_dtype(n, 1, n.op_type == "GatherND" ? std::vector<DType>{DType::i64} : std::vector<DType>{DType::i64, DType::i32});
}

template <class T>
void reduce_into(T* dst, const T* src, int64_t count, int code) {
  for (int64_t i = 0; i < count; ++i) {
    T a = dst[i], b = src[i];
    dst[i] = code == 1 ? static_cast<T>(a + b) : code == 2 ? static_cast<T>(a * b) : code == 3 ? std::max(a, b) : std::min(a, b);
  }
}

// Writes `count` elements from src to dst, plainly (code 0) or through the reduction.
void write_elements(const Tensor& data, char* dst, const char* src, int64_t count, int code) {
  size_t es = dtype_size(data.dtype);
  if (code == 0) {
    std::memcpy(dst, src, static_cast<size_t>(count) * es);
    return;
  }
  switch (data.dtype) {
    case DType::f32: reduce_into(reinterpret_cast<float*>(dst), reinterpret_cast<const float*>(src), count, code); break;
    case DType::f64: reduce_into(reinterpret_cast<double*>(dst), reinterpret_cast<const double*>(src), count, code); break;
    case DType::i64: reduce_into(reinterpret_cast<int64_t*>(dst), reinterpret_cast<const int64_t*>(src), count, code); break;
    case DType::i32: reduce_into(reinterpret_cast<int32_t*>(dst), reinterpret_cast<const int32_t*>(src), count, code); break;
    default: throw KernelError(std::string("scatter reduction: dtype ") + dtype_name(data.dtype) + " not supported");
  }
}

// ---- GatherElements / ScatterElements ----

// Calls fn(data_offset, indices_position) for every element of `indices` along `axis`.
template <class Fn>
void for_each_element_index(const Tensor& data, const Tensor& I, int64_t axis, const std::string& op, Fn fn) {
  int64_t r = data.rank();
  if (I.rank() != r) throw KernelError(op + ": indices rank " + std::to_string(I.rank()) + " differs from data rank " + std::to_string(r));
  for (int64_t d = 0; d < r; ++d)
    if (d != axis && I.shape[d] > data.shape[d])
      throw KernelError(op + ": indices shape " + shape_str(I.shape) + " exceeds data shape " + shape_str(data.shape));
  std::vector<int64_t> ds = strides_of(data.shape), idx(r, 0);
  int64_t off = 0;  // data offset of idx without the axis component
  for (int64_t t = 0; t < I.numel(); ++t) {
    int64_t a = checked_index(index_at(I, t), data.shape[axis], op);
    fn(off + a * ds[axis], t);
    for (int64_t d = r - 1; d >= 0; --d) {
      if (d != axis) off += ds[d];
      if (++idx[d] < I.shape[d]) break;
      if (d != axis) off -= ds[d] * idx[d];
      idx[d] = 0;
    }
  }
}

int64_t axis_of(const KernelContext& ctx, const Tensor& data) {
  int64_t r = data.rank(), axis = ctx.node.attr_int("axis", 0);
  if (axis < -r || axis >= r) throw KernelError(ctx.node.op_type + ": axis " + std::to_string(axis) + " out of range for " + shape_str(data.shape));
  return axis < 0 ? axis + r : axis;
}

void compute_gather_elements(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& D = *in[0];
  const Tensor& I = *in[1];
  int64_t axis = axis_of(ctx, D);
  out[0] = Tensor::empty(D.dtype, I.shape);
  size_t es = dtype_size(D.dtype);
  const char* d = static_cast<const char*>(D.data);
  char* y = static_cast<char*>(out[0].data);
  for_each_element_index(D, I, axis, "GatherElements", [&](int64_t src, int64_t t) {
    std::memcpy(y + static_cast<size_t>(t) * es, d + static_cast<size_t>(src) * es, es);
  });
}

void compute_scatter_elements(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& D = *in[0];
  const Tensor& I = *in[1];
  const Tensor& U = *in[2];
  if (U.shape != I.shape) throw KernelError("ScatterElements: updates shape " + shape_str(U.shape) + " differs from indices shape " + shape_str(I.shape));
  if (U.dtype != D.dtype) throw KernelError("ScatterElements: data and updates dtypes differ");
  int64_t axis = axis_of(ctx, D);
  int code = reduction_code(ctx.node);
  out[0] = D.clone();
  size_t es = dtype_size(D.dtype);
  char* y = static_cast<char*>(out[0].data);
  const char* u = static_cast<const char*>(U.data);
  for_each_element_index(D, I, axis, "ScatterElements", [&](int64_t dst, int64_t t) {
    write_elements(D, y + static_cast<size_t>(dst) * es, u + static_cast<size_t>(t) * es, 1, code);
  });
}

// ---- GatherND / ScatterND ----

// The element offset in data of index tuple j of I (last dim m), within batch b's block.
int64_t nd_offset(const Tensor& D, const Tensor& I, int64_t j, int64_t batch_dims, const std::vector<int64_t>& ds,
                  const std::string& op) {
  int64_t m = I.dim(-1), off = 0;
  const int64_t* p = I.ptr<int64_t>() + j * m;
  for (int64_t q = 0; q < m; ++q) off += checked_index(p[q], D.shape[batch_dims + q], op) * ds[batch_dims + q];
  return off;
}

void compute_gather_nd(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& D = *in[0];
  const Tensor& I = *in[1];
  int64_t b = ctx.node.attr_int("batch_dims", 0), r = D.rank(), q = I.rank();
  if (q < 1 || b < 0 || b >= std::min(r, q)) throw KernelError("GatherND: batch_dims " + std::to_string(b) + " invalid for data " + shape_str(D.shape) + " and indices " + shape_str(I.shape));
  int64_t m = I.dim(-1);
  if (m < 1 || m > r - b) throw KernelError("GatherND: indices last dim " + std::to_string(m) + " invalid for data " + shape_str(D.shape));
  for (int64_t d = 0; d < b; ++d)
    if (D.shape[d] != I.shape[d]) throw KernelError("GatherND: batch dims of data " + shape_str(D.shape) + " and indices " + shape_str(I.shape) + " differ");
  Shape shape(I.shape.begin(), I.shape.end() - 1);
  shape.insert(shape.end(), D.shape.begin() + b + m, D.shape.end());
  out[0] = Tensor::empty(D.dtype, shape);
  std::vector<int64_t> ds = strides_of(D.shape);
  int64_t batches = 1, slice = 1;
  for (int64_t d = 0; d < b; ++d) batches *= D.shape[d];
  for (int64_t d = b + m; d < r; ++d) slice *= D.shape[d];
  int64_t tuples = m ? I.numel() / m : 0, per_batch = batches ? tuples / batches : 0;
  int64_t batch_stride = b > 0 ? ds[b - 1] : 0;
  size_t es = dtype_size(D.dtype);
  const char* d = static_cast<const char*>(D.data);
  char* y = static_cast<char*>(out[0].data);
  for (int64_t j = 0; j < tuples; ++j) {
    int64_t src = (per_batch ? j / per_batch : 0) * batch_stride + nd_offset(D, I, j, b, ds, "GatherND");
    std::memcpy(y + static_cast<size_t>(j * slice) * es, d + static_cast<size_t>(src) * es, static_cast<size_t>(slice) * es);
  }
}

void compute_scatter_nd(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& D = *in[0];
  const Tensor& I = *in[1];
  const Tensor& U = *in[2];
  int64_t r = D.rank(), q = I.rank();
  if (U.dtype != D.dtype) throw KernelError("ScatterND: data and updates dtypes differ");
  if (q < 1 || I.dim(-1) > r || I.dim(-1) < 1) throw KernelError("ScatterND: indices " + shape_str(I.shape) + " invalid for data " + shape_str(D.shape));
  int64_t m = I.dim(-1);
  Shape expect(I.shape.begin(), I.shape.end() - 1);
  expect.insert(expect.end(), D.shape.begin() + m, D.shape.end());
  if (U.shape != expect) throw KernelError("ScatterND: updates shape " + shape_str(U.shape) + " should be " + shape_str(expect));
  int code = reduction_code(ctx.node);
  out[0] = D.clone();
  std::vector<int64_t> ds = strides_of(D.shape);
  int64_t slice = 1;
  for (int64_t d = m; d < r; ++d) slice *= D.shape[d];
  size_t es = dtype_size(D.dtype);
  char* y = static_cast<char*>(out[0].data);
  const char* u = static_cast<const char*>(U.data);
  for (int64_t j = 0; j < I.numel() / m; ++j) {
    int64_t dst = nd_offset(D, I, j, 0, ds, "ScatterND");
    write_elements(D, y + static_cast<size_t>(dst) * es, u + static_cast<size_t>(j * slice) * es, slice, code);
  }
}

std::string check_gather_nd(const NodeInfo& n) {
  std::string r = check_gather(n);
  if (r.empty() && n.opset < 12 && n.attr_int("batch_dims", 0) != 0) r = "GatherND: batch_dims before opset 12";
  return r;
}

}  // namespace

void register_gather_scatter(std::vector<Kernel>& k) {
  k.push_back(Kernel("GatherElements").opsets(11, kMaxOpset).types(kAllDTypes).check(check_gather)
              .compute(compute_gather_elements));
  k.push_back(Kernel("ScatterElements").opsets(11, kMaxOpset).types(kAllDTypes).check(check_scatter)
              .compute(compute_scatter_elements));
  k.push_back(Kernel("GatherND").opsets(11, kMaxOpset).types(kAllDTypes).check(check_gather_nd)
              .compute(compute_gather_nd));
  k.push_back(Kernel("ScatterND").opsets(11, kMaxOpset).types(kAllDTypes).check(check_scatter)
              .compute(compute_scatter_nd));
}

}  // namespace xinrt
