// Conv (1-D and 2-D, NCHW): im2col (skipped for 1x1 stride-1 unpadded) + packed SGEMM with the
// bias fused as the GEMM's initial value; depthwise convolutions use a direct loop.
#include <algorithm>
#include <cstring>

#include "core/registry.h"
#include "kernels/conv_geometry.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

struct ConvWeights {  // weights pre-packed per group at plan time
  std::vector<std::shared_ptr<float>> packed;
};

std::string check_conv(const NodeInfo& n) {
  for (size_t i = 1; i < n.input_dtypes.size(); ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  if (!n.has_input(1)) return "Conv: weight input missing";
  int64_t rank = n.input_rank(0) >= 0 ? n.input_rank(0) : n.input_rank(1);
  if (rank >= 0 && rank != 3 && rank != 4) return "Conv: only 1-D and 2-D convolutions (rank 3 or 4 inputs)";
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER")
    return "Conv: unknown auto_pad " + ap;
  if (n.attr_int("group", 1) < 1) return "Conv: group must be >= 1";
  return "";
}

std::shared_ptr<void> prepare_conv(const NodeInfo& n) {
  const Tensor* W = n.input_constants.size() > 1 ? n.input_constants[1] : nullptr;
  int64_t group = n.attr_int("group", 1);
  if (!W || W->dtype != DType::f32 || W->rank() < 3 || W->dim(0) % group != 0) return nullptr;
  int64_t Mg = W->dim(0) / group, Kg = W->numel() / W->dim(0);
  if (W->dim(1) == 1 && group > 1) return nullptr;  // depthwise: direct kernel, nothing to pack
  auto state = std::make_shared<ConvWeights>();
  for (int64_t g = 0; g < group; ++g)
    state->packed.push_back(pack_a_new(W->ptr<float>() + g * Mg * Kg, Kg, false, Mg, Kg, 1.0f));
  return state;
}

// Rows (c, kh, kw) x columns (oh, ow) of one image's group of channels.
void im2col(const float* x, int64_t channels, const WindowGeometry& g, float* col, ThreadPool& pool) {
  int64_t rows = channels * g.k_h * g.k_w, cols = g.out_h * g.out_w;
  pool.parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t c = r / (g.k_h * g.k_w), ki = (r / g.k_w) % g.k_h, kj = r % g.k_w;
      const float* xc = x + c * g.in_h * g.in_w;
      float* dst = col + r * cols;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        int64_t ih = oh * g.s_h - g.pad_top + ki * g.d_h;
        float* d = dst + oh * g.out_w;
        if (ih < 0 || ih >= g.in_h) {
          std::memset(d, 0, sizeof(float) * g.out_w);
          continue;
        }
        const float* src = xc + ih * g.in_w;
        int64_t iw0 = -g.pad_left + kj * g.d_w;
        if (g.s_w == 1) {
          // Valid ow range: 0 <= iw0 + ow < in_w.
          int64_t lo = std::min(g.out_w, std::max<int64_t>(0, -iw0));
          int64_t hi = std::max(lo, std::min(g.out_w, g.in_w - iw0));
          std::fill(d, d + lo, 0.0f);
          std::memcpy(d + lo, src + iw0 + lo, sizeof(float) * (hi - lo));
          std::fill(d + hi, d + g.out_w, 0.0f);
        } else {
          for (int64_t ow = 0; ow < g.out_w; ++ow) {
            int64_t iw = iw0 + ow * g.s_w;
            d[ow] = (iw >= 0 && iw < g.in_w) ? src[iw] : 0.0f;
          }
        }
      }
    }
  });
}

void depthwise(const float* x, const float* w, const float* bias, float* y, int64_t batch, int64_t channels,
               int64_t multiplier, const WindowGeometry& g, ThreadPool& pool) {
  int64_t M = channels * multiplier;
  pool.parallel_for(batch * M, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      int64_t n = p / M, m = p % M, c = m / multiplier;
      const float* xc = x + (n * channels + c) * g.in_h * g.in_w;
      const float* wm = w + m * g.k_h * g.k_w;
      float* ym = y + p * g.out_h * g.out_w;
      float b = bias ? bias[m] : 0.0f;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          float acc = 0.0f;
          for (int64_t ki = 0; ki < g.k_h; ++ki) {
            int64_t ih = oh * g.s_h - g.pad_top + ki * g.d_h;
            if (ih < 0 || ih >= g.in_h) continue;
            for (int64_t kj = 0; kj < g.k_w; ++kj) {
              int64_t iw = ow * g.s_w - g.pad_left + kj * g.d_w;
              if (iw >= 0 && iw < g.in_w) acc += xc[ih * g.in_w + iw] * wm[ki * g.k_w + kj];
            }
          }
          ym[oh * g.out_w + ow] = acc + b;
        }
      }
    }
  });
}

