// ConvTranspose, 2-D (NCHW), float32: per image and group a GEMM of the transposed weights
// with the input gives every (output channel, tap) row, then col2im adds the taps into place.
// strides, pads, dilations, output_padding, group and bias; output_shape and SAME_* declined.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/registry.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

struct Geometry {
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oph, opw;
};

Geometry geometry_of(const NodeInfo& n, int64_t kh, int64_t kw) {
  std::vector<int64_t> s = n.attr_ints("strides", {1, 1}), d = n.attr_ints("dilations", {1, 1}),
                       p = n.attr_ints("pads", {0, 0, 0, 0}), op = n.attr_ints("output_padding", {0, 0});
  if (s.size() != 2 || d.size() != 2 || p.size() != 4 || op.size() != 2)
    throw KernelError("ConvTranspose: strides/dilations/output_padding need 2 values and pads 4");
  for (int i = 0; i < 2; ++i) {
    if (s[i] < 1 || d[i] < 1 || p[i] < 0 || p[i + 2] < 0 || op[i] < 0)
      throw KernelError("ConvTranspose: strides and dilations must be >= 1, pads and output_padding >= 0");
    // ONNX Runtime refuses output_padding >= stride (with any dilation): the output would hold
    // rows no input position reaches.
    if (op[i] >= s[i])
      throw ModelError("ConvTranspose: output_padding " + std::to_string(op[i]) +
                       " must be smaller than the stride " + std::to_string(s[i]));
  }
  return {kh, kw, s[0], s[1], d[0], d[1], p[0], p[1], p[2], p[3], op[0], op[1]};
}

std::string check_conv_transpose(const NodeInfo& n) {
  for (size_t i = 1; i < n.input_dtypes.size(); ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  if (n.input_rank(0) >= 0 && n.input_rank(0) != 4) return "ConvTranspose: only 2-D (4-D NCHW input) supported";
  if (n.input_rank(1) >= 0 && n.input_rank(1) != 4) return "ConvTranspose: only 2-D weights supported";
  if (n.has_attr("output_shape")) return "ConvTranspose: output_shape attribute not supported";
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "VALID") return "ConvTranspose: auto_pad " + ap + " not supported";
  if (n.attr_ints("strides", {1, 1}).size() != 2 || n.attr_ints("dilations", {1, 1}).size() != 2 ||
      n.attr_ints("pads", {0, 0, 0, 0}).size() != 4 || n.attr_ints("output_padding", {0, 0}).size() != 2)
    return "ConvTranspose: only 2-D strides/dilations/pads/output_padding supported";
  return "";
}

void compute_conv_transpose(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& W = *in[1];
  const Tensor* B = in.size() > 2 ? in[2] : nullptr;
  if (X.dtype != DType::f32 || W.dtype != DType::f32 || X.rank() != 4 || W.rank() != 4)
    throw KernelError("ConvTranspose: float32 4-D input and weights expected");
  int64_t group = ctx.node.attr_int("group", 1);
  int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), Wd = X.dim(3);
  if (group < 1 || C % group || W.dim(0) != C)
    throw KernelError("ConvTranspose: weights " + shape_str(W.shape) + " do not match input " + shape_str(X.shape));
  int64_t Mg = W.dim(1), M = Mg * group, Cg = C / group;
  std::vector<int64_t> ks = ctx.node.attr_ints("kernel_shape", {W.dim(2), W.dim(3)});
  if (ks.size() != 2 || ks[0] != W.dim(2) || ks[1] != W.dim(3))
    throw KernelError("ConvTranspose: kernel_shape differs from the weights");
  Geometry g = geometry_of(ctx.node, W.dim(2), W.dim(3));
  auto out_size = [](int64_t s, int64_t in, int64_t op, int64_t k, int64_t d, int64_t p0, int64_t p1) {
    const char* what = "ConvTranspose: output size";
    int64_t full = checked_add(checked_add(checked_mul(s, in - 1, what), op, what),
                               checked_add(checked_mul(k - 1, d, what), 1, what), what);
    return full - p0 - p1;  // pads >= 0 and full >= 0: no overflow
  };
  int64_t OH = out_size(g.sh, H, g.oph, g.kh, g.dh, g.pt, g.pb);
  int64_t OW = out_size(g.sw, Wd, g.opw, g.kw, g.dw, g.pl, g.pr);
  if (OH < 0 || OW < 0) throw KernelError("ConvTranspose: negative output size");
  if (B && B->numel() != M) throw KernelError("ConvTranspose: bias must hold " + std::to_string(M) + " values");
  out[0] = Tensor::empty(DType::f32, {N, M, OH, OW});
  float* y = out[0].ptr<float>();
  int64_t HW = H * Wd, taps = g.kh * g.kw, rows = Mg * taps;
  for (int64_t m = 0; m < N * M; ++m) {
    float bias = B ? B->ptr<float>()[m % M] : 0.0f;
    std::fill(y + m * OH * OW, y + (m + 1) * OH * OW, bias);
  }
  if (HW == 0 || C == 0) return;
  std::vector<float> col(static_cast<size_t>(rows * HW));
  for (int64_t gi = 0; gi < group; ++gi) {
    auto packed = pack_a_new(W.ptr<float>() + gi * Cg * rows, rows, true, rows, Cg, 1.0f, ctx.simd);
    for (int64_t n = 0; n < N; ++n) {
      const float* xg = X.ptr<float>() + (n * C + gi * Cg) * HW;
      sgemm_packed(rows, HW, Cg, packed.get(), xg, HW, false, col.data(), HW, false, &ctx.pool, ctx.simd);
      float* yg = y + (n * M + gi * Mg) * OH * OW;
      ctx.pool.parallel_for(Mg, 1, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m) {
          float* ym = yg + m * OH * OW;
          for (int64_t t = 0; t < taps; ++t) {
            int64_t ky = t / g.kw, kx = t % g.kw;
            const float* c = col.data() + (m * taps + t) * HW;
            for (int64_t iy = 0; iy < H; ++iy) {
              int64_t oy = iy * g.sh - g.pt + ky * g.dh;
              if (oy < 0 || oy >= OH) continue;
              for (int64_t ix = 0; ix < Wd; ++ix) {
                int64_t ox = ix * g.sw - g.pl + kx * g.dw;
                if (ox >= 0 && ox < OW) ym[oy * OW + ox] += c[iy * Wd + ix];
              }
            }
          }
        }
      });
    }
  }
}

}  // namespace

void register_conv_transpose(std::vector<Kernel>& k) {
  k.push_back(Kernel("ConvTranspose").opsets(1, kMaxOpset).types({DType::f32}).check(check_conv_transpose)
              .compute(compute_conv_transpose));
}

}  // namespace xinrt
