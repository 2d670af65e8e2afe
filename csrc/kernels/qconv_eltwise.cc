// Integer steps the QDQ fusion (core/plan_qdq_fusion.cc) makes of the non-convolution parts of a
// QDQ CNN, each with the arithmetic ONNX Runtime uses for the same group, in one pass over the
// quantized tensors:
//   xinrt QLinearAdd(a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero) [Relu]: with one
//     dtype and no Relu, ORT's QLinearAdd (MLAS's float ratios and FMAs, ort_add_params); with a
//     Relu or mixed dtypes (groups ORT leaves unfused) the float ops: y = saturate(
//     round_half_even(f / y_scale) + y_zero), f = (a - a_zero) * a_scale + (b - b_zero) * b_scale
//     (then max(f, 0) with the Relu).
//   xinrt QLinearAveragePool(x, x_scale, x_zero, y_scale, y_zero) with AveragePool's attributes:
//     ORT's QLinearAveragePool (float mean of the dequantized window, y = saturate(
//     round_half_even(mean / y_scale + y_zero))); a window over the whole image with no pads is
//     ORT's global path, as below.
//   xinrt QLinearGlobalAveragePool(x, x_scale, x_zero, y_scale, y_zero): ORT's integer sum and
//     one requantization, y = saturate(round_half_even(acc * (x_scale / (y_scale * size))) + y_zero).
//   xinrt QMaxPool(x) with MaxPool's attributes, for a DQ/Q pair of one scale and zero point:
//     the max of the integers (DQ is monotone and Q(DQ(v)) == v for |v - zero| <= 255).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu_features.h"
#include "core/registry.h"
#include "kernels/conv_geometry.h"
#include "kernels/elementwise.h"
#include "kernels/qgemm.h"

