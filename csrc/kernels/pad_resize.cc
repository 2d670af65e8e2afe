// Pad (constant / reflect / edge; pads as an attribute before opset 11, an input after, axes
// input from 18) and Resize (opset 11+, nearest and linear over any axes, separable as in
// onnx.reference: one axis at a time with float64 intermediates; cubic in resize_cubic.cc;
// antialias, tf_crop_and_resize and the axes / keep_aspect_ratio_policy attributes are declined).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/registry.h"
#include "kernels/resize_cubic.h"

namespace xinrt {
namespace {

std::vector<int64_t> ints_of(const Tensor* t, const std::string& what) {
  if (!t) return {};
  if (t->dtype != DType::i64) throw KernelError(what + " must be int64");
  return std::vector<int64_t>(t->ptr<int64_t>(), t->ptr<int64_t>() + t->numel());
}

// Copies X into Y where src[d][o] names the input index along axis d of output index o
// (-1: the constant `fill`, given as raw bytes of one element).
void gather_axes(const Tensor& X, Tensor& Y, const std::vector<std::vector<int64_t>>& src, const char* fill,
                 ThreadPool& pool) {
  int64_t r = X.rank(), es = dtype_size(X.dtype);
  if (Y.numel() == 0) return;
  if (r == 0) {
    std::memcpy(Y.data, X.data, es);
    return;
  }
  std::vector<int64_t> xs(r, 1);
  for (int64_t i = r - 2; i >= 0; --i) xs[i] = xs[i + 1] * X.shape[i + 1];
  int64_t n = r ? Y.shape[r - 1] : 1, rows = Y.numel() / n;
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(Y.data);
  pool.parallel_for(rows, std::max<int64_t>(1, 8192 / n), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t rem = row, off = 0;
      bool outside = false;
      for (int64_t d = r - 2; d >= 0; --d) {
        int64_t s = src[d][rem % Y.shape[d]];
        rem /= Y.shape[d];
        outside = outside || s < 0;
        off += s * xs[d];
      }
      char* dst = y + row * n * es;
      const std::vector<int64_t>& last = src[r - 1];
      for (int64_t k = 0; k < n; ++k) {
        int64_t s = last[k];
        std::memcpy(dst + k * es, outside || s < 0 ? fill : x + (off + s) * es, es);
      }
    }
  });
}

// ---- Pad ----

std::string check_pad(const NodeInfo& n) {
  std::string mode = n.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") return "Pad: mode '" + mode + "' not supported";
  if (n.opset >= 11) {
    if (!n.has_input(1)) return "Pad: pads input missing";
    std::string r = require_dtype(n, 1, {DType::i64});
    if (!r.empty()) return r;
    if (n.has_input(2) && n.input_dtypes[2] != DType::unknown && n.input_dtypes[0] != DType::unknown &&
        n.input_dtypes[2] != n.input_dtypes[0])
      return "Pad: constant_value dtype differs from data";
    r = require_dtype(n, 3, {DType::i64});
    if (!r.empty()) return r;
  } else if (!n.has_attr("pads")) {
    return "Pad: pads attribute missing";
  }
  if (n.opset < 11 && n.input_dtypes[0] != DType::unknown && n.input_dtypes[0] != DType::f32)
    return "Pad: float32 only before opset 11";
  return "";
}

void compute_pad(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t r = X.rank(), es = dtype_size(X.dtype);
  std::string mode = ctx.node.attr_string("mode", "constant");
  std::vector<int64_t> raw, axes;
  std::vector<char> fill(es, 0);
  if (ctx.node.opset < 11) {
    raw = ctx.node.attr_ints("pads");
    float v = ctx.node.attr_float("value", 0.0f);
    std::memcpy(fill.data(), &v, 4);
  } else {
    raw = ints_of(in[1], "Pad: pads");
    if (in.size() > 2 && in[2] && in[2]->numel()) {
      if (in[2]->dtype != X.dtype) throw KernelError("Pad: constant_value dtype differs from data");
      std::memcpy(fill.data(), in[2]->data, es);
    }
    if (in.size() > 3 && in[3]) axes = ints_of(in[3], "Pad: axes");
  }
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  int64_t na = static_cast<int64_t>(axes.size());
  if (static_cast<int64_t>(raw.size()) != 2 * na)
    throw KernelError("Pad: " + std::to_string(raw.size()) + " pads for " + std::to_string(na) + " axes");
  std::vector<int64_t> begin(r, 0), end(r, 0);
  for (int64_t i = 0; i < na; ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    if (a < 0 || a >= r) throw KernelError("Pad: axis out of range");
    begin[a] = raw[i];
    end[a] = raw[na + i];
  }
  Shape shape(r);
  for (int64_t d = 0; d < r; ++d) {
    int64_t n = X.shape[d];
    // A negative pad crops; it may not crop more than the axis holds (so o - begin never overflows).
    if (begin[d] < -n || end[d] < -n)
      throw KernelError("Pad: pads " + std::to_string(begin[d]) + ", " + std::to_string(end[d]) +
                        " remove more than axis " + std::to_string(d) + " of size " + std::to_string(n) + " holds");
    shape[d] = checked_add(checked_add(n, begin[d], "Pad: output size"), end[d], "Pad: output size");
    if (shape[d] < 0) throw KernelError("Pad: pads remove more than axis " + std::to_string(d) + " holds");
    if (n == 0 && mode != "constant" && shape[d] > 0)
      throw KernelError("Pad: cannot " + mode + "-pad an empty axis");
    // As ONNX Runtime: reflect mirrors inside the axis, so a pad of the axis' size or more is refused.
    if (mode == "reflect" && (begin[d] >= n || end[d] >= n) && (begin[d] > 0 || end[d] > 0))
      throw ModelError("Pad: reflect pads " + std::to_string(begin[d]) + ", " + std::to_string(end[d]) +
                        " must be smaller than axis " + std::to_string(d) + " of size " + std::to_string(n));
  }
  out[0] = Tensor::empty(X.dtype, shape);  // sizes checked before the per-axis tables below
  std::vector<std::vector<int64_t>> src(r);
  for (int64_t d = 0; d < r; ++d) {
    int64_t n = X.shape[d];
    for (int64_t o = 0; o < shape[d]; ++o) {
      int64_t i = o - begin[d];
      if (i < 0 || i >= n) {
        if (mode == "constant") {
          i = -1;
        } else if (mode == "edge") {
          i = i < 0 ? 0 : n - 1;
        } else if (n == 1) {
          i = 0;
        } else {  // numpy's reflect, repeated for pads longer than the axis
          int64_t period = 2 * (n - 1);
          i = ((i % period) + period) % period;
          if (i >= n) i = period - i;
        }
      }
      src[d].push_back(i);
    }
  }
  gather_axes(X, out[0], src, fill.data(), ctx.pool);
}

