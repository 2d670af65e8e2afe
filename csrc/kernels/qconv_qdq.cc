// Interim QuantizeLinear / DequantizeLinear (float32 <-> uint8/int8, DequantizeLinear also from
// int32), per tensor or per axis, so QDQ models run whole on this branch before the full
// kernels of csrc/kernels/quantize.cc land. register_qconv_qdq adds them only when no kernel of
// that name is registered yet: list it after register_quantize and it adds nothing (then delete
// this file).
//   QuantizeLinear:   y = saturate(round_half_even(x / y_scale) + y_zero_point)
//   DequantizeLinear: y = (x - x_zero_point) * x_scale   (in float, as ONNX Runtime computes it)
#include <algorithm>

#include "core/registry.h"
#include "kernels/qgemm.h"

namespace xinrt {

namespace {

// Scale/zero-point layout: `count` values along `axis` (count 1: per tensor).
struct AxisSplit {
  int64_t outer = 1, count = 1, inner = 1;
};

AxisSplit axis_split(const Tensor& x, const Tensor& scale, int64_t axis, const char* op) {
  AxisSplit s;
  if (scale.numel() == 1 && scale.rank() <= 1) {
    s.inner = x.numel();
    return s;
  }
  if (scale.rank() != 1) throw KernelError(std::string(op) + ": scale must be a scalar or 1-D, got " + shape_str(scale.shape));
  int64_t r = x.rank();
  if (axis < -r || axis >= r) throw KernelError(std::string(op) + ": axis " + std::to_string(axis) + " out of range");
  if (axis < 0) axis += r;
  if (scale.numel() != x.dim(axis))
    throw KernelError(std::string(op) + ": scale has " + std::to_string(scale.numel()) + " values, axis " +
                      std::to_string(axis) + " of " + shape_str(x.shape) + " has " + std::to_string(x.dim(axis)));
  for (int64_t i = 0; i < axis; ++i) s.outer *= x.dim(i);
  s.count = x.dim(axis);
  for (int64_t i = axis + 1; i < r; ++i) s.inner *= x.dim(i);
  return s;
}

int32_t zero_at(const Tensor* zp, int64_t i) {
  if (!zp) return 0;
  int64_t j = zp->numel() == 1 ? 0 : i;
  switch (zp->dtype) {
    case DType::u8: return zp->ptr<uint8_t>()[j];
    case DType::i8: return zp->ptr<int8_t>()[j];
    case DType::i32: return zp->ptr<int32_t>()[j];
    default: throw KernelError("zero point must be uint8, int8 or int32, got " + std::string(dtype_name(zp->dtype)));
  }
}

std::string check_block(const NodeInfo& n) {
  if (n.attr_int("block_size", 0) != 0) return n.op_type + ": blocked quantization (block_size) not supported";
  return "";
}

DType quantize_output(const NodeInfo& n) {
  int64_t od = n.attr_int("output_dtype", 0);
  if (od == 2) return DType::u8;
  if (od == 3) return DType::i8;
  return n.has_input(2) ? n.input_dtypes[2] : DType::u8;
}

std::string check_quantize(const NodeInfo& n) {
  std::string r = check_block(n);
  if (!r.empty()) return r;
  if (n.input_dtypes.size() < 2 || !n.has_input(1)) return "QuantizeLinear: y_scale missing";
  r = require_dtype(n, 1, {DType::f32});
  if (!r.empty()) return r;
  int64_t od = n.attr_int("output_dtype", 0);
  if (od != 0 && od != 2 && od != 3) return "QuantizeLinear: output_dtype other than uint8/int8 not supported";
  DType out = quantize_output(n);
  if (out != DType::u8 && out != DType::i8 && out != DType::unknown)
    return "QuantizeLinear: output dtype " + std::string(dtype_name(out)) + " not supported (uint8, int8 only)";
  if (n.has_input(2) && od != 0 && n.input_dtypes[2] != DType::unknown && n.input_dtypes[2] != out)
    return "QuantizeLinear: output_dtype differs from y_zero_point's dtype";
  return "";
}

std::vector<DType> quantize_dtypes(const NodeInfo& n) { return {quantize_output(n)}; }

template <class T>
void quantize(const float* x, const float* scale, const Tensor* zp, const AxisSplit& s, T* y, ThreadPool& pool) {
  constexpr int32_t lo = std::is_signed<T>::value ? -128 : 0, hi = std::is_signed<T>::value ? 127 : 255;
  pool.parallel_for(s.outer * s.count, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t c = r % s.count;
      float sc = scale[c];
      int32_t z = zero_at(zp, c);
      const float* xr = x + r * s.inner;
      T* yr = y + r * s.inner;
      for (int64_t i = 0; i < s.inner; ++i)
        yr[i] = static_cast<T>(std::min(hi, std::max(lo, round_half_even(xr[i] / sc) + z)));
    }
  });
}