namespace xinrt {

Tensor int8_to_layout(const Tensor& t, bool to_nhwc, ThreadPool& pool);  // kernels/qconv.cc
// kernels/x86/qconv_add_avx2.cc: ORT's QLinearAdd over equal shapes (ort_add_params below).
void qlinear_add_u8_avx2(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, float ra, float rb, float fixed);
void qlinear_add_s8_avx2(const int8_t* a, const int8_t* b, int8_t* y, int64_t n, float ra, float rb, float fixed);

namespace {

bool is_int8(DType d) { return d == DType::u8 || d == DType::i8; }

int32_t value_at(const Tensor& t, int64_t i) {
  return t.dtype == DType::u8 ? static_cast<int32_t>(t.ptr<uint8_t>()[i]) : static_cast<int32_t>(t.ptr<int8_t>()[i]);
}

struct QScalar {
  float scale;
  int32_t zero;
};

QScalar qscalar(const Tensor* scale, const Tensor* zero, DType dtype, const char* what) {
  if (!scale || scale->dtype != DType::f32 || scale->numel() != 1 || !zero || zero->numel() != 1 ||
      zero->dtype != dtype)
    throw KernelError(std::string(what) + " needs one float32 scale and one " + dtype_name(dtype) + " zero point");
  return {*scale->ptr<float>(), value_at(*zero, 0)};
}

std::string check_qlinearadd(const NodeInfo& n) {
  if (n.input_dtypes.size() != 8) return "QLinearAdd: expected 8 inputs";
  for (size_t i : {0, 2, 3, 5, 7})
    if (n.input_dtypes[i] != DType::unknown && !is_int8(n.input_dtypes[i]))
      return "QLinearAdd: quantized inputs must be uint8 or int8";
  return "";
}

std::vector<DType> qlinearadd_dtypes(const NodeInfo& n) { return {n.input_dtypes[7]}; }

// saturate(round_half_even(f / y_scale) + y_zero). Clamping to the representable range first
// keeps |v| < 2^22, where adding and subtracting 1.5 * 2^23 rounds half to even (the default
// rounding mode) in a form the compiler vectorizes; clamping before rounding gives the same
// integer as saturating after it, since both bounds are integers.
template <class T>
T quantize_one(float f, float y_scale, int32_t y_zero) {
  constexpr float lo = std::is_signed<T>::value ? -128.0f : 0.0f, hi = std::is_signed<T>::value ? 127.0f : 255.0f;
  const float z = static_cast<float>(y_zero);
  float v = std::min(hi - z, std::max(lo - z, f / y_scale));
  v = (v + 12582912.0f) - 12582912.0f;
  return static_cast<T>(static_cast<int32_t>(v) + y_zero);
}

// The float path, Q(Relu(DQ(a) + DQ(b))), over equal shapes: what ORT computes where its QDQ
// transformer leaves the group unfused (a Relu the Q does not make redundant, mixed dtypes).
template <class A, class B, class Y>
void float_add_run(const A* __restrict a, const B* __restrict b, Y* __restrict y, int64_t n, float sa, int32_t za,
                   float sb, int32_t zb, float sy, int32_t zy, bool relu) {
  const float floor = relu ? 0.0f : -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    float f = static_cast<float>(static_cast<int32_t>(a[i]) - za) * sa +
              static_cast<float>(static_cast<int32_t>(b[i]) - zb) * sb;
    y[i] = quantize_one<Y>(std::max(f, floor), sy, zy);  // the fused Relu is a no-op at -inf
  }
}

// ORT's QLinearAdd (MLAS, x86): ra = a_scale / y_scale, rb = b_scale / y_scale and
// fixed = y_zero - fma(ra, a_zero, rb * b_zero), then y = saturate(round_half_even(
// fma(a, ra, fma(b, rb, fixed)))). Where a is one value over an innermost run of b (a
// broadcast), ORT swaps the operands: the same formula with a and b exchanged.
struct OrtAdd {
  float ra, rb, fixed;
};

OrtAdd ort_add_params(const QScalar& a, const QScalar& b, const QScalar& y) {
  OrtAdd p;
  p.ra = a.scale / y.scale;
  p.rb = b.scale / y.scale;
  p.fixed = static_cast<float>(y.zero) - std::fma(p.ra, static_cast<float>(a.zero), p.rb * static_cast<float>(b.zero));
  return p;
}

// saturate(round_half_even(v)) into T (see quantize_one).
template <class T>
T saturate_round(float v) {
  constexpr float lo = std::is_signed<T>::value ? -128.0f : 0.0f, hi = std::is_signed<T>::value ? 127.0f : 255.0f;
  v = std::min(hi, std::max(lo, v));
  return static_cast<T>(static_cast<int32_t>((v + 12582912.0f) - 12582912.0f));
}

template <class T>
T ort_add_one(float a, float b, const OrtAdd& p) {
  return saturate_round<T>(std::fma(a, p.ra, std::fma(b, p.rb, p.fixed)));
}

template <class T>
void ort_add_same_shape(const T* a, const T* b, T* y, int64_t n, const OrtAdd& p, ThreadPool& pool, int simd) {
  pool.parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
#if XINRT_HAVE_X86
    if (simd >= kSimdAvx2Fma) {
      if constexpr (std::is_same<T, uint8_t>::value)
        return qlinear_add_u8_avx2(a + i0, b + i0, y + i0, i1 - i0, p.ra, p.rb, p.fixed);
      else
        return qlinear_add_s8_avx2(a + i0, b + i0, y + i0, i1 - i0, p.ra, p.rb, p.fixed);
    }
#endif
    for (int64_t i = i0; i < i1; ++i)
      y[i] = ort_add_one<T>(static_cast<float>(a[i]), static_cast<float>(b[i]), p);
  });
}

// Broadcasting in ORT's order: runs along the output's last dim, a and b exchanged where a is
// one value over the run and b is not (`swapped`: the parameters with a and b exchanged).
template <class T>
void ort_add_broadcast(const T* a, const T* b, T* y, const Broadcast& bc, const OrtAdd& p, const OrtAdd& swapped) {
  const int64_t rank = static_cast<int64_t>(bc.out.size());
  const int64_t run = rank ? bc.out.back() : 1, sa = rank ? bc.strides[0].back() : 0, sb = rank ? bc.strides[1].back() : 0;
  const bool swap = sa == 0 && sb != 0;
  int64_t runs = 1;
  for (int64_t d = 0; d + 1 < rank; ++d) runs *= bc.out[d];
  for (int64_t r = 0; r < runs; ++r) {
    int64_t ia = 0, ib = 0, rest = r;
    for (int64_t d = rank - 2; d >= 0; --d) {
      int64_t k = rest % bc.out[d];
      rest /= bc.out[d];
      ia += k * bc.strides[0][d];
      ib += k * bc.strides[1][d];
    }
    T* yr = y + r * run;
    for (int64_t j = 0; j < run; ++j) {
      const float va = static_cast<float>(a[ia + j * sa]), vb = static_cast<float>(b[ib + j * sb]);
      yr[j] = swap ? ort_add_one<T>(vb, va, swapped) : ort_add_one<T>(va, vb, p);
    }
  }
}

