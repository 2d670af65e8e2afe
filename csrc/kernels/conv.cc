// Conv (1-D and 2-D, NCHW): im2col (skipped for 1x1 stride-1 unpadded) + packed SGEMM with the
// bias fused as the GEMM's initial value; depthwise convolutions use a direct loop. At precision
// bf16 (kBf16Attr) the GEMMs of constant-weight convolutions run in bf16 with fp32 sums
// (kernels/sbgemm.h); depthwise convolutions stay fp32. fp32 3x3 stride-1 convolutions with
// enough channels run as Winograd F(2x2, 3x3) (kernels/conv_winograd.h).
#include <algorithm>
#include <cstring>

#include "core/simd_level.h"
#include "core/registry.h"
#include "kernels/conv_geometry.h"
#include "kernels/conv_winograd.h"
#include "kernels/elementwise.h"
#include "kernels/sbgemm.h"
#include "kernels/sgemm.h"

namespace xinrt {

void depthwise_row_avx512(const float* x, int64_t wp, const float* w, int64_t k_h, int64_t k_w, int64_t s_w,
                          int64_t d_h, int64_t d_w, float bias, bool relu, float* y,
                          int64_t out_w);  // kernels/x86/depthwise_avx512.cc
void depthwise_row_neon(const float* x, int64_t wp, const float* w, int64_t k_h, int64_t k_w, int64_t s_w,
                        int64_t d_h, int64_t d_w, float bias, bool relu, float* y,
                        int64_t out_w);  // kernels/arm/depthwise_neon.cc

namespace {

// Weights pre-packed per group at plan time: fp32 or (bf16 precision) bf16 GEMM operands, or
// (fp32 3x3 stride 1, one group, enough channels) Winograd's transformed weights instead.
struct ConvWeights {
  std::vector<std::shared_ptr<float>> packed;
  std::vector<std::shared_ptr<uint32_t>> packed_bf16;
  std::shared_ptr<WinogradWeights> winograd;
};

// Whether a Conv node's constant weights qualify for Winograd: fp32, 2-D, 3x3, stride 1,
// dilation 1, one group, channel counts where it pays (winograd_pays), and not a QDQ model's
// float Conv (kDequantizedWeightsAttr).
bool winograd_node(const NodeInfo& n, const Tensor& W, int64_t group) {
  if (n.has_attr(kDequantizedWeightsAttr)) return false;  // must round as ORT's SGEMM
  if (group != 1 || W.rank() != 4 || W.dim(2) != 3 || W.dim(3) != 3) return false;
  for (const char* a : {"strides", "dilations"})
    for (int64_t v : n.attr_ints(a, {1, 1}))
      if (v != 1) return false;
  return winograd_pays(W.dim(1), W.dim(0));
}

// The packed weights of one group for the GEMM a convolution runs: fp32 (sgemm.h) or bf16 pairs
// (sbgemm.h), exactly one of them set.
struct ConvGemmWeights {
  const float* fp32 = nullptr;
  const uint32_t* bf16 = nullptr;
};

std::string check_conv(const NodeInfo& n) {
  for (size_t i = 1; i < n.input_dtypes.size(); ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  if (!n.has_input(1)) return "Conv: weight input missing";
  if (n.input_dtypes.size() > 3) return "Conv: more than 3 inputs";
  int64_t rank = n.input_rank(0) >= 0 ? n.input_rank(0) : n.input_rank(1);
  if (rank >= 0 && rank != 3 && rank != 4) return "Conv: only 1-D and 2-D convolutions (rank 3 or 4 inputs)";
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER")
    return "Conv: unknown auto_pad " + ap;
  if (n.attr_int("group", 1) < 1) return "Conv: group must be >= 1";
  return "";
}

std::shared_ptr<void> prepare_conv(const NodeInfo& n, int simd) {
  const Tensor* W = n.input_constants.size() > 1 ? n.input_constants[1] : nullptr;
  int64_t group = n.attr_int("group", 1);
  if (!W || W->dtype != DType::f32 || W->rank() < 3 || W->dim(0) % group != 0) return nullptr;
  int64_t Mg = W->dim(0) / group, Kg = W->numel() / W->dim(0);
  if (W->dim(1) == 1 && group > 1) return nullptr;  // depthwise: direct kernel, nothing to pack
  auto state = std::make_shared<ConvWeights>();
  const bool bf16 = n.has_attr(kBf16Attr) && simd >= kSimdAvx512Bf16;
  if (!bf16 && winograd_node(n, *W, group)) {  // every input size runs Winograd: no GEMM packing
    state->winograd = winograd_prepare(W->ptr<float>(), W->dim(0), W->dim(1), simd);
    return state;
  }
  for (int64_t g = 0; g < group; ++g) {
    const float* wg = W->ptr<float>() + g * Mg * Kg;
    if (bf16) state->packed_bf16.push_back(pack_a_bf16(wg, Kg, Mg, Kg));
    else state->packed.push_back(pack_a_new(wg, Kg, false, Mg, Kg, 1.0f, simd));
  }
  return state;
}

// Rows (c, kh, kw) x columns (oh, ow) of one image's group of channels. With a column stride
// s_w > 1 each input row is first split into its s_w column phases (x[.., ph::s_w]), so every
// tap is a contiguous run of one phase row and copies with memcpy instead of a strided gather.
void im2col(const float* x, int64_t channels, const WindowGeometry& g, float* col, ThreadPool& pool) {
  const int64_t rows = channels * g.k_h * g.k_w, cols = g.out_h * g.out_w;
  const int64_t s_w = g.s_w, wq = (g.in_w + s_w - 1) / s_w;  // phase row length
  std::shared_ptr<float> phases;
  const float* src_rows = x;  // row ih of channel c, phase ph starts at ((c * in_h + ih) * s_w + ph) * wq
  if (s_w > 1) {
    const char* what = "Conv: im2col column phases";  // s_w <= in_w + pads, which may be ~2**62
    phases = alloc_floats(static_cast<size_t>(checked_mul(checked_mul(channels * g.in_h, s_w, what), wq, what)));
    float* ph_out = phases.get();
    pool.parallel_for(channels * g.in_h, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* src = x + r * g.in_w;
        float* dst = ph_out + r * s_w * wq;
        for (int64_t ph = 0; ph < s_w; ++ph)
          for (int64_t j = 0; ph + j * s_w < g.in_w; ++j) dst[ph * wq + j] = src[ph + j * s_w];
      }
    });
    src_rows = ph_out;
  }
  pool.parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t c = r / (g.k_h * g.k_w), ki = (r / g.k_w) % g.k_h, kj = r % g.k_w;
      float* d = col + r * cols;
      int64_t iw0 = kj * g.d_w - g.pad_left;  // valid ow: 0 <= iw0 + ow * s_w < in_w
      int64_t lo = iw0 >= 0 ? 0 : (-iw0 + s_w - 1) / s_w;
      int64_t hi = g.in_w - iw0 <= 0 ? 0 : (g.in_w - iw0 + s_w - 1) / s_w;
      lo = std::min(lo, g.out_w);
      hi = std::max(lo, std::min(hi, g.out_w));
      // iw = (ow + j0) * s_w + ph: output column ow reads element ow + j0 of phase row ph.
      int64_t ph = ((iw0 % s_w) + s_w) % s_w, j0 = (iw0 - ph) / s_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh, d += g.out_w) {
        int64_t ih = oh * g.s_h - g.pad_top + ki * g.d_h;
        if (ih < 0 || ih >= g.in_h) {
          std::fill(d, d + g.out_w, 0.0f);
          continue;
        }
        const float* src = src_rows + ((c * g.in_h + ih) * s_w + ph) * wq + j0;
        std::fill(d, d + lo, 0.0f);
        std::memcpy(d + lo, src + lo, sizeof(float) * (hi - lo));
        std::fill(d + hi, d + g.out_w, 0.0f);
      }
    }
  });
}

