// Unary math the spec defines elementwise: rounding (Floor, Ceil, Round half to even), Sign,
// Abs, Neg, Log, trigonometric and hyperbolic functions, IsNaN/IsInf, and the activations
// Softplus, Softsign, Mish, Swish, Celu, Elu, Selu, ThresholdedRelu, Gelu and Shrink.
// float32 and float64 (transcendentals computed in double, then rounded once); Abs, Neg and
// Sign also take the integer types.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <type_traits>

#include "core/registry.h"

namespace xinrt {
namespace {

const std::vector<DType> kFloatDTypes = {DType::f32, DType::f64};
const std::vector<DType> kSignedDTypes = {DType::f32, DType::f64, DType::i64, DType::i32, DType::i8};

// Attributes of the parametrised activations, read once per run.
struct Params {
  double alpha = 0, beta = 0, gamma = 0;
  bool tanh_gelu = false;
};

Params read_params(const NodeInfo& n) {
  const std::string& op = n.op_type;
  Params p;
  if (op == "Celu" || op == "Elu" || op == "ThresholdedRelu" || op == "Swish") p.alpha = n.attr_float("alpha", 1.0f);
  if (op == "Selu") {
    p.alpha = n.attr_float("alpha", 1.67326319217681884765625f);
    p.gamma = n.attr_float("gamma", 1.05070102214813232421875f);
  }
  if (op == "Shrink") {
    p.alpha = n.attr_float("lambd", 0.5f);
    p.beta = n.attr_float("bias", 0.0f);
  }
  if (op == "Gelu") p.tanh_gelu = n.attr_string("approximate", "none") == "tanh";
  return p;
}

double softplus(double v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }

// The value of a float op at v (computed in double); null when op is not a float map.
using FloatFn = double (*)(double, const Params&);
FloatFn float_fn(const std::string& op) {
  static const std::map<std::string, FloatFn> table = {
      {"Floor", [](double v, const Params&) { return std::floor(v); }},
      {"Ceil", [](double v, const Params&) { return std::ceil(v); }},
      // nearbyint rounds half to even in the default rounding mode, as numpy's round does.
      {"Round", [](double v, const Params&) { return std::nearbyint(v); }},
      {"Log", [](double v, const Params&) { return std::log(v); }},
      {"Sin", [](double v, const Params&) { return std::sin(v); }},
      {"Cos", [](double v, const Params&) { return std::cos(v); }},
      {"Tan", [](double v, const Params&) { return std::tan(v); }},
      {"Asin", [](double v, const Params&) { return std::asin(v); }},
      {"Acos", [](double v, const Params&) { return std::acos(v); }},
      {"Atan", [](double v, const Params&) { return std::atan(v); }},
      {"Sinh", [](double v, const Params&) { return std::sinh(v); }},
      {"Cosh", [](double v, const Params&) { return std::cosh(v); }},
      {"Asinh", [](double v, const Params&) { return std::asinh(v); }},
      {"Acosh", [](double v, const Params&) { return std::acosh(v); }},
      {"Atanh", [](double v, const Params&) { return std::atanh(v); }},
      {"Softplus", [](double v, const Params&) { return softplus(v); }},
      {"Softsign", [](double v, const Params&) { return v / (1.0 + std::fabs(v)); }},
      {"Mish", [](double v, const Params&) { return v * std::tanh(softplus(v)); }},
      {"Swish", [](double v, const Params& p) { return v / (1.0 + std::exp(-p.alpha * v)); }},
      {"Celu", [](double v, const Params& p) {
         return std::max(0.0, v) + std::min(0.0, p.alpha * std::expm1(v / p.alpha));
       }},
      {"Elu", [](double v, const Params& p) { return v < 0 ? p.alpha * std::expm1(v) : v; }},
      {"Selu", [](double v, const Params& p) { return v <= 0 ? p.gamma * p.alpha * std::expm1(v) : p.gamma * v; }},
      {"ThresholdedRelu", [](double v, const Params& p) { return v > p.alpha ? v : 0.0; }},
      {"Shrink", [](double v, const Params& p) { return v < -p.alpha ? v + p.beta : v > p.alpha ? v - p.beta : 0.0; }},
      {"Gelu", [](double v, const Params& p) {
         if (p.tanh_gelu) {
           const double c = 0.7978845608028654;  // sqrt(2 / pi)
           return 0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v)));
         }
         return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
       }},
  };
  auto it = table.find(op);
  return it == table.end() ? nullptr : it->second;
}

template <class T>
void map_float(const Tensor& X, Tensor& Y, FloatFn fn, const Params& p, ThreadPool& pool) {
  const T* x = X.ptr<T>();
  T* y = Y.ptr<T>();
  pool.parallel_for(X.numel(), 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = static_cast<T>(fn(static_cast<double>(x[i]), p));
  });
}

