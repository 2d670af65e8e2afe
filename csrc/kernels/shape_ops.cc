// Data-movement ops for every fixed-size dtype: Identity, Dropout (inference), Reshape, Flatten,
// Squeeze, Unsqueeze, Concat, Transpose, ConstantOfShape. Pure views share storage (no copy).
#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/registry.h"

namespace xinrt {
namespace {

const std::vector<DType> kAllDTypes = {DType::f32, DType::f64, DType::f16, DType::i64,
                                       DType::i32, DType::i8,  DType::u8,  DType::boolean};

std::vector<int64_t> int64_values(const Tensor* t, const std::string& what) {
  if (!t) return {};
  if (t->dtype != DType::i64) throw KernelError(what + " must be int64, got " + dtype_name(t->dtype));
  if (t->rank() > 1) throw KernelError(what + " must be 1-D, got shape " + shape_str(t->shape));
  return std::vector<int64_t>(t->ptr<int64_t>(), t->ptr<int64_t>() + t->numel());
}

int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& op) {
  if (axis < -rank || axis >= rank)
    throw KernelError(op + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

// ---- Identity / Dropout ----

void compute_identity(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  out[0] = *in[0];
  if (out.size() > 1) {  // Dropout's mask: nothing is dropped at inference
    out[1] = Tensor::empty(DType::boolean, in[0]->shape);
    if (out[1].numel()) std::memset(out[1].data, 1, out[1].nbytes());
  }
}

std::string check_dropout(const NodeInfo& n) {
  if (n.opset < 12 && n.input_dtypes.size() > 1) return "Dropout: unexpected inputs";
  if (n.has_input(2)) {
    const Tensor* t = n.input_constants[2];
    if (!t) return "Dropout: training_mode input is not a constant (training mode is not supported)";
    if (t->dtype != DType::boolean || t->numel() != 1) return "Dropout: training_mode must be a bool scalar";
    if (*static_cast<const uint8_t*>(t->data)) return "Dropout: training_mode=true is not supported";
  }
  return "";
}

// The mask is bool at every opset, as onnx.reference returns it (opsets 7-9 type it as T).
std::vector<DType> dropout_dtypes(const NodeInfo& n) {
  std::vector<DType> d{n.input_dtypes[0]};
  if (n.num_outputs > 1) d.push_back(DType::boolean);
  return d;
}

// ---- Reshape / Flatten / Squeeze / Unsqueeze ----

void compute_reshape(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  std::vector<int64_t> want = int64_values(in[1], "Reshape: shape");
  bool allowzero = ctx.node.attr_int("allowzero", 0) == 1;
  Shape shape(want.size());
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    int64_t d = want[i];
    if (d == 0 && !allowzero) {
      if (i >= X.shape.size()) throw KernelError("Reshape: 0 at index " + std::to_string(i) + " past input rank");
      d = X.shape[i];
    }
    if (d == -1) {
      if (infer >= 0) throw KernelError("Reshape: more than one -1 in shape");
      infer = static_cast<int64_t>(i);
      continue;
    }
    if (d < 0) throw KernelError("Reshape: invalid dim " + std::to_string(d));
    shape[i] = d;
    known = checked_mul(known, d, "Reshape: product of the requested dims");
  }
  if (infer >= 0) {
    if (known == 0 || X.numel() % known != 0)
      throw KernelError("Reshape: cannot infer -1 reshaping " + shape_str(X.shape) + " to " + shape_str(want));
    shape[infer] = X.numel() / known;
  }
  out[0] = X.reshaped(shape);
}

std::string check_reshape(const NodeInfo& n) {
  if (!n.has_input(1)) return "Reshape: shape input missing";
  return require_dtype(n, 1, {DType::i64});
}

void compute_flatten(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t axis = ctx.node.attr_int("axis", 1);
  if (axis < -X.rank() || axis > X.rank()) throw KernelError("Flatten: axis out of range for " + shape_str(X.shape));
  if (axis < 0) axis += X.rank();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < X.rank(); ++i) (i < axis ? outer : inner) *= X.shape[i];
  out[0] = X.reshaped({outer, inner});
}

std::vector<int64_t> axes_of(const KernelContext& ctx, const std::vector<const Tensor*>& in, bool* given) {
  if (ctx.node.opset >= 13) {
    *given = in.size() > 1 && in[1];
    return *given ? int64_values(in[1], ctx.node.op_type + ": axes") : std::vector<int64_t>{};
  }
  *given = ctx.node.has_attr("axes");
  return ctx.node.attr_ints("axes");
}

void compute_squeeze(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  bool given = false;
  std::vector<int64_t> axes = axes_of(ctx, in, &given);
  std::vector<bool> drop(X.rank(), false);
  if (!given) {
    for (int64_t i = 0; i < X.rank(); ++i) drop[i] = X.shape[i] == 1;
  }
  for (int64_t a : axes) {
    a = normalize_axis(a, X.rank(), "Squeeze");
    if (X.shape[a] != 1)
      throw KernelError("Squeeze: dim " + std::to_string(a) + " of " + shape_str(X.shape) + " is not 1");
    drop[a] = true;
  }
  Shape shape;
  for (int64_t i = 0; i < X.rank(); ++i)
    if (!drop[i]) shape.push_back(X.shape[i]);
  out[0] = X.reshaped(shape);
}

void compute_unsqueeze(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  bool given = false;
  std::vector<int64_t> axes = axes_of(ctx, in, &given);
  if (!given) throw KernelError("Unsqueeze: axes missing");
  int64_t rank = X.rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) {
    a = normalize_axis(a, rank, "Unsqueeze");
    if (inserted[a]) throw KernelError("Unsqueeze: repeated axis " + std::to_string(a));
    inserted[a] = true;
  }
  Shape shape;
  size_t src = 0;
  for (int64_t i = 0; i < rank; ++i) shape.push_back(inserted[i] ? 1 : X.shape[src++]);
  out[0] = X.reshaped(shape);
}