// One output plane per task. The input plane is copied once into a zero-padded scratch plane,
// so no tap needs a bounds check. AVX-512 and NEON compute each output row directly (all taps
// of 16 / 8 outputs in registers, any stride); otherwise at stride 1 each tap is one long multiply-add
// over the output computed at the padded width (extra columns dropped when copying out).
void depthwise(const float* x, const float* w, const float* bias, float* y, int64_t batch, int64_t channels,
               int64_t multiplier, const WindowGeometry& g, bool relu, ThreadPool& pool, int simd) {
  auto axpy = [simd](float* y, const float* x, float a, int64_t n) { axpy_f32(y, x, a, n, simd); };
  const int64_t M = channels * multiplier;
  const int64_t hp = std::max(g.in_h + g.pad_top + g.pad_bottom, (g.out_h - 1) * g.s_h + (g.k_h - 1) * g.d_h + 1);
  const int64_t wp = std::max(g.in_w + g.pad_left + g.pad_right, (g.out_w - 1) * g.s_w + (g.k_w - 1) * g.d_w + 1);
  pool.parallel_for(batch * M, 1, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> padded, acc;
    padded.assign(static_cast<size_t>(hp * wp), 0.0f);
    acc.resize(static_cast<size_t>(g.out_h * wp));
    int64_t last_plane = -1;
    for (int64_t p = p0; p < p1; ++p) {
      int64_t n = p / M, m = p % M, c = m / multiplier, plane = n * channels + c;
      if (plane != last_plane) {  // multiplier > 1: consecutive outputs share an input plane
        const float* xc = x + plane * g.in_h * g.in_w;
        for (int64_t ih = 0; ih < g.in_h; ++ih)
          std::memcpy(&padded[(ih + g.pad_top) * wp + g.pad_left], xc + ih * g.in_w, sizeof(float) * g.in_w);
        last_plane = plane;
      }
      const float* wm = w + m * g.k_h * g.k_w;
      float* ym = y + p * g.out_h * g.out_w;
      float b = bias ? bias[m] : 0.0f;
#if XINRT_HAVE_X86
      if (simd >= kSimdAvx512) {
        for (int64_t oh = 0; oh < g.out_h; ++oh)
          depthwise_row_avx512(padded.data() + oh * g.s_h * wp, wp, wm, g.k_h, g.k_w, g.s_w, g.d_h, g.d_w, b, relu,
                               ym + oh * g.out_w, g.out_w);
        continue;
      }
#endif
#if XINRT_HAVE_NEON
      if (simd >= kSimdNeon) {
        for (int64_t oh = 0; oh < g.out_h; ++oh)
          depthwise_row_neon(padded.data() + oh * g.s_h * wp, wp, wm, g.k_h, g.k_w, g.s_w, g.d_h, g.d_w, b, relu,
                             ym + oh * g.out_w, g.out_w);
        continue;
      }
#endif
      if (g.s_h == 1 && g.s_w == 1) {
        int64_t len = (g.out_h - 1) * wp + g.out_w;
        float* a = acc.data();
        std::fill(a, a + len, 0.0f);
        for (int64_t ki = 0; ki < g.k_h; ++ki)
          for (int64_t kj = 0; kj < g.k_w; ++kj) {
            float wv = wm[ki * g.k_w + kj];
            const float* src = padded.data() + ki * g.d_h * wp + kj * g.d_w;
            axpy(a, src, wv, len);
          }
        for (int64_t oh = 0; oh < g.out_h; ++oh)
          for (int64_t ow = 0; ow < g.out_w; ++ow) ym[oh * g.out_w + ow] = a[oh * wp + ow] + b;
        if (relu)
          for (int64_t i = 0; i < g.out_h * g.out_w; ++i) ym[i] = ym[i] < 0.0f ? 0.0f : ym[i];
        continue;
      }
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        float* yr = ym + oh * g.out_w;
        std::fill(yr, yr + g.out_w, 0.0f);
        for (int64_t ki = 0; ki < g.k_h; ++ki)
          for (int64_t kj = 0; kj < g.k_w; ++kj) {
            float wv = wm[ki * g.k_w + kj];
            const float* src = padded.data() + (oh * g.s_h + ki * g.d_h) * wp + kj * g.d_w;
            for (int64_t ow = 0; ow < g.out_w; ++ow) yr[ow] += src[ow * g.s_w] * wv;
          }
        for (int64_t ow = 0; ow < g.out_w; ++ow) yr[ow] += b;
        if (relu)
          for (int64_t ow = 0; ow < g.out_w; ++ow) yr[ow] = yr[ow] < 0.0f ? 0.0f : yr[ow];
      }
    }
  });
}