void compute_quantize(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& S = *in[1];
  const Tensor* Z = in.size() > 2 ? in[2] : nullptr;
  if (X.dtype != DType::f32 || S.dtype != DType::f32)
    throw KernelError("QuantizeLinear: x and y_scale must be float32, got " + std::string(dtype_name(X.dtype)) +
                      " and " + dtype_name(S.dtype));
  DType od = Z ? Z->dtype : quantize_output(ctx.node);
  if (od != DType::u8 && od != DType::i8)
    throw KernelError("QuantizeLinear: y_zero_point must be uint8 or int8, got " + std::string(dtype_name(od)));
  AxisSplit s = axis_split(X, S, ctx.node.attr_int("axis", 1), "QuantizeLinear");
  if (Z && Z->numel() != S.numel()) throw KernelError("QuantizeLinear: y_zero_point and y_scale differ in size");
  out[0] = Tensor::empty(od, X.shape);
  if (od == DType::u8) quantize(X.ptr<float>(), S.ptr<float>(), Z, s, out[0].ptr<uint8_t>(), ctx.pool);
  else quantize(X.ptr<float>(), S.ptr<float>(), Z, s, out[0].ptr<int8_t>(), ctx.pool);
}

std::string check_dequantize(const NodeInfo& n) {
  std::string r = check_block(n);
  if (!r.empty()) return r;
  if (n.input_dtypes.size() < 2 || !n.has_input(1)) return "DequantizeLinear: x_scale missing";
  r = require_dtype(n, 1, {DType::f32});
  if (!r.empty()) return r;
  if (n.has_input(2) && n.input_dtypes[2] != DType::unknown && n.input_dtypes[0] != DType::unknown &&
      n.input_dtypes[2] != n.input_dtypes[0])
    return "DequantizeLinear: x_zero_point dtype differs from x's";
  return "";
}

std::vector<DType> dequantize_dtypes(const NodeInfo&) { return {DType::f32}; }

template <class T>
void dequantize(const T* x, const float* scale, const Tensor* zp, const AxisSplit& s, float* y, ThreadPool& pool) {
  pool.parallel_for(s.outer * s.count, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t c = r % s.count;
      float sc = scale[c];
      int32_t z = zero_at(zp, c);
      const T* xr = x + r * s.inner;
      float* yr = y + r * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) yr[i] = static_cast<float>(static_cast<int32_t>(xr[i]) - z) * sc;
    }
  });
}

void compute_dequantize(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& S = *in[1];
  const Tensor* Z = in.size() > 2 ? in[2] : nullptr;
  if (S.dtype != DType::f32) throw KernelError("DequantizeLinear: x_scale must be float32");
  if (Z && Z->dtype != X.dtype) throw KernelError("DequantizeLinear: x_zero_point dtype differs from x's");
  if (Z && Z->numel() != S.numel()) throw KernelError("DequantizeLinear: x_zero_point and x_scale differ in size");
  AxisSplit s = axis_split(X, S, ctx.node.attr_int("axis", 1), "DequantizeLinear");
  out[0] = Tensor::empty(DType::f32, X.shape);
  float* y = out[0].ptr<float>();
  switch (X.dtype) {
    case DType::u8: dequantize(X.ptr<uint8_t>(), S.ptr<float>(), Z, s, y, ctx.pool); break;
    case DType::i8: dequantize(X.ptr<int8_t>(), S.ptr<float>(), Z, s, y, ctx.pool); break;
    case DType::i32: dequantize(X.ptr<int32_t>(), S.ptr<float>(), Z, s, y, ctx.pool); break;
    default: throw KernelError("DequantizeLinear: x must be uint8, int8 or int32, got " + std::string(dtype_name(X.dtype)));
  }
}

}  // namespace

void register_qconv_qdq(std::vector<Kernel>& k) {
  auto present = [&](const char* op) {
    return std::any_of(k.begin(), k.end(), [&](const Kernel& e) { return e.op_type == op && e.domain.empty(); });
  };
  if (!present("QuantizeLinear"))
    k.push_back({"QuantizeLinear", "", 10, 21, {DType::f32}, 0, check_quantize, quantize_dtypes, compute_quantize,
                 nullptr});
  if (!present("DequantizeLinear"))
    k.push_back({"DequantizeLinear", "", 10, 21, {DType::u8, DType::i8, DType::i32}, 0, check_dequantize,
                 dequantize_dtypes, compute_dequantize, nullptr});
}

}  // namespace xinrt
