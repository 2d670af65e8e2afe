// QuantizeLinear, DequantizeLinear (uint8/int8, per tensor or per axis) and DynamicQuantizeLinear,
// with ONNX Runtime's arithmetic: quantize = saturate(round_half_even(x / scale) + zero),
// clamped in float before rounding; dequantize = float(x - zero) * scale.
#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/registry.h"
#include "core/cpu_features.h"
#include "kernels/qgemm.h"
#include "kernels/qgemm_kernels.h"

namespace xinrt {

namespace {

// Values per task: a 128 x 256 activation (one encoder GEMM input) already splits in four.
constexpr int64_t kGrain = 8192;

template <class T>
void quantize_span(const float* x, int64_t n, float scale, int32_t zero, T* y) {
  constexpr float lo = std::is_signed<T>::value ? -128.0f : 0.0f, hi = std::is_signed<T>::value ? 127.0f : 255.0f;
  const float qlo = lo - static_cast<float>(zero), qhi = hi - static_cast<float>(zero);
  for (int64_t i = 0; i < n; ++i) {
    float v = std::min(qhi, std::max(qlo, x[i] / scale));
    y[i] = static_cast<T>(round_half_even_small(v) + zero);
  }
}

}  // namespace

namespace {

// Folds min/max of x[0:n] into *lo, *hi (NaN values are skipped, as minps/maxps do).
void min_max(const float* x, int64_t n, float* lo, float* hi, int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx2Fma) return qgemm_detail::min_max_avx2(x, n, lo, hi);
#endif
  // 16 independent lanes so the compiler vectorizes the scan.
  float los[16], his[16];
  std::fill(los, los + 16, *lo);
  std::fill(his, his + 16, *hi);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) {
      los[j] = x[i + j] < los[j] ? x[i + j] : los[j];
      his[j] = x[i + j] > his[j] ? x[i + j] : his[j];
    }
  for (; i < n; ++i) {
    los[0] = x[i] < los[0] ? x[i] : los[0];
    his[0] = x[i] > his[0] ? x[i] : his[0];
  }
  *lo = *std::min_element(los, los + 16);
  *hi = *std::max_element(his, his + 16);
}

}  // namespace

void dynamic_quantize_params(const float* x, int64_t n, float* scale, uint8_t* zero, ThreadPool* pool, int simd) {
  float lo = 0.0f, hi = 0.0f;  // the range always holds 0
  if (pool && pool->num_threads() > 1 && n >= 2 * kGrain) {
    std::mutex merge;
    pool->parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
      float l = 0.0f, h = 0.0f;
      min_max(x + i0, i1 - i0, &l, &h, simd);
      std::lock_guard<std::mutex> lock(merge);
      lo = std::min(lo, l);
      hi = std::max(hi, h);
    });
  } else {
    min_max(x, n, &lo, &hi, simd);
  }
  float s = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  float z = std::min(255.0f, std::max(0.0f, 0.0f - lo / s));
  *scale = s;
  *zero = static_cast<uint8_t>(round_half_even(z));
}

void quantize_u8(const float* x, int64_t n, float scale, int32_t zero, uint8_t* y, ThreadPool* pool, int simd) {
  auto span = [&](int64_t i0, int64_t i1) {
#if XINRT_HAVE_X86
    if (simd >= kSimdAvx2Fma) return qgemm_detail::quantize_u8_avx2(x + i0, i1 - i0, scale, zero, y + i0);
#endif
    quantize_span(x + i0, i1 - i0, scale, zero, y + i0);
  };
  if (pool && pool->num_threads() > 1 && n >= 2 * kGrain)
    pool->parallel_for(n, kGrain, span);
  else
    span(0, n);
}