void relu_inplace(float* y, int64_t n, ThreadPool& pool) {
  pool.parallel_for(n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = y[i] < 0.0f ? 0.0f : y[i];
  });
}

void conv_gemm(const KernelContext& ctx, const Tensor& X, const Tensor& W, const float* bias,
               const float* residual, const WindowGeometry& g, int64_t group, bool relu, float* y);

void compute_conv(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& W = *in[1];
  const Tensor* B = in.size() > 2 ? in[2] : nullptr;
  // A 4th input is the other operand of an Add the plan fused into this Conv.
  const Tensor* R = in.size() > 3 ? in[3] : nullptr;
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
  int64_t Mg = M / group;
  bool relu = ctx.node.has_attr(kFusedActivationAttr);  // a Relu the plan fused into this Conv
  bool residual_in_gemm = R && R->dtype == DType::f32 && R->shape == out_shape && !(Cg == 1 && group > 1);
  if (R && !residual_in_gemm) {  // broadcasting residual or depthwise: plain Conv, then Add
    if (Cg == 1 && group > 1) depthwise(x, W.ptr<float>(), bias, y, N, C, Mg, g, false, ctx.pool, ctx.simd);
    else conv_gemm(ctx, X, W, bias, nullptr, g, group, false, y);
    Tensor sum;
    binary_op("Add", out[0], *R, sum, ctx.pool, ctx.simd);
    out[0] = std::move(sum);
    if (relu) relu_inplace(out[0].ptr<float>(), out[0].numel(), ctx.pool);
    return;
  }
  if (Cg == 1 && group > 1) {
    depthwise(x, W.ptr<float>(), bias, y, N, C, Mg, g, relu, ctx.pool, ctx.simd);
    return;
  }
  conv_gemm(ctx, X, W, bias, R ? R->ptr<float>() : nullptr, g, group, relu, y);
}