template <class A, class B>
void float_add_same_shape(const A* a, const B* b, Tensor& Y, int64_t n, const QScalar& qa, const QScalar& qb,
                          const QScalar& qy, bool relu, ThreadPool& pool) {
  pool.parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
    if (Y.dtype == DType::u8)
      float_add_run(a + i0, b + i0, Y.ptr<uint8_t>() + i0, i1 - i0, qa.scale, qa.zero, qb.scale, qb.zero, qy.scale, qy.zero, relu);
    else
      float_add_run(a + i0, b + i0, Y.ptr<int8_t>() + i0, i1 - i0, qa.scale, qa.zero, qb.scale, qb.zero, qy.scale, qy.zero, relu);
  });
}

void compute_qlinearadd(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  // Operands stored in another layout than the output's are converted first (kNhwcAttr).
  const int64_t layout = ctx.node.attr_int(kNhwcAttr, 0);
  const bool out_nhwc = (layout & 2) != 0;
  Tensor a_conv, b_conv;
  if (((layout & 1) != 0) != out_nhwc) a_conv = int8_to_layout(*in[0], out_nhwc, ctx.pool);
  if (((layout & 4) != 0) != out_nhwc) b_conv = int8_to_layout(*in[3], out_nhwc, ctx.pool);
  const Tensor& A = a_conv.data ? a_conv : *in[0];
  const Tensor& B = b_conv.data ? b_conv : *in[3];
  if (!is_int8(A.dtype) || !is_int8(B.dtype)) throw KernelError("QLinearAdd: a and b must be uint8 or int8");
  QScalar a = qscalar(in[1], in[2], A.dtype, "QLinearAdd: a"), b = qscalar(in[4], in[5], B.dtype, "QLinearAdd: b");
  DType yd = in[7] ? in[7]->dtype : DType::none;
  if (!is_int8(yd)) throw KernelError("QLinearAdd: y_zero_point must be uint8 or int8");
  QScalar y = qscalar(in[6], in[7], yd, "QLinearAdd: y");
  const bool relu = ctx.node.has_attr(kFusedActivationAttr);
  if (out_nhwc && A.rank() != B.rank())
    throw KernelError("QLinearAdd: NHWC operands " + shape_str(A.shape) + " and " + shape_str(B.shape) +
                      " must have the same rank");
  if (!relu && A.dtype == B.dtype && B.dtype == yd) {  // the groups ORT fuses into its QLinearAdd
    const OrtAdd p = ort_add_params(a, b, y);
    if (A.shape == B.shape) {
      out[0] = Tensor::empty(yd, A.shape);
      if (yd == DType::u8)
        ort_add_same_shape(A.ptr<uint8_t>(), B.ptr<uint8_t>(), out[0].ptr<uint8_t>(), A.numel(), p, ctx.pool, ctx.simd);
      else
        ort_add_same_shape(A.ptr<int8_t>(), B.ptr<int8_t>(), out[0].ptr<int8_t>(), A.numel(), p, ctx.pool, ctx.simd);
      return;
    }
    const Broadcast bc = broadcast_many({A.shape, B.shape}, "QLinearAdd");
    const OrtAdd swapped = ort_add_params(b, a, y);
    out[0] = Tensor::empty(yd, bc.out);
    if (yd == DType::u8)
      ort_add_broadcast(A.ptr<uint8_t>(), B.ptr<uint8_t>(), out[0].ptr<uint8_t>(), bc, p, swapped);
    else
      ort_add_broadcast(A.ptr<int8_t>(), B.ptr<int8_t>(), out[0].ptr<int8_t>(), bc, p, swapped);
    return;
  }
  if (A.shape == B.shape) {
    out[0] = Tensor::empty(yd, A.shape);
    Tensor& Y = out[0];
    const int64_t n = A.numel();
    if (A.dtype == DType::u8 && B.dtype == DType::u8)
      float_add_same_shape(A.ptr<uint8_t>(), B.ptr<uint8_t>(), Y, n, a, b, y, relu, ctx.pool);
    else if (A.dtype == DType::u8)
      float_add_same_shape(A.ptr<uint8_t>(), B.ptr<int8_t>(), Y, n, a, b, y, relu, ctx.pool);
    else if (B.dtype == DType::u8)
      float_add_same_shape(A.ptr<int8_t>(), B.ptr<uint8_t>(), Y, n, a, b, y, relu, ctx.pool);
    else
      float_add_same_shape(A.ptr<int8_t>(), B.ptr<int8_t>(), Y, n, a, b, y, relu, ctx.pool);
    return;
  }
  // Broadcasting on the float path: the float operands, Add's own broadcast, then the same
  // quantization. With both operands NHWC (the plan's layout) the broadcast is the same.
  auto dq = [](const Tensor& t, int64_t i, const QScalar& q) {
    return static_cast<float>(value_at(t, i) - q.zero) * q.scale;
  };
  Tensor fa = Tensor::empty(DType::f32, A.shape), fb = Tensor::empty(DType::f32, B.shape), sum;
  for (int64_t i = 0; i < A.numel(); ++i) fa.ptr<float>()[i] = dq(A, i, a);
  for (int64_t i = 0; i < B.numel(); ++i) fb.ptr<float>()[i] = dq(B, i, b);
  binary_op("Add", fa, fb, sum, ctx.pool);
  out[0] = Tensor::empty(yd, sum.shape);
  for (int64_t i = 0; i < sum.numel(); ++i) {
    float f = relu ? std::max(sum.ptr<float>()[i], 0.0f) : sum.ptr<float>()[i];
    if (yd == DType::u8) out[0].ptr<uint8_t>()[i] = quantize_one<uint8_t>(f, y.scale, y.zero);
    else out[0].ptr<int8_t>()[i] = quantize_one<int8_t>(f, y.scale, y.zero);
  }
}