namespace {

// ONNX TensorProto element types the attributes name.
constexpr int64_t kOnnxFloat = 1, kOnnxUint8 = 2, kOnnxInt8 = 3;

std::string check_common(const NodeInfo& n, const char* op) {
  if (n.attr_int("block_size", 0) != 0) return std::string(op) + ": blocked quantization (block_size) not supported";
  int64_t srank = n.input_rank(1);
  if (srank > 1) return std::string(op) + ": scale of rank " + std::to_string(srank) + " (blocked) not supported";
  return "";
}

std::string check_quantize(const NodeInfo& n) {
  std::string r = check_common(n, "QuantizeLinear");
  if (!r.empty()) return r;
  r = require_dtype(n, 1, {DType::f32});
  if (!r.empty()) return r;
  r = require_dtype(n, 2, {DType::u8, DType::i8});
  if (!r.empty()) return r + " (int16/uint16/int4/float8 outputs are not implemented)";
  int64_t od = n.attr_int("output_dtype", 0);
  if (od != 0 && od != kOnnxUint8 && od != kOnnxInt8)
    return "QuantizeLinear: output_dtype " + std::to_string(od) + " not supported (uint8/int8 only)";
  if (od != 0 && n.has_input(2) && n.input_dtypes[2] != DType::unknown &&
      n.input_dtypes[2] != (od == kOnnxUint8 ? DType::u8 : DType::i8))
    return "QuantizeLinear: output_dtype differs from the zero point's dtype (invalid model)";
  int64_t precision = n.attr_int("precision", 0);
  if (precision != 0 && precision != kOnnxFloat)
    return "QuantizeLinear: precision " + std::to_string(precision) + " not supported (float32 only)";
  return "";
}

std::vector<DType> quantize_dtypes(const NodeInfo& n) {
  if (n.has_input(2)) return {n.input_dtypes[2]};
  return {n.attr_int("output_dtype", 0) == kOnnxInt8 ? DType::i8 : DType::u8};
}

std::string check_dequantize(const NodeInfo& n) {
  std::string r = check_common(n, "DequantizeLinear");
  if (!r.empty()) return r;
  r = require_dtype(n, 1, {DType::f32});
  if (!r.empty()) return r;
  r = require_dtype(n, 2, {DType::u8, DType::i8, DType::i32});  // int32: quantized biases
  if (!r.empty()) return r;
  int64_t od = n.attr_int("output_dtype", 0);
  if (od != 0 && od != kOnnxFloat) return "DequantizeLinear: output_dtype " + std::to_string(od) + " not supported (float32 only)";
  return "";
}

// Per-tensor or per-axis layout of x: `outer` blocks of `channels` x `inner` values.
struct AxisLayout {
  int64_t outer = 1, channels = 1, inner = 1;
  bool per_axis = false;
};

AxisLayout axis_layout(const NodeInfo& node, const Tensor& x, const Tensor& scale, const Tensor* zero,
                       const char* op) {
  AxisLayout l;
  if (scale.rank() > 1) throw KernelError(std::string(op) + ": scale must be a scalar or 1-D, got " + shape_str(scale.shape));
  // A one-element 1-D scale or zero point is per-tensor, as ORT reads it (quantizers write [1]).
  if (zero && zero->shape != scale.shape && !(zero->numel() == 1 && scale.numel() == 1))
    throw KernelError(std::string(op) + ": zero point shape " + shape_str(zero->shape) + " differs from scale shape " +
                      shape_str(scale.shape));
  if (scale.rank() == 0 || scale.numel() == 1) {
    if (scale.numel() != 1) throw KernelError(std::string(op) + ": empty scale");
    l.inner = x.numel();
    return l;
  }
  int64_t axis = node.attr_int("axis", 1);
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis >= x.rank())
    throw KernelError(std::string(op) + ": axis " + std::to_string(node.attr_int("axis", 1)) + " out of range for input " +
                      shape_str(x.shape));
  if (scale.numel() != x.dim(axis))
    throw KernelError(std::string(op) + ": per-axis scale has " + std::to_string(scale.numel()) + " values, axis " +
                      std::to_string(axis) + " of " + shape_str(x.shape) + " has " + std::to_string(x.dim(axis)));
  l.per_axis = true;
  l.channels = x.dim(axis);
  for (int64_t d = 0; d < axis; ++d) l.outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) l.inner *= x.dim(d);
  return l;
}

int32_t zero_at(const Tensor* zero, int64_t c) {
  if (!zero) return 0;
  if (zero->dtype == DType::i32) return zero->ptr<int32_t>()[c];
  return zero->dtype == DType::i8 ? zero->ptr<int8_t>()[c] : zero->ptr<uint8_t>()[c];
}