// Abs, Neg and Sign on any signed type; integer negation wraps as numpy's does.
template <class T>
void map_signed(const std::string& op, const Tensor& X, Tensor& Y, ThreadPool& pool) {
  const T* x = X.ptr<T>();
  T* y = Y.ptr<T>();
  int kind = op == "Abs" ? 0 : op == "Neg" ? 1 : 2;
  pool.parallel_for(X.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T v = x[i];
      if constexpr (std::is_integral<T>::value) {
        using U = typename std::make_unsigned<T>::type;
        T neg = static_cast<T>(U(0) - static_cast<U>(v));
        y[i] = kind == 0 ? (v < 0 ? neg : v) : kind == 1 ? neg : static_cast<T>((v > 0) - (v < 0));
      } else {
        // Sign keeps NaN (and signed zeros) as numpy's sign does.
        y[i] = kind == 0 ? std::fabs(v) : kind == 1 ? -v : v > 0 ? T(1) : v < 0 ? T(-1) : v;
      }
    }
  });
}

void compute_unary_math(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::string& op = ctx.node.op_type;
  const Tensor& X = *in[0];
  out[0] = Tensor::empty(X.dtype, X.shape);
  if (op == "Abs" || op == "Neg" || op == "Sign") {
    switch (X.dtype) {
      case DType::f32: map_signed<float>(op, X, out[0], ctx.pool); return;
      case DType::f64: map_signed<double>(op, X, out[0], ctx.pool); return;
      case DType::i64: map_signed<int64_t>(op, X, out[0], ctx.pool); return;
      case DType::i32: map_signed<int32_t>(op, X, out[0], ctx.pool); return;
      case DType::i8: map_signed<int8_t>(op, X, out[0], ctx.pool); return;
      default: throw KernelError(op + ": dtype " + dtype_name(X.dtype) + " not supported");
    }
  }
  FloatFn fn = float_fn(op);
  if (!fn) throw KernelError("no unary op " + op);
  Params p = read_params(ctx.node);
  if (X.dtype == DType::f32) map_float<float>(X, out[0], fn, p, ctx.pool);
  else if (X.dtype == DType::f64) map_float<double>(X, out[0], fn, p, ctx.pool);
  else throw KernelError(op + ": dtype " + dtype_name(X.dtype) + " not supported (float32, float64 only)");
}

std::string check_celu(const NodeInfo& n) {
  if (n.attr_float("alpha", 1.0f) == 0.0f) return "Celu: alpha 0 divides by zero";
  return "";
}

std::string check_gelu(const NodeInfo& n) {
  std::string a = n.attr_string("approximate", "none");
  if (a != "none" && a != "tanh") return "Gelu: approximate='" + a + "' is not in the spec (none, tanh)";
  return "";
}

// ---- IsNaN, IsInf -> bool ----

std::vector<DType> bool_output(const NodeInfo&) { return {DType::boolean}; }

template <class T>
void classify(const std::string& op, const NodeInfo& node, const Tensor& X, Tensor& Y) {
  const T* x = X.ptr<T>();
  uint8_t* y = Y.ptr<uint8_t>();
  bool nan = op == "IsNaN";
  bool neg = node.attr_int("detect_negative", 1) != 0, pos = node.attr_int("detect_positive", 1) != 0;
  for (int64_t i = 0; i < X.numel(); ++i) {
    T v = x[i];
    y[i] = nan ? std::isnan(v) : std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
  }
}

void compute_classify(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  out[0] = Tensor::empty(DType::boolean, X.shape);
  if (X.dtype == DType::f32) classify<float>(ctx.node.op_type, ctx.node, X, out[0]);
  else if (X.dtype == DType::f64) classify<double>(ctx.node.op_type, ctx.node, X, out[0]);
  else throw KernelError(ctx.node.op_type + ": float32, float64 only");
}

}  // namespace

void register_unary(std::vector<Kernel>& k) {
  auto add = [&](const char* op, int since, const std::vector<DType>& dtypes, CheckFn check) {
    k.push_back(Kernel(op).opsets(since, kMaxOpset).types(dtypes).check(check).compute(compute_unary_math));
  };
  for (const char* op : {"Abs", "Neg"}) add(op, 6, kSignedDTypes, nullptr);
  add("Sign", 9, kSignedDTypes, nullptr);
  for (const char* op : {"Floor", "Ceil", "Log", "Elu", "Selu"}) add(op, 6, kFloatDTypes, nullptr);
  for (const char* op : {"Softplus", "Softsign"}) add(op, 1, kFloatDTypes, nullptr);
  add("Round", 11, kFloatDTypes, nullptr);
  for (const char* op : {"Sin", "Cos", "Tan", "Asin", "Acos", "Atan"}) add(op, 7, kFloatDTypes, nullptr);
  for (const char* op : {"Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Shrink"}) add(op, 9, kFloatDTypes, nullptr);
  add("ThresholdedRelu", 10, kFloatDTypes, nullptr);
  add("Celu", 12, {DType::f32}, check_celu);  // the spec types Celu float32 only
  add("Mish", 18, kFloatDTypes, nullptr);
  add("Gelu", 20, kFloatDTypes, check_gelu);
  add("Swish", 24, kFloatDTypes, nullptr);
  k.push_back(Kernel("IsNaN").opsets(9, kMaxOpset).types(kFloatDTypes).outputs(bool_output)
              .compute(compute_classify));
  k.push_back(Kernel("IsInf").opsets(10, kMaxOpset).types(kFloatDTypes).outputs(bool_output)
              .compute(compute_classify));
}

}  // namespace xinrt
