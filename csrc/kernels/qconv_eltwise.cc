// Integer steps the QDQ fusion (core/plan_qdq_fusion.cc) makes of the non-convolution parts of a
// QDQ CNN; both compute exactly what the unfused DequantizeLinear -> op -> QuantizeLinear chain
// computes, in one pass over the quantized tensors.
//   xinrt QLinearAdd(a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero) [Relu]:
//     y = saturate(round_half_even(f / y_scale) + y_zero), f = (a - a_zero) * a_scale +
//     (b - b_zero) * b_scale in float (then max(f, 0) with the Relu), the unfused float ops.
//   xinrt QMaxPool(x) with MaxPool's attributes, for a DQ/Q pair of one scale and zero point:
//     the max of the integers (DQ is monotone and Q(DQ(v)) == v for |v - zero| <= 255).
#include <algorithm>
#include <limits>

#include "core/registry.h"
#include "kernels/conv_geometry.h"
#include "kernels/elementwise.h"
#include "kernels/qgemm.h"

namespace xinrt {

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
    throw KernelError(std::string("QLinearAdd: ") + what + " needs one float32 scale and one " + dtype_name(dtype) +
                      " zero point");
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

template <class T>
T quantize_one(float f, float y_scale, int32_t y_zero) {
  constexpr int32_t lo = std::is_signed<T>::value ? -128 : 0, hi = std::is_signed<T>::value ? 127 : 255;
  return static_cast<T>(std::min(hi, std::max(lo, round_half_even(f / y_scale) + y_zero)));
}

void compute_qlinearadd(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor &A = *in[0], &B = *in[3];
  if (!is_int8(A.dtype) || !is_int8(B.dtype)) throw KernelError("QLinearAdd: a and b must be uint8 or int8");
  QScalar a = qscalar(in[1], in[2], A.dtype, "a"), b = qscalar(in[4], in[5], B.dtype, "b");
  DType yd = in[7] ? in[7]->dtype : DType::none;
  if (!is_int8(yd)) throw KernelError("QLinearAdd: y_zero_point must be uint8 or int8");
  QScalar y = qscalar(in[6], in[7], yd, "y");
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
    ctx.pool.parallel_for(A.numel(), 16384, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) finish(dq(A, i, a) + dq(B, i, b), i, Y);
    });
    return;
  }
  // Broadcasting: the float operands, Add's own broadcast, then the same quantization.
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

void compute_qmaxpool(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (!is_int8(X.dtype)) throw KernelError("QMaxPool: x must be uint8 or int8");
  if (X.rank() != 3 && X.rank() != 4) throw KernelError("QMaxPool: input " + shape_str(X.shape) + " must be rank 3 or 4");
  std::vector<int64_t> spatial(X.shape.begin() + 2, X.shape.end());
  std::vector<int64_t> kernel = ctx.node.attr_ints("kernel_shape");
  WindowGeometry g = window_geometry(ctx.node, spatial, kernel, true);
  Shape out_shape{X.dim(0), X.dim(1)};
  if (g.spatial == 2) out_shape.push_back(g.out_h);
  out_shape.push_back(g.out_w);
  out[0] = Tensor::empty(X.dtype, out_shape);
  int64_t planes = X.dim(0) * X.dim(1);
  if (X.dtype == DType::u8) maxpool(X.ptr<uint8_t>(), out[0].ptr<uint8_t>(), planes, g, ctx.pool);
  else maxpool(X.ptr<int8_t>(), out[0].ptr<int8_t>(), planes, g, ctx.pool);
}

}  // namespace

void register_qconv_eltwise(std::vector<Kernel>& k) {
  k.push_back({"QLinearAdd", "xinrt", 1, 1, {DType::u8, DType::i8}, 0, check_qlinearadd, qlinearadd_dtypes,
               compute_qlinearadd, nullptr});
  k.push_back({"QMaxPool", "xinrt", 1, 1, {DType::u8, DType::i8}, 0, check_qmaxpool, nullptr, compute_qmaxpool,
               nullptr});
}

}  // namespace xinrt