std::string check_axes_op(const NodeInfo& n) {
  if (n.opset >= 13) return require_dtype(n, 1, {DType::i64});
  if (n.op_type == "Unsqueeze" && !n.has_attr("axes")) return "Unsqueeze: axes attribute missing";
  return "";
}

// ---- Concat ----

void compute_concat(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& first = *in[0];
  int64_t axis = normalize_axis(ctx.node.attr_int("axis", 1), first.rank(), "Concat");
  Shape shape = first.shape;
  shape[axis] = 0;
  for (const Tensor* t : in) {
    if (!t) throw KernelError("Concat: absent input");
    bool same = t->dtype == first.dtype && t->rank() == first.rank();
    for (int64_t i = 0; same && i < first.rank(); ++i) same = i == axis || t->shape[i] == first.shape[i];
    if (!same)
      throw KernelError("Concat: input " + shape_str(t->shape) + " " + dtype_name(t->dtype) +
                        " does not match " + shape_str(first.shape) + " " + dtype_name(first.dtype));
    shape[axis] = checked_add(shape[axis], t->shape[axis], "Concat: output length along axis");
  }
  Tensor Y = Tensor::empty(first.dtype, shape);
  int64_t outer = 1, inner = dtype_size(first.dtype);
  for (int64_t i = 0; i < axis; ++i) outer *= shape[i];
  for (int64_t i = axis + 1; i < first.rank(); ++i) inner *= shape[i];
  int64_t row = shape[axis] * inner;
  char* y = static_cast<char*>(Y.data);
  ctx.pool.parallel_for(outer, std::max<int64_t>(1, 65536 / std::max<int64_t>(row, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      int64_t offset = 0;
      for (const Tensor* t : in) {
        int64_t n = t->shape[axis] * inner;
        if (n) std::memcpy(y + o * row + offset, static_cast<const char*>(t->data) + o * n, n);
        offset += n;
      }
    }
  });
  out[0] = std::move(Y);
}