void compute_conv(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& W = *in[1];
  const Tensor* B = in.size() > 2 ? in[2] : nullptr;
  if (X.dtype != DType::f32 || W.dtype != DType::f32 || (B && B->dtype != DType::f32))
    throw KernelError("Conv: float32 only");
  if (X.rank() != W.rank() || (X.rank() != 3 && X.rank() != 4))
    throw KernelError("Conv: input " + shape_str(X.shape) + " and weight " + shape_str(W.shape) +
                      " must both be rank 3 or 4");
  int64_t group = ctx.node.attr_int("group", 1);
  int64_t N = X.dim(0), C = X.dim(1), M = W.dim(0), Cg = W.dim(1);
  if (C != Cg * group || M % group != 0)
    throw KernelError("Conv: input channels " + std::to_string(C) + " / weight " + shape_str(W.shape) +
                      " do not match group " + std::to_string(group));
  if (B && B->numel() != M) throw KernelError("Conv: bias has " + std::to_string(B->numel()) + " values, expected " + std::to_string(M));
  std::vector<int64_t> spatial(X.shape.begin() + 2, X.shape.end());
  std::vector<int64_t> kernel(W.shape.begin() + 2, W.shape.end());
  std::vector<int64_t> ks = ctx.node.attr_ints("kernel_shape", kernel);
  if (ks != kernel) throw KernelError("Conv: kernel_shape attribute differs from the weight's shape");
  WindowGeometry g = window_geometry(ctx.node, spatial, kernel, false);
  Shape out_shape{N, M};
  if (g.spatial == 2) out_shape.push_back(g.out_h);
  out_shape.push_back(g.out_w);
  out[0] = Tensor::empty(DType::f32, out_shape);
  float* y = out[0].ptr<float>();
  if (out[0].numel() == 0) return;
  const float* x = X.ptr<float>();
  const float* bias = B ? B->ptr<float>() : nullptr;
  int64_t Mg = M / group, Kg = Cg * g.k_h * g.k_w, cols = g.out_h * g.out_w;
  if (Cg == 1 && group > 1) {
    depthwise(x, W.ptr<float>(), bias, y, N, C, Mg, g, ctx.pool);
    return;
  }
  const ConvWeights* packed = static_cast<const ConvWeights*>(ctx.state);
  std::shared_ptr<float> own_packed;
  bool direct = g.k_h == 1 && g.k_w == 1 && g.s_h == 1 && g.s_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                g.pad_bottom == 0 && g.pad_right == 0;
  std::shared_ptr<float> col = direct ? nullptr : alloc_floats(static_cast<size_t>(Kg * cols));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t gi = 0; gi < group; ++gi) {
      const float* xg = x + (n * C + gi * Cg) * g.in_h * g.in_w;
      float* yg = y + (n * M + gi * Mg) * cols;
      const float* a;
      if (packed) {
        a = packed->packed[gi].get();
      } else {
        own_packed = pack_a_new(W.ptr<float>() + gi * Mg * Kg, Kg, false, Mg, Kg, 1.0f);
        a = own_packed.get();
      }
      const float* b = xg;
      if (!direct) {
        im2col(xg, Cg, g, col.get(), ctx.pool);
        b = col.get();
      }
      if (bias)
        for (int64_t m = 0; m < Mg; ++m) std::fill(yg + m * cols, yg + (m + 1) * cols, bias[gi * Mg + m]);
      sgemm_packed(Mg, cols, Kg, a, b, cols, false, yg, cols, bias != nullptr, &ctx.pool, ctx.simd);
    }
  }
}

}  // namespace

void register_conv(std::vector<Kernel>& k) {
  k.push_back({"Conv", "", 1, kMaxOpset, {DType::f32}, 0, check_conv, nullptr, compute_conv, prepare_conv});
}

}  // namespace xinrt
