// Layout and shape-derived ops on any dtype: Tile, DepthToSpace, SpaceToDepth, Size, EyeLike.
#include <cstring>
#include <string>

#include "core/registry.h"

namespace xinrt {
namespace {

const std::vector<DType> kAllDTypes = {DType::f32, DType::f64, DType::f16, DType::i64,
                                       DType::i32, DType::i8,  DType::u8,  DType::boolean};

// Copies X into Y (same rank) where Y's element at index i reads X at src(i): per axis d,
// output index o reads input index map[d][o]. Walks Y in order, one row of the last axis at a time.
void gather_axes(const Tensor& X, Tensor& Y, const std::vector<std::vector<int64_t>>& map) {
  int64_t r = Y.rank();
  size_t es = dtype_size(X.dtype);
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(Y.data);
  if (Y.numel() == 0) return;
  if (r == 0) {
    std::memcpy(y, x, es);
    return;
  }
  std::vector<int64_t> stride(r, 1), idx(r, 0);
  for (int64_t d = r - 2; d >= 0; --d) stride[d] = stride[d + 1] * X.shape[d + 1];
  int64_t cols = Y.shape[r - 1], rows = Y.numel() / cols;
  const std::vector<int64_t>& last = map[r - 1];
  for (int64_t t = 0; t < rows; ++t) {
    int64_t base = 0;
    for (int64_t d = 0; d < r - 1; ++d) base += map[d][idx[d]] * stride[d];
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(y + static_cast<size_t>(t * cols + c) * es, x + static_cast<size_t>(base + last[c]) * es, es);
    for (int64_t d = r - 2; d >= 0; --d) {
      if (++idx[d] < Y.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// ---- Tile ----

std::string check_tile(const NodeInfo& n) { return require_dtype(n, 1, {DType::i64}); }

void compute_tile(const KernelContext&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& R = *in[1];
  if (R.dtype != DType::i64 || R.numel() != X.rank())
    throw KernelError("Tile: repeats must be int64 with one value per axis of " + shape_str(X.shape));
  Shape shape(X.shape);
  std::vector<std::vector<int64_t>> map(X.rank());
  for (int64_t d = 0; d < X.rank(); ++d) {
    int64_t rep = R.ptr<int64_t>()[d];
    if (rep < 0) throw KernelError("Tile: negative repeat " + std::to_string(rep));
    shape[d] = X.shape[d] * rep;
    for (int64_t o = 0; o < shape[d]; ++o) map[d].push_back(o % X.shape[d]);
  }
  out[0] = Tensor::empty(X.dtype, shape);
  gather_axes(X, out[0], map);
}

// ---- DepthToSpace / SpaceToDepth ----

std::string check_depth_space(const NodeInfo& n) {
  if (n.input_rank(0) >= 0 && n.input_rank(0) != 4) return n.op_type + ": 4-D input only";
  if (n.attr_int("blocksize", 0) < 1) return n.op_type + ": blocksize must be positive";
  std::string mode = n.attr_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") return n.op_type + ": mode '" + mode + "' not in the spec";
  return "";
}

// Both ops are a reshape to 6-D, a transpose, and a reshape; this copies through the 6-D view.
void compute_depth_space(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  if (X.rank() != 4) throw KernelError(op + ": 4-D input only, got " + shape_str(X.shape));
  int64_t b = ctx.node.attr_int("blocksize", 0), N = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
  bool d2s = op == "DepthToSpace", crd = ctx.node.attr_string("mode", "DCR") == "CRD";
  if (b < 1 || (d2s && C % (b * b) != 0) || (!d2s && (H % b != 0 || W % b != 0)))
    throw KernelError(op + ": blocksize " + std::to_string(b) + " does not divide " + shape_str(X.shape));
  Shape shape = d2s ? Shape{N, C / (b * b), H * b, W * b} : Shape{N, C * b * b, H / b, W / b};
  out[0] = Tensor::empty(X.dtype, shape);
  size_t es = dtype_size(X.dtype);
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(out[0].data);
  int64_t c2 = d2s ? C / (b * b) : C;  // the "small" channel count
  int64_t h2 = d2s ? H : H / b, w2 = d2s ? W : W / b;  // the "small" spatial size
  // Walk (n, c, h, i, w, j): small-channel c, block offsets i, j; big-image pixel (h*b+i, w*b+j)
  // and depth channel (DCR: (i*b+j)*c2+c; CRD: c*b*b+i*b+j).
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < c2; ++c)
      for (int64_t h = 0; h < h2; ++h)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t w = 0; w < w2; ++w)
            for (int64_t j = 0; j < b; ++j) {
              int64_t depth_c = crd ? (c * b + i) * b + j : (i * b + j) * c2 + c;
              int64_t deep = ((n * c2 * b * b + depth_c) * h2 + h) * w2 + w;
              int64_t big = ((n * c2 + c) * h2 * b + h * b + i) * w2 * b + w * b + j;
              int64_t src = d2s ? deep : big, dst = d2s ? big : deep;
              std::memcpy(y + static_cast<size_t>(dst) * es, x + static_cast<size_t>(src) * es, es);
            }
}

// ---- Size ----

std::vector<DType> i64_output(const NodeInfo&) { return {DType::i64}; }

void compute_size(const KernelContext&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  out[0] = Tensor::empty(DType::i64, {});
  *out[0].ptr<int64_t>() = in[0]->numel();
}

// ---- EyeLike ----

std::string check_eyelike(const NodeInfo& n) {
  if (n.input_rank(0) >= 0 && n.input_rank(0) != 2) return "EyeLike: 2-D input only";
  if (n.has_attr("dtype") && dtype_from_onnx(n.attr_int("dtype", 0)) == DType::none)
    return "EyeLike: dtype " + std::to_string(n.attr_int("dtype", 0)) + " not supported";
  return "";
}

std::vector<DType> eyelike_dtypes(const NodeInfo& n) {
  return {n.has_attr("dtype") ? dtype_from_onnx(n.attr_int("dtype", 0)) : n.input_dtypes[0]};
}

void compute_eyelike(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (X.rank() != 2) throw KernelError("EyeLike: 2-D input only, got " + shape_str(X.shape));
  DType dt = ctx.node.has_attr("dtype") ? dtype_from_onnx(ctx.node.attr_int("dtype", 0)) : X.dtype;
  if (dt == DType::none) throw KernelError("EyeLike: dtype not supported");
  out[0] = Tensor::empty(dt, X.shape);
  std::memset(out[0].data, 0, out[0].nbytes());
  int64_t k = ctx.node.attr_int("k", 0), rows = X.shape[0], cols = X.shape[1];
  size_t es = dtype_size(dt);
  char* y = static_cast<char*>(out[0].data);
  for (int64_t i = 0; i < rows; ++i) {
    int64_t j = i + k;
    if (j < 0 || j >= cols) continue;
    char* p = y + static_cast<size_t>(i * cols + j) * es;
    switch (dt) {
      case DType::f32: *reinterpret_cast<float*>(p) = 1.0f; break;
      case DType::f64: *reinterpret_cast<double*>(p) = 1.0; break;
      case DType::f16: *reinterpret_cast<uint16_t*>(p) = 0x3c00; break;
      case DType::i64: *reinterpret_cast<int64_t*>(p) = 1; break;
      case DType::i32: *reinterpret_cast<int32_t*>(p) = 1; break;
      default: *reinterpret_cast<uint8_t*>(p) = 1; break;
    }
  }
}

}  // namespace

void register_layout_ops(std::vector<Kernel>& k) {
  k.push_back(Kernel("Tile").opsets(6, kMaxOpset).types(kAllDTypes).check(check_tile).compute(compute_tile));
  k.push_back(Kernel("DepthToSpace").opsets(1, kMaxOpset).types(kAllDTypes).check(check_depth_space)
              .compute(compute_depth_space));
  k.push_back(Kernel("SpaceToDepth").opsets(1, kMaxOpset).types(kAllDTypes).check(check_depth_space)
              .compute(compute_depth_space));
  k.push_back(Kernel("Size").opsets(1, kMaxOpset).types(kAllDTypes).outputs(i64_output)
              .compute(compute_size));
  k.push_back(Kernel("EyeLike").opsets(9, kMaxOpset).types(kAllDTypes).check(check_eyelike)
              .outputs(eyelike_dtypes).compute(compute_eyelike));
}

}  // namespace xinrt