std::string check_concat(const NodeInfo& n) {
  if (n.opset >= 4 && !n.has_attr("axis")) return "Concat: axis attribute missing";
  for (size_t i = 1; i < n.input_dtypes.size(); ++i) {
    DType a = n.input_dtypes[0], b = n.input_dtypes[i];
    if (b == DType::none) return "Concat: absent input";
    if (a != DType::unknown && b != DType::unknown && a != b) return "Concat: input dtypes differ";
  }
  return "";
}

// ---- Transpose ----

template <class T>
void transpose_elements(const T* x, T* y, const std::vector<int64_t>& out_dims,
                        const std::vector<int64_t>& in_strides, int64_t begin, int64_t end) {
  size_t r = out_dims.size();
  std::vector<int64_t> idx(r, 0);
  int64_t rem = begin, src = 0;
  for (size_t k = r; k-- > 0;) {
    idx[k] = rem % out_dims[k];
    rem /= out_dims[k];
    src += idx[k] * in_strides[k];
  }
  int64_t last = out_dims[r - 1], sl = in_strides[r - 1];
  for (int64_t i = begin; i < end;) {
    int64_t run = std::min(last - idx[r - 1], end - i);
    for (int64_t j = 0; j < run; ++j) y[i + j] = x[src + j * sl];
    i += run;
    src += run * sl;
    idx[r - 1] += run;
    for (size_t k = r - 1; k > 0 && idx[k] == out_dims[k]; --k) {  // carry
      src -= idx[k] * in_strides[k];
      idx[k] = 0;
      ++idx[k - 1];
      src += in_strides[k - 1];
    }
  }
}

void compute_transpose(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t r = X.rank();
  std::vector<int64_t> perm = ctx.node.attr_ints("perm");
  if (perm.empty())
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  std::vector<bool> seen(r, false);
  if (static_cast<int64_t>(perm.size()) != r) throw KernelError("Transpose: perm length differs from rank");
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[p]) throw KernelError("Transpose: invalid perm");
    seen[p] = true;
  }
  Shape shape(r);
  std::vector<int64_t> strides(r, 1);
  for (int64_t i = r - 2; i >= 0; --i) strides[i] = strides[i + 1] * X.shape[i + 1];
  for (int64_t i = 0; i < r; ++i) shape[i] = X.shape[perm[i]];
  Tensor Y = Tensor::empty(X.dtype, shape);
  if (Y.numel() == 0) {
    out[0] = std::move(Y);
    return;
  }
  // Drop size-1 dims and merge output dims that stay adjacent in the input.
  std::vector<int64_t> dims, in_strides;
  for (int64_t i = 0; i < r; ++i) {
    int64_t d = shape[i], s = strides[perm[i]];
    if (d == 1) continue;
    if (!dims.empty() && in_strides.back() == s * d) {
      dims.back() *= d;
      in_strides.back() = s;
    } else {
      dims.push_back(d);
      in_strides.push_back(s);
    }
  }
  if (dims.empty()) {
    dims = {1};
    in_strides = {1};
  }
  // Copy whole contiguous inner rows as bytes where the innermost dim is unmoved.
  int64_t esize = dtype_size(X.dtype);
  if (in_strides.back() == 1 && dims.size() > 1) {
    esize *= dims.back();
    int64_t inner = dims.back();
    dims.pop_back();
    in_strides.pop_back();
    for (int64_t& s : in_strides) s /= inner;
    int64_t rows = shape_numel(dims);
    std::vector<int64_t> dim_strides(dims.size(), 1);
    const char* x = static_cast<const char*>(X.data);
    char* y = static_cast<char*>(Y.data);
    ctx.pool.parallel_for(rows, std::max<int64_t>(1, 16384 / esize), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        int64_t rem = row, src = 0;
        for (size_t k = dims.size(); k-- > 0;) {
          src += (rem % dims[k]) * in_strides[k];
          rem /= dims[k];
        }
        std::memcpy(y + row * esize, x + src * esize, esize);
      }
    });
    out[0] = std::move(Y);
    return;
  }
  int64_t n = Y.numel();
  ctx.pool.parallel_for(n, 16384, [&](int64_t b, int64_t e) {
    switch (esize) {
      case 1: transpose_elements(X.ptr<uint8_t>(), Y.ptr<uint8_t>(), dims, in_strides, b, e); break;
      case 2: transpose_elements(X.ptr<uint16_t>(), Y.ptr<uint16_t>(), dims, in_strides, b, e); break;
      case 4: transpose_elements(X.ptr<uint32_t>(), Y.ptr<uint32_t>(), dims, in_strides, b, e); break;
      default: transpose_elements(X.ptr<uint64_t>(), Y.ptr<uint64_t>(), dims, in_strides, b, e); break;
    }
  });
  out[0] = std::move(Y);
}

