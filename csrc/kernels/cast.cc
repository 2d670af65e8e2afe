// Cast between float32, float64, float16, int64, int32, int8, uint8 and bool, as numpy's astype
// does on x86: floats truncate toward zero into integers (NaN and out-of-range values give the
// integer type's minimum, like cvttss2si), integers wrap, float16 rounds to nearest even.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/registry.h"

namespace xinrt {
namespace {

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      man <<= 1;
      ++e;
    } while (!(man & 0x400));
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, absx = x & 0x7fffffff;
  if (absx >= 0x7f800000) return static_cast<uint16_t>(sign | 0x7c00 | (absx > 0x7f800000 ? 0x200 : 0));
  if (absx >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);  // rounds past 65504 -> inf
  if (absx < 0x38800000) {  // below the smallest normal half: subnormal or zero
    if (absx < 0x33000000) return static_cast<uint16_t>(sign);  // < 2^-25 rounds to 0
    uint32_t man = (absx & 0x7fffff) | 0x800000;
    uint32_t drop = 126 - (absx >> 23);  // 14..24: half subnormal = man >> drop, rounded
    uint32_t value = man >> drop, rem = man & ((1u << drop) - 1), half = 1u << (drop - 1);
    if (rem > half || (rem == half && (value & 1))) ++value;
    return static_cast<uint16_t>(sign | value);
  }
  uint32_t value = absx - 0x38000000;  // rebias 127 -> 15 (112 << 23)
  uint32_t rem = value & 0x1fff, out = value >> 13;
  if (rem > 0x1000 || (rem == 0x1000 && (out & 1))) ++out;
  return static_cast<uint16_t>(sign | out);
}

template <class D, class S>
D convert(S v) {
  if constexpr (std::is_same<D, bool>::value) {
    return v != S(0);
  } else if constexpr (std::is_floating_point<S>::value && std::is_integral<D>::value) {
    using Wide = typename std::conditional<std::is_same<D, int64_t>::value, int64_t, int32_t>::type;
    constexpr double lo = static_cast<double>(std::numeric_limits<Wide>::min());
    constexpr double hi = -lo;  // 2^63 or 2^31, exclusive
    double d = static_cast<double>(v);
    Wide w = (d >= lo && d < hi) ? static_cast<Wide>(d) : std::numeric_limits<Wide>::min();
    return static_cast<D>(w);  // int8/uint8 wrap the int32 value, as C's narrowing does
  } else {
    return static_cast<D>(v);
  }
}

template <class D, class S>
void cast_loop(const void* src, void* dst, int64_t n) {
  const S* s = static_cast<const S*>(src);
  D* d = static_cast<D*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = convert<D>(s[i]);
}

// Every source goes through its natural C++ type; float16 through float32 (exact).
template <class D>
void cast_to(DType from, const void* src, void* dst, int64_t n) {
  switch (from) {
    case DType::f32: cast_loop<D, float>(src, dst, n); break;
    case DType::f64: cast_loop<D, double>(src, dst, n); break;
    case DType::i64: cast_loop<D, int64_t>(src, dst, n); break;
    case DType::i32: cast_loop<D, int32_t>(src, dst, n); break;
    case DType::i8: cast_loop<D, int8_t>(src, dst, n); break;
    case DType::u8: cast_loop<D, uint8_t>(src, dst, n); break;
    case DType::boolean: cast_loop<D, bool>(src, dst, n); break;
    case DType::f16: {
      const uint16_t* h = static_cast<const uint16_t*>(src);
      D* d = static_cast<D*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = convert<D>(half_to_float(h[i]));
      break;
    }
    default: throw KernelError("Cast: unsupported source dtype");
  }
}

std::string check_cast(const NodeInfo& n) {
  if (!n.has_attr("to")) return "Cast: 'to' attribute missing";
  if (dtype_from_onnx(n.attr_int("to", 0)) == DType::none)
    return "Cast: target type " + std::to_string(n.attr_int("to", 0)) + " not supported";
  if (n.input_dtypes[0] == DType::f64 && dtype_from_onnx(n.attr_int("to", 0)) == DType::f16)
    return "Cast: float64 -> float16 not supported (numpy rounds it once, we would round twice)";
  return "";
}

std::vector<DType> cast_dtypes(const NodeInfo& n) { return {dtype_from_onnx(n.attr_int("to", 0))}; }

void cast_into(const Tensor& X, DType to, std::vector<Tensor>& out) {
  if (to == X.dtype) {
    out[0] = X;
    return;
  }
  Tensor Y = Tensor::empty(to, X.shape);
  int64_t n = X.numel();
  switch (to) {
    case DType::f32: cast_to<float>(X.dtype, X.data, Y.data, n); break;
    case DType::f64: cast_to<double>(X.dtype, X.data, Y.data, n); break;
    case DType::i64: cast_to<int64_t>(X.dtype, X.data, Y.data, n); break;
    case DType::i32: cast_to<int32_t>(X.dtype, X.data, Y.data, n); break;
    case DType::i8: cast_to<int8_t>(X.dtype, X.data, Y.data, n); break;
    case DType::u8: cast_to<uint8_t>(X.dtype, X.data, Y.data, n); break;
    case DType::boolean: cast_to<bool>(X.dtype, X.data, Y.data, n); break;
    case DType::f16: {
      // Through float32, which is exact for every source but float64 (declined).
      if (X.dtype == DType::f64) throw KernelError("Cast: float64 -> float16 not supported");
      Tensor F = Tensor::empty(DType::f32, X.shape);
      cast_to<float>(X.dtype, X.data, F.data, n);
      uint16_t* h = Y.ptr<uint16_t>();
      for (int64_t i = 0; i < n; ++i) h[i] = float_to_half(F.ptr<float>()[i]);
      break;
    }
    default: throw KernelError("Cast: unsupported target dtype");
  }
  out[0] = std::move(Y);
}

void compute_cast(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  cast_into(*in[0], dtype_from_onnx(ctx.node.attr_int("to", 0)), out);
}

// CastLike: Cast to the dtype of input 1 (whose values are not read).
std::string check_castlike(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return "CastLike: expects 2 inputs";
  if (n.input_dtypes[0] == DType::f64 && n.input_dtypes[1] == DType::f16)
    return "CastLike: float64 -> float16 not supported (numpy rounds it once, we would round twice)";
  return require_dtype(n, 1, {DType::f32, DType::f64, DType::f16, DType::i64, DType::i32, DType::i8, DType::u8,
                              DType::boolean});
}

std::vector<DType> castlike_dtypes(const NodeInfo& n) { return {n.input_dtypes[1]}; }

void compute_castlike(const KernelContext&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  cast_into(*in[0], in[1]->dtype, out);
}

}  // namespace

void register_cast(std::vector<Kernel>& k) {
  k.push_back(Kernel("Cast").opsets(6, kMaxOpset)
              .types({DType::f32, DType::f64, DType::f16, DType::i64, DType::i32, DType::i8, DType::u8, DType::boolean})
              .check(check_cast).outputs(cast_dtypes).compute(compute_cast));
  k.push_back(Kernel("CastLike").opsets(15, kMaxOpset)
              .types({DType::f32, DType::f64, DType::f16, DType::i64, DType::i32, DType::i8, DType::u8, DType::boolean})
              .check(check_castlike).outputs(castlike_dtypes).compute(compute_castlike));
}

}  // namespace xinrt