// ---- Resize ----

std::string check_resize(const NodeInfo& n) {
  std::string mode = n.attr_string("mode", "nearest");
  std::string ct = n.attr_string("coordinate_transformation_mode", "half_pixel");
  std::string nm = n.attr_string("nearest_mode", "round_prefer_floor");
  if (mode != "nearest" && mode != "linear" && mode != "cubic") return "Resize: mode '" + mode + "' not supported";
  if (ct != "half_pixel" && ct != "half_pixel_symmetric" && ct != "pytorch_half_pixel" && ct != "align_corners" &&
      ct != "asymmetric")
    return "Resize: coordinate_transformation_mode '" + ct + "' not supported";
  if (mode == "nearest" && ct == "half_pixel_symmetric")
    return "Resize: nearest with half_pixel_symmetric not supported";
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
    return "Resize: nearest_mode '" + nm + "' not supported";
  if (n.attr_int("antialias", 0) != 0) return "Resize: antialias not supported";
  if (n.has_attr("axes")) return "Resize: axes attribute not supported";
  if (n.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    return "Resize: keep_aspect_ratio_policy other than stretch not supported";
  if (mode != "nearest") return require_dtype(n, 0, {DType::f32});
  std::string r = require_dtype(n, 0, {DType::f32, DType::u8, DType::i8, DType::i32});
  if (!r.empty()) return r;
  r = require_dtype(n, 2, {DType::f32});
  return r.empty() ? require_dtype(n, 3, {DType::i64}) : r;
}

double source_coordinate(const std::string& ct, double y, double scale, int64_t in, double out_w, int64_t out) {
  if (ct == "align_corners") return out_w == 1 ? 0.0 : y * (in - 1) / (out_w - 1);
  if (ct == "asymmetric") return y / scale;
  if (ct == "pytorch_half_pixel") return out_w == 1 ? -0.5 : (y + 0.5) / scale - 0.5;
  if (ct == "half_pixel_symmetric") {
    double adjustment = out / out_w, center = in / 2.0;
    return center * (1 - adjustment) + (y + 0.5) / scale - 0.5;
  }
  return (y + 0.5) / scale - 0.5;  // half_pixel
}

void compute_resize(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const NodeInfo& node = ctx.node;
  int64_t r = X.rank();
  std::string mode = node.attr_string("mode", "nearest");
  std::string ct = node.attr_string("coordinate_transformation_mode", "half_pixel");
  std::string nm = node.attr_string("nearest_mode", "round_prefer_floor");
  const Tensor* scales_t = in.size() > 2 ? in[2] : nullptr;
  const Tensor* sizes_t = in.size() > 3 ? in[3] : nullptr;
  std::vector<double> scale(r);
  Shape shape(r);
  if (sizes_t && sizes_t->numel()) {
    std::vector<int64_t> sizes = ints_of(sizes_t, "Resize: sizes");
    if (static_cast<int64_t>(sizes.size()) != r) throw KernelError("Resize: sizes length differs from rank");
    for (int64_t d = 0; d < r; ++d) {
      shape[d] = sizes[d];
      if (sizes[d] < 1)  // as ONNX Runtime
        throw ModelError("Resize: sizes must be positive, got " + shape_str(sizes));
      scale[d] = static_cast<double>(sizes[d]) / static_cast<double>(X.shape[d]);
    }
  } else {
    if (!scales_t || scales_t->dtype != DType::f32 || scales_t->numel() != r)
      throw KernelError("Resize: needs float32 scales with one value per axis, or sizes");
    for (int64_t d = 0; d < r; ++d) {
      scale[d] = scales_t->ptr<float>()[d];
      if (!(scale[d] > 0)) throw KernelError("Resize: scales must be positive");
      double size = scale[d] * static_cast<double>(X.shape[d]);
      if (!(size < 0x1p62)) throw ShapeError("Resize: scale " + std::to_string(scale[d]) + " too large");
      shape[d] = static_cast<int64_t>(size);
    }
  }
  for (int64_t d = 0; d < r; ++d)
    if (X.shape[d] == 0 && shape[d] > 0)
      throw KernelError("Resize: cannot resize an empty axis " + std::to_string(d) + " to " + std::to_string(shape[d]));
  out[0] = Tensor::empty(X.dtype, shape);  // sizes checked before the per-axis tables below
  // Per axis: the two source indices and the weight of the second (nearest: weight 0 or 1).
  std::vector<std::vector<int64_t>> i0(r), i1(r);
  std::vector<std::vector<double>> w(r);
  std::vector<bool> identity(r);
  std::vector<std::vector<double>> coord(r);  // source coordinates, for cubic
  for (int64_t d = 0; d < r; ++d) {
    int64_t n = X.shape[d];
    identity[d] = std::fabs(scale[d] - 1.0) <= 1e-9 && shape[d] == n;
    double out_w = scale[d] * n;
    for (int64_t o = 0; o < shape[d]; ++o) {
      double x = source_coordinate(ct, static_cast<double>(o), scale[d], n, out_w, shape[d]);
      coord[d].push_back(x);
      double f = std::floor(x);
      int64_t lo = static_cast<int64_t>(f), hi = lo + 1;
      double ratio = x - f, wt;
      if (ratio == 0.0) {
        wt = 0.0;  // exactly on a sample
      } else if (mode == "linear") {
        wt = ratio;
      } else if (nm == "round_prefer_floor") {
        wt = ratio > 0.5 ? 1.0 : 0.0;
      } else if (nm == "round_prefer_ceil") {
        wt = ratio >= 0.5 ? 1.0 : 0.0;
      } else {
        wt = nm == "ceil" ? 1.0 : 0.0;
      }
      i0[d].push_back(std::min(std::max<int64_t>(lo, 0), n - 1));
      i1[d].push_back(std::min(std::max<int64_t>(hi, 0), n - 1));
      w[d].push_back(wt);
    }
  }
  if (mode == "cubic") {
    resize_cubic(X, coord, node.attr_float("cubic_coeff_a", -0.75f), node.attr_int("exclude_outside", 0) != 0, out[0],
                 ctx.pool);
    return;
  }
  if (mode == "nearest") {
    std::vector<std::vector<int64_t>> src(r);
    for (int64_t d = 0; d < r; ++d)
      for (size_t o = 0; o < w[d].size(); ++o) src[d].push_back(w[d][o] > 0.5 ? i1[d][o] : i0[d][o]);
    gather_axes(X, out[0], src, nullptr, ctx.pool);
    return;
  }
  // Linear: separable passes in float64, skipping identity axes, as onnx.reference does.
  Shape cur = X.shape;
  std::vector<double> data(X.ptr<float>(), X.ptr<float>() + X.numel());
  for (int64_t d = 0; d < r; ++d) {
    if (identity[d]) continue;
    int64_t outer = 1, inner = 1, n = cur[d], m = shape[d];
    for (int64_t k = 0; k < d; ++k) outer *= cur[k];
    for (int64_t k = d + 1; k < r; ++k) inner *= cur[k];
    std::vector<double> next(static_cast<size_t>(outer * m * inner));
    ctx.pool.parallel_for(outer * m, std::max<int64_t>(1, 4096 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / m, j = t % m;
        const double* a = data.data() + (o * n + i0[d][j]) * inner;
        const double* c = data.data() + (o * n + i1[d][j]) * inner;
        double wb = w[d][j], wa = 1.0 - wb;
        if (wb == 0.0) wa = 1.0;
        double* dst = next.data() + t * inner;
        for (int64_t k = 0; k < inner; ++k) dst[k] = wa * a[k] + wb * c[k];
      }
    });
    data.swap(next);
    cur[d] = m;
  }
  float* y = out[0].ptr<float>();
  for (size_t k = 0; k < data.size(); ++k) y[k] = static_cast<float>(data[k]);
}

}  // namespace

void register_pad_resize(std::vector<Kernel>& k) {
  k.push_back(Kernel("Pad").opsets(2, kMaxOpset)
              .types({DType::f32, DType::f64, DType::f16, DType::i64, DType::i32, DType::i8, DType::u8, DType::boolean})
              .check(check_pad).compute(compute_pad));
  k.push_back(Kernel("Resize").opsets(11, kMaxOpset).types({DType::f32, DType::u8, DType::i8, DType::i32})
              .check(check_resize).compute(compute_resize));
}

}  // namespace xinrt