void compute_quantize(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& S = *in[1];
  const Tensor* Z = in.size() > 2 ? in[2] : nullptr;
  if (X.dtype != DType::f32 || S.dtype != DType::f32) throw KernelError("QuantizeLinear: float32 x and scale expected");
  if (Z && Z->dtype != DType::u8 && Z->dtype != DType::i8)
    throw KernelError(std::string("QuantizeLinear: zero point must be uint8 or int8, got ") + dtype_name(Z->dtype));
  AxisLayout l = axis_layout(ctx.node, X, S, Z, "QuantizeLinear");
  DType dt = Z ? Z->dtype : quantize_dtypes(ctx.node)[0];
  out[0] = Tensor::empty(dt, X.shape);
  const float* x = X.ptr<float>();
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      int64_t off = (o * l.channels + c) * l.inner;
      float s = S.ptr<float>()[l.per_axis ? c : 0];
      int32_t z = zero_at(Z, l.per_axis ? c : 0);
      if (dt == DType::u8)
        quantize_u8(x + off, l.inner, s, z, out[0].ptr<uint8_t>() + off, &ctx.pool, ctx.simd);
      else
        quantize_span(x + off, l.inner, s, z, out[0].ptr<int8_t>() + off);
    }
  }
}

template <class T>
void dequantize_span(const T* x, int64_t n, float scale, int32_t zero, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<int32_t>(x[i]) - zero) * scale;
}

void compute_dequantize(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& S = *in[1];
  const Tensor* Z = in.size() > 2 ? in[2] : nullptr;
  if ((X.dtype != DType::u8 && X.dtype != DType::i8 && X.dtype != DType::i32) || S.dtype != DType::f32)
    throw KernelError(std::string("DequantizeLinear: uint8/int8/int32 x and float32 scale expected, got ") +
                      dtype_name(X.dtype) +
                      " and " + dtype_name(S.dtype));
  if (Z && Z->dtype != X.dtype)
    throw KernelError(std::string("DequantizeLinear: zero point dtype ") + dtype_name(Z->dtype) + " differs from x's " +
                      dtype_name(X.dtype));
  AxisLayout l = axis_layout(ctx.node, X, S, Z, "DequantizeLinear");
  out[0] = Tensor::empty(DType::f32, X.shape);
  float* y = out[0].ptr<float>();
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      int64_t off = (o * l.channels + c) * l.inner;
      float s = S.ptr<float>()[l.per_axis ? c : 0];
      int32_t z = zero_at(Z, l.per_axis ? c : 0);
      if (X.dtype == DType::u8)
        dequantize_span(X.ptr<uint8_t>() + off, l.inner, s, z, y + off);
      else if (X.dtype == DType::i8)
        dequantize_span(X.ptr<int8_t>() + off, l.inner, s, z, y + off);
      else
        dequantize_span(X.ptr<int32_t>() + off, l.inner, s, z, y + off);
    }
  }
}

std::vector<DType> dequantize_dtypes(const NodeInfo&) { return {DType::f32}; }

void compute_dynamic_quantize(const KernelContext& ctx, const std::vector<const Tensor*>& in,
                              std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (X.dtype != DType::f32) throw KernelError("DynamicQuantizeLinear: float32 input expected");
  out[0] = Tensor::empty(DType::u8, X.shape);
  out[1] = Tensor::empty(DType::f32, {});
  out[2] = Tensor::empty(DType::u8, {});
  float scale;
  uint8_t zero;
  dynamic_quantize_params(X.ptr<float>(), X.numel(), &scale, &zero, &ctx.pool, ctx.simd);
  *out[1].ptr<float>() = scale;
  *out[2].ptr<uint8_t>() = zero;
  quantize_u8(X.ptr<float>(), X.numel(), scale, zero, out[0].ptr<uint8_t>(), &ctx.pool, ctx.simd);
}

std::vector<DType> dynamic_quantize_dtypes(const NodeInfo&) { return {DType::u8, DType::f32, DType::u8}; }

}  // namespace

void register_quantize(std::vector<Kernel>& k) {
  k.push_back(Kernel("QuantizeLinear").opsets(10, kMaxOpset).types({DType::f32}).check(check_quantize)
              .outputs(quantize_dtypes).compute(compute_quantize));
  k.push_back(Kernel("DequantizeLinear").opsets(10, kMaxOpset).types({DType::u8, DType::i8, DType::i32})
              .check(check_dequantize).outputs(dequantize_dtypes).compute(compute_dequantize));
  k.push_back(Kernel("DynamicQuantizeLinear").opsets(11, kMaxOpset).types({DType::f32})
              .outputs(dynamic_quantize_dtypes).compute(compute_dynamic_quantize));
}

}  // namespace xinrt