// A stride-1 convolution as one GEMM over a zero-padded copy of the input: output (oh, ow) is
// computed at column oh * wp + ow of a padded-width result, so tap (c, ki, kj) is the contiguous
// run starting at c * hp * wp + ki * d_h * wp + kj * d_w. The wp - out_w extra columns per row
// are dropped while bias, residual and Relu are applied on the way out. In bf16 the GEMM reads
// each tap straight from the unpadded input (out_h runs of out_w, clipped to the plane) and
// writes the output itself: no padded copy, no wide result.
void conv_shifted_rows(const KernelContext& ctx, const float* x, int64_t channels, const WindowGeometry& g,
                       ConvGemmWeights w, int64_t M, const GemmEpilogue& ep, float* y) {
  if (w.bf16) {  // the bf16 GEMM reads the taps from the unpadded input itself, padding as zeros
    const int64_t K = channels * g.k_h * g.k_w;
    std::vector<int64_t> offsets(static_cast<size_t>(K));
    std::vector<int32_t> dy(static_cast<size_t>(K)), dx(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
      int64_t c = k / (g.k_h * g.k_w), ki = (k / g.k_w) % g.k_h, kj = k % g.k_w;
      offsets[k] = c * g.in_h * g.in_w;
      dy[k] = static_cast<int32_t>(ki * g.d_h - g.pad_top);
      dx[k] = static_cast<int32_t>(kj * g.d_w - g.pad_left);
    }
    const int64_t cols = g.out_h * g.out_w;
    sbgemm_conv_rows(M, cols, K, w.bf16, x, offsets.data(), dy.data(), dx.data(), g.out_w, g.in_h, g.in_w, y, cols,
                     &ctx.pool, ctx.simd, &ep);
    return;
  }
  const int64_t hp = g.in_h + g.pad_top + g.pad_bottom, wp = g.in_w + g.pad_left + g.pad_right;
  const int64_t plane = hp * wp, n_wide = g.out_h * wp, K = channels * g.k_h * g.k_w;
  // The last tap of the last channel reads up to wp - out_w - 1 floats past the planes.
  std::shared_ptr<float> padded = alloc_floats(static_cast<size_t>(channels * plane + wp));
  float* xp = padded.get();
  ctx.pool.parallel_for(channels, 4, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* dst = xp + c * plane;
      std::fill(dst, dst + g.pad_top * wp, 0.0f);
      for (int64_t ih = 0; ih < g.in_h; ++ih) {
        float* row = dst + (ih + g.pad_top) * wp;
        std::fill(row, row + g.pad_left, 0.0f);
        std::memcpy(row + g.pad_left, x + (c * g.in_h + ih) * g.in_w, sizeof(float) * g.in_w);
        std::fill(row + g.pad_left + g.in_w, row + wp, 0.0f);
      }
      std::fill(dst + (g.pad_top + g.in_h) * wp, dst + plane, 0.0f);
    }
  });
  std::fill(xp + channels * plane, xp + channels * plane + wp, 0.0f);
  std::vector<int64_t> offsets(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    int64_t c = k / (g.k_h * g.k_w), ki = (k / g.k_w) % g.k_h, kj = k % g.k_w;
    offsets[k] = c * plane + ki * g.d_h * wp + kj * g.d_w;
  }
  const int64_t cols = g.out_h * g.out_w;
  std::shared_ptr<float> wide = alloc_floats(static_cast<size_t>(M * n_wide));
  sgemm_packed_rows(M, n_wide, K, w.fp32, xp, offsets.data(), wide.get(), n_wide, &ctx.pool, ctx.simd);
  ctx.pool.parallel_for(M, 1, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      float b = ep.bias ? ep.bias[m] : 0.0f;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        const float* src = wide.get() + m * n_wide + oh * wp;
        float* dst = y + m * cols + oh * g.out_w;
        const float* res = ep.residual ? ep.residual + m * cols + oh * g.out_w : nullptr;
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          float v = res ? (res[ow] + b) + src[ow] : b + src[ow];
          dst[ow] = ep.relu && v < 0.0f ? 0.0f : v;
        }
      }
    }
  });
}