std::string check_qmaxpool(const NodeInfo& n) {
  if (n.num_outputs != 1) return "QMaxPool: the Indices output is not supported";
  if (n.input_dtypes.size() != 1) return "QMaxPool: expected 1 input";
  int64_t rank = n.input_rank(0);
  if (rank >= 0 && rank != 3 && rank != 4) return "QMaxPool: only 1-D and 2-D pooling";
  return "";
}

template <class T>
void maxpool(const T* x, T* y, int64_t planes, const WindowGeometry& g, ThreadPool& pool) {
  pool.parallel_for(planes, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * g.in_h * g.in_w;
      T* yp = y + p * g.out_h * g.out_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          // A window wholly in the padding is -inf in float: QuantizeLinear saturates it low.
          T m = std::numeric_limits<T>::lowest();
          for (int64_t ki = 0; ki < g.k_h; ++ki) {
            int64_t ih = oh * g.s_h - g.pad_top + ki * g.d_h;
            if (ih < 0 || ih >= g.in_h) continue;
            for (int64_t kj = 0; kj < g.k_w; ++kj) {
              int64_t iw = ow * g.s_w - g.pad_left + kj * g.d_w;
              if (iw >= 0 && iw < g.in_w) m = std::max(m, xp[ih * g.in_w + iw]);
            }
          }
          yp[oh * g.out_w + ow] = m;
        }
    }
  });
}

