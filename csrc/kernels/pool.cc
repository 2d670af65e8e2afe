// MaxPool, AveragePool (1-D/2-D NCHW) and GlobalAveragePool/GlobalMaxPool (any rank >= 3).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/registry.h"
#include "kernels/conv_geometry.h"

namespace xinrt {
namespace {

std::string check_pool(const NodeInfo& n) {
  const std::string& op = n.op_type;
  int64_t rank = n.input_rank(0);
  if (rank >= 0 && rank != 3 && rank != 4) return op + ": only 1-D and 2-D pooling (rank 3 or 4 inputs)";
  if (!n.has_attr("kernel_shape")) return op + ": kernel_shape attribute missing";
  size_t spatial = n.attr_ints("kernel_shape").size();
  if (spatial != 1 && spatial != 2) return op + ": only 1-D and 2-D kernels";
  if (rank >= 0 && static_cast<size_t>(rank) != spatial + 2) return op + ": kernel_shape rank differs from input";
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap == "SAME_LOWER") return op + ": auto_pad SAME_LOWER (onnx.reference's output size differs from the spec)";
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER") return op + ": unknown auto_pad " + ap;
  if (op == "MaxPool") {
    if (n.num_outputs > 1) return "MaxPool: the Indices output is not supported";
  } else {
    for (int64_t d : n.attr_ints("dilations", {}))
      if (d != 1) return "AveragePool: dilations other than 1 are not supported";
    if (n.attr_int("ceil_mode", 0) != 0 && n.attr_int("count_include_pad", 0) != 0)
      return "AveragePool: ceil_mode with count_include_pad is not supported";
  }
  return "";
}

void compute_pool(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  if (X.dtype != DType::f32) throw KernelError(op + ": float32 only");
  if (X.rank() != 3 && X.rank() != 4) throw KernelError(op + ": input must be rank 3 or 4, got " + shape_str(X.shape));
  bool is_max = op == "MaxPool";
  std::vector<int64_t> spatial(X.shape.begin() + 2, X.shape.end());
  WindowGeometry g = window_geometry(ctx.node, spatial, ctx.node.attr_ints("kernel_shape"), ctx.node.opset >= 10);
  if (!is_max && (g.d_h != 1 || g.d_w != 1)) throw KernelError("AveragePool: dilations are not supported");
  bool include_pad = ctx.node.attr_int("count_include_pad", 0) != 0;
  Shape out_shape{X.dim(0), X.dim(1)};
  if (g.spatial == 2) out_shape.push_back(g.out_h);
  out_shape.push_back(g.out_w);
  out[0] = Tensor::empty(DType::f32, out_shape);
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  int64_t planes = X.dim(0) * X.dim(1);
  ctx.pool.parallel_for(planes, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* xp = x + p * g.in_h * g.in_w;
      float* yp = y + p * g.out_h * g.out_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        int64_t h0 = oh * g.s_h - g.pad_top;
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          int64_t w0 = ow * g.s_w - g.pad_left;
          if (is_max) {
            float m = -std::numeric_limits<float>::infinity();
            for (int64_t ki = 0; ki < g.k_h; ++ki) {
              int64_t ih = h0 + ki * g.d_h;
              if (ih < 0 || ih >= g.in_h) continue;
              for (int64_t kj = 0; kj < g.k_w; ++kj) {
                int64_t iw = w0 + kj * g.d_w;
                if (iw >= 0 && iw < g.in_w) {
                  float v = xp[ih * g.in_w + iw];
                  m = (v > m || std::isnan(v)) ? v : m;
                }
              }
            }
            yp[oh * g.out_w + ow] = m;
          } else {
            int64_t hs = std::max<int64_t>(h0, 0), he = std::min(h0 + g.k_h, g.in_h);
            int64_t ws = std::max<int64_t>(w0, 0), we = std::min(w0 + g.k_w, g.in_w);
            float sum = 0.0f;
            for (int64_t ih = hs; ih < he; ++ih)
              for (int64_t iw = ws; iw < we; ++iw) sum += xp[ih * g.in_w + iw];
            int64_t count;
            if (include_pad) {  // the window clipped to the padded input
              int64_t hpe = std::min(h0 + g.k_h, g.in_h + g.pad_bottom), wpe = std::min(w0 + g.k_w, g.in_w + g.pad_right);
              count = (hpe - h0) * (wpe - w0);
            } else {
              count = (he - hs) * (we - ws);
            }
            yp[oh * g.out_w + ow] = count > 0 ? sum / static_cast<float>(count) : 0.0f;
          }
        }
      }
    }
  });
}

void compute_global_pool(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  if (X.dtype != DType::f32) throw KernelError(op + ": float32 only");
  if (X.rank() < 3) throw KernelError(op + ": input must have rank >= 3, got " + shape_str(X.shape));
  Shape out_shape(X.shape.size(), 1);
  out_shape[0] = X.dim(0);
  out_shape[1] = X.dim(1);
  out[0] = Tensor::empty(DType::f32, out_shape);
  int64_t planes = X.dim(0) * X.dim(1), size = planes ? X.numel() / planes : 0;
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  bool is_max = op == "GlobalMaxPool";
  ctx.pool.parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(size, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* xp = x + p * size;
      if (is_max) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t i = 0; i < size; ++i) m = (xp[i] > m || std::isnan(xp[i])) ? xp[i] : m;
        y[p] = m;
      } else {
        double s = 0.0;
        for (int64_t i = 0; i < size; ++i) s += xp[i];
        y[p] = static_cast<float>(s / static_cast<double>(size));
      }
    }
  });
}

std::string check_global_pool(const NodeInfo& n) {
  if (n.input_rank(0) >= 0 && n.input_rank(0) < 3) return n.op_type + ": input must have rank >= 3";
  return "";
}

}  // namespace

void register_pool(std::vector<Kernel>& k) {
  k.push_back({"MaxPool", "", 1, kMaxOpset, {DType::f32}, 0, check_pool, nullptr, compute_pool, nullptr});
  k.push_back({"AveragePool", "", 1, kMaxOpset, {DType::f32}, 0, check_pool, nullptr, compute_pool, nullptr});
  k.push_back({"GlobalAveragePool", "", 1, kMaxOpset, {DType::f32}, 0, check_global_pool, nullptr,
               compute_global_pool, nullptr});
  k.push_back({"GlobalMaxPool", "", 1, kMaxOpset, {DType::f32}, 0, check_global_pool, nullptr,
               compute_global_pool, nullptr});
}

}  // namespace xinrt