// C = W * B for one image's group, B(k, n) = b[k * ldb + n] (the input planes of a 1x1
// convolution, or im2col's matrix), in fp32 or bf16 as the weights were packed.
void conv_matrix_gemm(ConvGemmWeights w, int64_t M, int64_t N, int64_t K, const float* b, float* c,
                      ThreadPool* pool, int simd, const GemmEpilogue& ep) {
  if (!w.bf16) {
    sgemm_packed(M, N, K, w.fp32, b, N, false, c, N, false, pool, simd, &ep);
    return;
  }
  std::vector<int64_t> offsets(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) offsets[k] = k * N;
  sbgemm_rows(M, N, K, w.bf16, b, offsets.data(), c, N, pool, simd, &ep);
}

// GEMM convolution of every image and group; C starts from bias (+ residual) when given.
void conv_gemm(const KernelContext& ctx, const Tensor& X, const Tensor& W, const float* bias,
               const float* residual, const WindowGeometry& g, int64_t group, bool relu, float* y) {
  const float* x = X.ptr<float>();
  int64_t N = X.dim(0), C = X.dim(1), M = W.dim(0), Cg = W.dim(1);
  int64_t Mg = M / group, Kg = Cg * g.k_h * g.k_w, cols = g.out_h * g.out_w;
  const ConvWeights* packed = static_cast<const ConvWeights*>(ctx.state);
  if (packed && packed->winograd) {  // prepare_conv checked kernel, strides, dilations and group
    conv_winograd(*packed->winograd, x, N, g, bias, residual, relu, y, ctx.pool, ctx.simd);
    return;
  }
  auto weights = [packed](int64_t gi) {
    ConvGemmWeights w;
    if (!packed->packed_bf16.empty()) w.bf16 = packed->packed_bf16[gi].get();
    else w.fp32 = packed->packed[gi].get();
    return w;
  };
  std::shared_ptr<float> own_packed;
  bool direct = g.k_h == 1 && g.k_w == 1 && g.s_h == 1 && g.s_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                g.pad_bottom == 0 && g.pad_right == 0;
  // Stride-1 convolutions read their taps as shifted rows of a padded copy (no im2col matrix).
  bool shifted = !direct && g.s_h == 1 && g.s_w == 1;
  if (direct && packed && group >= ctx.pool.num_threads() && group > 1) {
    // Grouped 1x1 (ShuffleNet): each group's GEMM is small, so whole groups go to threads
    // instead of splitting every small GEMM over all threads one group after another.
    ctx.pool.parallel_for(N * group, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        int64_t n = t / group, gi = t % group;
        GemmEpilogue ep;
        ep.bias = bias ? bias + gi * Mg : nullptr;
        ep.residual = residual ? residual + (n * M + gi * Mg) * cols : nullptr;
        ep.relu = relu;
        conv_matrix_gemm(weights(gi), Mg, cols, Kg, x + (n * C + gi * Cg) * cols, y + (n * M + gi * Mg) * cols,
                         nullptr, ctx.simd, ep);
      }
    });
    return;
  }
  std::shared_ptr<float> col = direct || shifted ? nullptr : alloc_floats(static_cast<size_t>(Kg * cols));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t gi = 0; gi < group; ++gi) {
      const float* xg = x + (n * C + gi * Cg) * g.in_h * g.in_w;
      float* yg = y + (n * M + gi * Mg) * cols;
      ConvGemmWeights w;
      if (packed) {
        w = weights(gi);
      } else {
        own_packed = pack_a_new(W.ptr<float>() + gi * Mg * Kg, Kg, false, Mg, Kg, 1.0f, ctx.simd);
        w.fp32 = own_packed.get();
      }
      GemmEpilogue ep;
      ep.bias = bias ? bias + gi * Mg : nullptr;
      ep.residual = residual ? residual + (n * M + gi * Mg) * cols : nullptr;
      ep.relu = relu;
      if (shifted) {
        conv_shifted_rows(ctx, xg, Cg, g, w, Mg, ep, yg);
        continue;
      }
      const float* b = xg;
      if (!direct) {
        im2col(xg, Cg, g, col.get(), ctx.pool);
        b = col.get();
      }
      conv_matrix_gemm(w, Mg, cols, Kg, b, yg, &ctx.pool, ctx.simd, ep);
    }
  }
}

}  // namespace

void register_conv(std::vector<Kernel>& k) {
  k.push_back(Kernel("Conv").opsets(1, kMaxOpset).types({DType::f32}).check(check_conv)
              .compute(compute_conv).prepare(prepare_conv));
}

}  // namespace xinrt