// NHWC: each tap is a contiguous run of C channels, so the max runs along channels.
template <class T>
void maxpool_nhwc(const T* x, T* y, int64_t images, int64_t C, const WindowGeometry& g, ThreadPool& pool) {
  pool.parallel_for(images * g.out_h, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = r / g.out_h, oh = r % g.out_h;
      const T* xn = x + n * g.in_h * g.in_w * C;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        T* yp = y + ((n * g.out_h + oh) * g.out_w + ow) * C;
        std::fill(yp, yp + C, std::numeric_limits<T>::lowest());
        for (int64_t ki = 0; ki < g.k_h; ++ki) {
          int64_t ih = oh * g.s_h - g.pad_top + ki * g.d_h;
          if (ih < 0 || ih >= g.in_h) continue;
          for (int64_t kj = 0; kj < g.k_w; ++kj) {
            int64_t iw = ow * g.s_w - g.pad_left + kj * g.d_w;
            if (iw < 0 || iw >= g.in_w) continue;
            const T* xp = xn + (ih * g.in_w + iw) * C;
            for (int64_t c = 0; c < C; ++c) yp[c] = std::max(yp[c], xp[c]);
          }
        }
      }
    }
  });
}

void compute_qmaxpool(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  if (!is_int8(in[0]->dtype)) throw KernelError("QMaxPool: x must be uint8 or int8");
  if (in[0]->rank() != 3 && in[0]->rank() != 4)
    throw KernelError("QMaxPool: input " + shape_str(in[0]->shape) + " must be rank 3 or 4");
  // Pools in the output's layout (kNhwcAttr), converting the input when it is stored otherwise.
  const int64_t layout = ctx.node.attr_int(kNhwcAttr, 0);
  const bool nhwc = (layout & 2) != 0;
  Tensor converted;
  if (((layout & 1) != 0) != nhwc) converted = int8_to_layout(*in[0], nhwc, ctx.pool);
  const Tensor& X = converted.data ? converted : *in[0];
  std::vector<int64_t> spatial(X.shape.begin() + (nhwc ? 1 : 2), X.shape.end() - (nhwc ? 1 : 0));
  std::vector<int64_t> kernel = ctx.node.attr_ints("kernel_shape");
  WindowGeometry g = window_geometry(ctx.node, spatial, kernel, true);
  const int64_t C = X.dim(nhwc ? -1 : 1);
  Shape out_shape{X.dim(0)};
  if (!nhwc) out_shape.push_back(C);
  if (g.spatial == 2) out_shape.push_back(g.out_h);
  out_shape.push_back(g.out_w);
  if (nhwc) out_shape.push_back(C);
  out[0] = Tensor::empty(X.dtype, out_shape);
  if (nhwc) {
    if (X.dtype == DType::u8) maxpool_nhwc(X.ptr<uint8_t>(), out[0].ptr<uint8_t>(), X.dim(0), C, g, ctx.pool);
    else maxpool_nhwc(X.ptr<int8_t>(), out[0].ptr<int8_t>(), X.dim(0), C, g, ctx.pool);
    return;
  }
  int64_t planes = X.dim(0) * C;
  if (X.dtype == DType::u8) maxpool(X.ptr<uint8_t>(), out[0].ptr<uint8_t>(), planes, g, ctx.pool);
  else maxpool(X.ptr<int8_t>(), out[0].ptr<int8_t>(), planes, g, ctx.pool);
}

std::string check_qgap(const NodeInfo& n) {
  if (n.input_dtypes.size() != 5) return "QLinearGlobalAveragePool: expected 5 inputs";
  for (size_t i : {0, 2, 4})
    if (n.input_dtypes[i] != DType::unknown && !is_int8(n.input_dtypes[i]))
      return "QLinearGlobalAveragePool: quantized inputs must be uint8 or int8";
  return "";
}

std::vector<DType> qgap_dtypes(const NodeInfo& n) { return {n.input_dtypes[4]}; }

// ORT's QLinearGlobalAveragePool: acc = sum(x) - x_zero * size (exact), then
// y = saturate(round_half_even(acc * (x_scale / (y_scale * size))) + y_zero).
template <class X, class Y>
void global_average(const X* x, Y* y, int64_t images, int64_t C, int64_t size, bool nhwc, float scale,
                    int32_t x_zero, int32_t y_zero, ThreadPool& pool) {
  constexpr int32_t lo = std::is_signed<Y>::value ? -128 : 0, hi = std::is_signed<Y>::value ? 127 : 255;
  pool.parallel_for(images, 1, [&](int64_t n0, int64_t n1) {
    std::vector<int32_t> acc(static_cast<size_t>(C));
    for (int64_t n = n0; n < n1; ++n) {
      const X* xn = x + n * C * size;
      std::fill(acc.begin(), acc.end(), -x_zero * static_cast<int32_t>(size));
      if (nhwc) {
        for (int64_t p = 0; p < size; ++p)
          for (int64_t c = 0; c < C; ++c) acc[c] += xn[p * C + c];
      } else {
        for (int64_t c = 0; c < C; ++c)
          for (int64_t p = 0; p < size; ++p) acc[c] += xn[c * size + p];
      }
      for (int64_t c = 0; c < C; ++c)
        y[n * C + c] = static_cast<Y>(std::min(hi, std::max(lo, round_half_even(static_cast<float>(acc[c]) * scale) + y_zero)));
    }
  });
}

