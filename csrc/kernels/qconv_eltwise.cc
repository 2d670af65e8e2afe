// Integer steps the QDQ fusion (core/plan_qdq_fusion.cc) makes of the non-convolution parts of a
// QDQ CNN; both compute exactly what the unfused DequantizeLinear -> op -> QuantizeLinear chain
// computes, in one pass over the quantized tensors.
//   xinrt QLinearAdd(a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero) [Relu]:
//     y = saturate(round_half_even(f / y_scale) + y_zero), f = (a - a_zero) * a_scale +
//     (b - b_zero) * b_scale in float (then max(f, 0) with the Relu), the unfused float ops.
//   xinrt QLinearGlobalAveragePool(x, x_scale, x_zero, y_scale, y_zero): ORT's integer sum and
//     one requantization (within ORT's int8 rounding of the float mean, not bit-exact to it).
//   xinrt QMaxPool(x) with MaxPool's attributes, for a DQ/Q pair of one scale and zero point:
//     the max of the integers (DQ is monotone and Q(DQ(v)) == v for |v - zero| <= 255).
#include <algorithm>
#include <limits>

#include "core/cpu_features.h"
#include "core/registry.h"
#include "kernels/conv_geometry.h"
#include "kernels/elementwise.h"
#include "kernels/qgemm.h"

namespace xinrt {

Tensor int8_to_layout(const Tensor& t, bool to_nhwc, ThreadPool& pool);  // kernels/qconv.cc
void qlinear_add_u8_avx2(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, float sa, int32_t za, float sb,
                         int32_t zb, float sy, int32_t zy, bool relu);  // kernels/x86/qconv_add_avx2.cc

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

// y[i] = Q(DQ(a[i]) + DQ(b[i])), optionally through a Relu, over equal shapes. Plain loops over
// restrict pointers and local scalars so the compiler vectorizes them.
template <class A, class B, class Y>
void add_run(const A* __restrict a, const B* __restrict b, Y* __restrict y, int64_t n, float sa, int32_t za,
             float sb, int32_t zb, float sy, int32_t zy, bool relu) {
  constexpr float lo = std::is_signed<Y>::value ? -128.0f : 0.0f, hi = std::is_signed<Y>::value ? 127.0f : 255.0f;
  const float low = lo - static_cast<float>(zy), high = hi - static_cast<float>(zy);
  const float floor = relu ? 0.0f : -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    float f = static_cast<float>(static_cast<int32_t>(a[i]) - za) * sa +
              static_cast<float>(static_cast<int32_t>(b[i]) - zb) * sb;
    f = std::max(f, floor);  // the fused Relu (a no-op at -inf)
    float v = std::min(high, std::max(low, f / sy));
    v = (v + 12582912.0f) - 12582912.0f;
    y[i] = static_cast<Y>(static_cast<int32_t>(v) + zy);
  }
}

template <class A, class B, class Y>
void add_same_shape(const A* a, const B* b, Y* y, int64_t n, const QScalar& qa, const QScalar& qb,
                    const QScalar& qy, bool relu, ThreadPool& pool, int simd) {
  pool.parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
#if XINRT_HAVE_X86
    if constexpr (std::is_same<A, uint8_t>::value && std::is_same<B, uint8_t>::value &&
                  std::is_same<Y, uint8_t>::value) {
      if (simd >= kSimdAvx2Fma)
        return qlinear_add_u8_avx2(a + i0, b + i0, y + i0, i1 - i0, qa.scale, qa.zero, qb.scale, qb.zero, qy.scale,
                                   qy.zero, relu);
    }
#endif
    add_run(a + i0, b + i0, y + i0, i1 - i0, qa.scale, qa.zero, qb.scale, qb.zero, qy.scale, qy.zero, relu);
  });
}

template <class A, class B>
void add_same_shape_to(const A* a, const B* b, Tensor& Y, int64_t n, const QScalar& qa, const QScalar& qb,
                       const QScalar& qy, bool relu, ThreadPool& pool, int simd) {
  if (Y.dtype == DType::u8) add_same_shape(a, b, Y.ptr<uint8_t>(), n, qa, qb, qy, relu, pool, simd);
  else add_same_shape(a, b, Y.ptr<int8_t>(), n, qa, qb, qy, relu, pool, simd);
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
  auto finish = [&](float f, int64_t i, Tensor& Y) {
    if (relu) f = f < 0.0f ? 0.0f : f;
    if (yd == DType::u8) Y.ptr<uint8_t>()[i] = quantize_one<uint8_t>(f, y.scale, y.zero);
    else Y.ptr<int8_t>()[i] = quantize_one<int8_t>(f, y.scale, y.zero);
  };
  auto dq = [](const Tensor& t, int64_t i, const QScalar& q) {
    return static_cast<float>(value_at(t, i) - q.zero) * q.scale;
  };
  if (A.shape == B.shape) {
    out[0] = Tensor::empty(yd, A.shape);
    Tensor& Y = out[0];
    int64_t n = A.numel();
    const int simd = ctx.simd;
    if (A.dtype == DType::u8 && B.dtype == DType::u8)
      add_same_shape_to(A.ptr<uint8_t>(), B.ptr<uint8_t>(), Y, n, a, b, y, relu, ctx.pool, simd);
    else if (A.dtype == DType::u8)
      add_same_shape_to(A.ptr<uint8_t>(), B.ptr<int8_t>(), Y, n, a, b, y, relu, ctx.pool, simd);
    else if (B.dtype == DType::u8)
      add_same_shape_to(A.ptr<int8_t>(), B.ptr<uint8_t>(), Y, n, a, b, y, relu, ctx.pool, simd);
    else
      add_same_shape_to(A.ptr<int8_t>(), B.ptr<int8_t>(), Y, n, a, b, y, relu, ctx.pool, simd);
    return;
  }
  // Broadcasting: the float operands, Add's own broadcast, then the same quantization. With
  // both operands NHWC (the plan's layout) the broadcast over the permuted dims is the same.
  if (out_nhwc && A.rank() != B.rank())
    throw KernelError("QLinearAdd: NHWC operands " + shape_str(A.shape) + " and " + shape_str(B.shape) +
                      " must have the same rank");
  Tensor fa = Tensor::empty(DType::f32, A.shape), fb = Tensor::empty(DType::f32, B.shape), sum;
  for (int64_t i = 0; i < A.numel(); ++i) fa.ptr<float>()[i] = dq(A, i, a);
  for (int64_t i = 0; i < B.numel(); ++i) fb.ptr<float>()[i] = dq(B, i, b);
  binary_op("Add", fa, fb, sum, ctx.pool);
  out[0] = Tensor::empty(yd, sum.shape);
  for (int64_t i = 0; i < sum.numel(); ++i) finish(sum.ptr<float>()[i], i, out[0]);
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

}  // namespace

void register_qconv_eltwise(std::vector<Kernel>& k) {
  k.push_back(Kernel("QLinearGlobalAveragePool", "xinrt").opsets(1, 1).types({DType::u8, DType::i8})
              .check(check_qgap).outputs(qgap_dtypes).compute(compute_qgap));
  k.push_back(Kernel("QLinearAdd", "xinrt").opsets(1, 1).types({DType::u8, DType::i8})
              .check(check_qlinearadd).outputs(qlinearadd_dtypes).compute(compute_qlinearadd));
  k.push_back(Kernel("QMaxPool", "xinrt").opsets(1, 1).types({DType::u8, DType::i8}).check(check_qmaxpool)
              .compute(compute_qmaxpool));
}

}  // namespace xinrt