// ---- ConstantOfShape ----

void compute_constant_of_shape(const KernelContext& ctx, const std::vector<const Tensor*>& in,
                               std::vector<Tensor>& out) {
  std::vector<int64_t> dims = int64_values(in[0], "ConstantOfShape: shape");
  auto it = ctx.node.attrs.find("value");
  DType dtype = it == ctx.node.attrs.end() ? DType::f32 : it->second.t.dtype;
  Tensor Y = Tensor::empty(dtype, dims);
  size_t es = dtype_size(dtype);
  char* y = static_cast<char*>(Y.data);
  if (it == ctx.node.attrs.end()) {
    std::memset(y, 0, Y.nbytes());
  } else {
    const char* v = static_cast<const char*>(it->second.t.data);
    for (int64_t i = 0; i < Y.numel(); ++i) std::memcpy(y + i * es, v, es);
  }
  out[0] = std::move(Y);
}

std::string check_constant_of_shape(const NodeInfo& n) {
  auto it = n.attrs.find("value");
  if (it != n.attrs.end()) {
    if (it->second.kind != Attribute::kTensor) return "ConstantOfShape: value must be a tensor";
    if (it->second.t.numel() != 1) return "ConstantOfShape: value must hold one element";
  }
  return require_dtype(n, 0, {DType::i64});
}

std::vector<DType> constant_of_shape_dtypes(const NodeInfo& n) {
  auto it = n.attrs.find("value");
  return {it == n.attrs.end() ? DType::f32 : it->second.t.dtype};
}

}  // namespace

void register_shape_ops(std::vector<Kernel>& k) {
  auto add = [&](const char* op, int since, CheckFn check, ComputeFn compute) {
    k.push_back(Kernel(op).opsets(since, kMaxOpset).types(kAllDTypes).check(check).compute(compute));
  };
  add("Identity", 1, nullptr, compute_identity);
  add("Reshape", 5, check_reshape, compute_reshape);
  add("Flatten", 1, nullptr, compute_flatten);
  add("Squeeze", 1, check_axes_op, compute_squeeze);
  add("Unsqueeze", 1, check_axes_op, compute_unsqueeze);
  add("Concat", 4, check_concat, compute_concat);
  add("Transpose", 1, nullptr, compute_transpose);
  k.push_back(Kernel("Dropout").opsets(7, kMaxOpset).types(kAllDTypes).check(check_dropout)
              .outputs(dropout_dtypes).compute(compute_identity));
  k.push_back(Kernel("ConstantOfShape").opsets(9, kMaxOpset).types(kAllDTypes, kDTypesInCheck)
              .check(check_constant_of_shape).outputs(constant_of_shape_dtypes)
              .compute(compute_constant_of_shape));
}

}  // namespace xinrt