void compute_qgap(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (!is_int8(X.dtype) || X.rank() < 3)
    throw KernelError("QLinearGlobalAveragePool: x must be uint8 or int8 of rank >= 3, got " +
                      std::string(dtype_name(X.dtype)) + " " + shape_str(X.shape));
  DType yd = in[4] ? in[4]->dtype : DType::none;
  if (!is_int8(yd)) throw KernelError("QLinearGlobalAveragePool: y_zero_point must be uint8 or int8");
  const QScalar xq = qscalar(in[1], in[2], X.dtype, "QLinearGlobalAveragePool: x"), yq = qscalar(in[3], in[4], yd, "QLinearGlobalAveragePool: y");
  const bool nhwc = (ctx.node.attr_int(kNhwcAttr, 0) & 1) != 0;
  const int64_t N = X.dim(0), C = X.dim(nhwc ? -1 : 1), size = X.numel() / std::max<int64_t>(1, N * C);
  Shape shape{N, C};
  for (int64_t i = 2; i < X.rank(); ++i) shape.push_back(1);
  out[0] = Tensor::empty(yd, shape);
  const float scale = xq.scale / (yq.scale * static_cast<float>(size));
  if (X.dtype == DType::u8 && yd == DType::u8)
    global_average(X.ptr<uint8_t>(), out[0].ptr<uint8_t>(), N, C, size, nhwc, scale, xq.zero, yq.zero, ctx.pool);
  else if (X.dtype == DType::u8)
    global_average(X.ptr<uint8_t>(), out[0].ptr<int8_t>(), N, C, size, nhwc, scale, xq.zero, yq.zero, ctx.pool);
  else if (yd == DType::u8)
    global_average(X.ptr<int8_t>(), out[0].ptr<uint8_t>(), N, C, size, nhwc, scale, xq.zero, yq.zero, ctx.pool);
  else
    global_average(X.ptr<int8_t>(), out[0].ptr<int8_t>(), N, C, size, nhwc, scale, xq.zero, yq.zero, ctx.pool);
}

std::string check_qavgpool(const NodeInfo& n) {
  if (n.input_dtypes.size() != 5) return "QLinearAveragePool: expected 5 inputs";
  for (size_t i : {0, 2, 4})
    if (n.input_dtypes[i] != DType::unknown && !is_int8(n.input_dtypes[i]))
      return "QLinearAveragePool: quantized inputs must be uint8 or int8";
  int64_t rank = n.input_rank(0);
  if (rank >= 0 && rank != 3 && rank != 4) return "QLinearAveragePool: only 1-D and 2-D pooling";
  for (int64_t d : n.attr_ints("dilations"))
    if (d != 1) return "QLinearAveragePool: dilations other than 1 are not supported";
  return "";
}

// ORT's QLinearAveragePool over NCHW planes: the window's dequantized values (a table, as ORT
// dequantizes) summed in order, divided by the count (the kernel size with count_include_pad,
// else the window's part inside the image), then saturate(round_half_even(mean / y_scale + y_zero)).
template <class T>
void average_pool(const T* x, T* y, int64_t planes, const WindowGeometry& g, bool include_pad, const QScalar& xq,
                  const QScalar& yq, ThreadPool& pool) {
  constexpr int32_t lo = std::is_signed<T>::value ? -128 : 0, hi = std::is_signed<T>::value ? 127 : 255;
  float table[256];
  for (int v = lo; v <= hi; ++v) table[v - lo] = xq.scale * static_cast<float>(v - xq.zero);
  const float y_zero = static_cast<float>(yq.zero);
  pool.parallel_for(planes, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * g.in_h * g.in_w;
      T* yp = y + p * g.out_h * g.out_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        int64_t h0 = oh * g.s_h - g.pad_top, h1 = std::min(h0 + g.k_h, g.in_h);
        h0 = std::max<int64_t>(h0, 0);
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          int64_t w0 = ow * g.s_w - g.pad_left, w1 = std::min(w0 + g.k_w, g.in_w);
          w0 = std::max<int64_t>(w0, 0);
          float sum = 0.0f;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) sum += table[static_cast<int32_t>(xp[h * g.in_w + w]) - lo];
          const int64_t count = include_pad ? g.k_h * g.k_w : (h1 - h0) * (w1 - w0);
          const float mean = sum / static_cast<float>(count);
          yp[oh * g.out_w + ow] = saturate_round<T>(mean / yq.scale + y_zero);
        }
      }
    }
  });
}

void compute_qavgpool(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (!is_int8(X.dtype) || (X.rank() != 3 && X.rank() != 4))
    throw KernelError("QLinearAveragePool: x must be uint8 or int8 of rank 3 or 4, got " +
                      std::string(dtype_name(X.dtype)) + " " + shape_str(X.shape));
  DType yd = in[4] ? in[4]->dtype : DType::none;
  if (yd != X.dtype) throw KernelError("QLinearAveragePool: y_zero_point must have x's dtype");
  const QScalar xq = qscalar(in[1], in[2], X.dtype, "QLinearAveragePool: x");
  const QScalar yq = qscalar(in[3], in[4], yd, "QLinearAveragePool: y");
  std::vector<int64_t> spatial(X.shape.begin() + 2, X.shape.end());
  std::vector<int64_t> kernel = ctx.node.attr_ints("kernel_shape");
  WindowGeometry g = window_geometry(ctx.node, spatial, kernel, true);
  const int64_t N = X.dim(0), C = X.dim(1);
  Shape out_shape{N, C};
  if (g.spatial == 2) out_shape.push_back(g.out_h);
  out_shape.push_back(g.out_w);
  out[0] = Tensor::empty(yd, out_shape);
  // A window over the whole image with no pads: ORT takes its global average path.
  if (kernel == spatial && g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0) {
    const int64_t size = g.in_h * g.in_w;
    const float scale = xq.scale / (yq.scale * static_cast<float>(size));
    if (yd == DType::u8)
      global_average(X.ptr<uint8_t>(), out[0].ptr<uint8_t>(), N, C, size, false, scale, xq.zero, yq.zero, ctx.pool);
    else
      global_average(X.ptr<int8_t>(), out[0].ptr<int8_t>(), N, C, size, false, scale, xq.zero, yq.zero, ctx.pool);
    return;
  }
  const bool include_pad = ctx.node.attr_int("count_include_pad", 0) != 0;
  if (yd == DType::u8) average_pool(X.ptr<uint8_t>(), out[0].ptr<uint8_t>(), N * C, g, include_pad, xq, yq, ctx.pool);
  else average_pool(X.ptr<int8_t>(), out[0].ptr<int8_t>(), N * C, g, include_pad, xq, yq, ctx.pool);
}

}  // namespace

void register_qconv_eltwise(std::vector<Kernel>& k) {
  k.push_back(Kernel("QLinearGlobalAveragePool", "xinrt").opsets(1, 1).types({DType::u8, DType::i8})
              .check(check_qgap).outputs(qgap_dtypes).compute(compute_qgap));
  k.push_back(Kernel("QLinearAdd", "xinrt").opsets(1, 1).types({DType::u8, DType::i8})
              .check(check_qlinearadd).outputs(qlinearadd_dtypes).compute(compute_qlinearadd));
  k.push_back(Kernel("QLinearAveragePool", "xinrt").opsets(1, 1).types({DType::u8, DType::i8})
              .check(check_qavgpool).outputs(qgap_dtypes).compute(compute_qavgpool));
  k.push_back(Kernel("QMaxPool", "xinrt").opsets(1, 1).types({DType::u8, DType::i8}).check(check_qmaxpool)
              .compute(compute_qmaxpool));
}

}  // namespace xinrt
