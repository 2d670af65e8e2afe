// Elementwise ops: numpy-broadcasting binary arithmetic (Add/Sub/Mul/Div/Pow/PRelu), Sum, and
// unary float32 activations (Erf, and on NEON Sigmoid/Tanh/Exp, through vmath.h's SIMD paths;
// float Add/Sub/Mul/Div and Relu/LeakyRelu through kernels/arm/elementwise_neon.cc).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/simd_level.h"
#include "core/registry.h"
#include "kernels/elementwise.h"
#include "kernels/vmath.h"

namespace xinrt {
namespace {

// Per-input strides of a broadcast, coalesced so the innermost loop is as long as possible.
struct BroadcastLayout {
  Shape out;
  std::vector<int64_t> dims, stride_a, stride_b;  // outer..inner, coalesced
};

BroadcastLayout broadcast_layout(const Shape& a, const Shape& b, const std::string& op) {
  BroadcastLayout L;
  if (!broadcast_shapes(a, b, &L.out))
    throw KernelError(op + ": shapes " + shape_str(a) + " and " + shape_str(b) + " cannot broadcast");
  size_t r = L.out.size();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  int64_t acc_a = 1, acc_b = 1;
  for (size_t k = 0; k < r; ++k) {
    size_t i = r - 1 - k;
    int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1;
    int64_t db = k < b.size() ? b[b.size() - 1 - k] : 1;
    sa[i] = da == 1 ? 0 : acc_a;
    sb[i] = db == 1 ? 0 : acc_b;
    acc_a *= da;
    acc_b *= db;
  }
  for (size_t i = 0; i < r; ++i) {
    if (L.out[i] == 1) continue;  // size-1 dims never move an index
    if (!L.dims.empty() && L.stride_a.back() == sa[i] * L.out[i] && L.stride_b.back() == sb[i] * L.out[i]) {
      L.dims.back() *= L.out[i];
      L.stride_a.back() = sa[i];
      L.stride_b.back() = sb[i];
    } else {
      L.dims.push_back(L.out[i]);
      L.stride_a.push_back(sa[i]);
      L.stride_b.push_back(sb[i]);
    }
  }
  if (L.dims.empty()) {
    L.dims = {1};
    L.stride_a = {0};
    L.stride_b = {0};
  }
  return L;
}

template <class T, class Op>
void inner_loop(const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n, Op op) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
  } else if (sa == 0 && sb == 1) {
    T x = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(x, b[i]);
  } else if (sa == 1 && sb == 0) {
    T y = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], y);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i * sa], b[i * sb]);
  }
}

// row(a, sa, b, sb, y, n) computes one run of the innermost (coalesced) dim.
template <class T, class Row>
void broadcast_binary_rows(const Tensor& A, const Tensor& B, Tensor& Y, const std::string& name,
                           ThreadPool& pool, Row row_fn) {
  BroadcastLayout L = broadcast_layout(A.shape, B.shape, name);
  Y = Tensor::empty(A.dtype, L.out);
  const T* a = A.ptr<T>();
  const T* b = B.ptr<T>();
  T* y = Y.ptr<T>();
  int64_t r = static_cast<int64_t>(L.dims.size());
  int64_t n = L.dims[r - 1], rows = Y.numel() / std::max<int64_t>(n, 1);
  if (Y.numel() == 0) return;
  if (rows == 1) {
    int64_t sa = L.stride_a[r - 1], sb = L.stride_b[r - 1];
    pool.parallel_for(n, 32768, [&](int64_t begin, int64_t end) {
      row_fn(a + begin * sa, sa, b + begin * sb, sb, y + begin, end - begin);
    });
    return;
  }
  pool.parallel_for(rows, std::max<int64_t>(1, 32768 / n), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t oa = 0, ob = 0, rem = row;
      for (int64_t d = r - 2; d >= 0; --d) {
        int64_t idx = rem % L.dims[d];
        rem /= L.dims[d];
        oa += idx * L.stride_a[d];
        ob += idx * L.stride_b[d];
      }
      row_fn(a + oa, L.stride_a[r - 1], b + ob, L.stride_b[r - 1], y + row * n, n);
    }
  });
}

template <class T, class Op>
void broadcast_binary(const Tensor& A, const Tensor& B, Tensor& Y, const std::string& name,
                      ThreadPool& pool, Op op) {
  broadcast_binary_rows<T>(A, B, Y, name, pool, [op](const T* a, int64_t sa, const T* b, int64_t sb, T* y,
                                                     int64_t n) { inner_loop(a, sa, b, sb, y, n, op); });
}

// onnx.reference's integer Div: truncates toward zero; x / 0 gives 0 (numpy's floor_divide).
template <class T>
T int_div(T x, T y) {
  if (y == 0) return 0;
  if (y == -1) return static_cast<T>(0 - static_cast<typename std::make_unsigned<T>::type>(x));
  return x / y;
}

template <class T>
void binary_typed(const std::string& op, const Tensor& A, const Tensor& B, Tensor& Y, ThreadPool& pool,
                  int simd) {
#if XINRT_HAVE_NEON
  if constexpr (std::is_same<T, float>::value) {
    if (simd >= kSimdNeon) {
      int code = op == "Add" ? 0 : op == "Sub" ? 1 : op == "Mul" ? 2 : 3;
      broadcast_binary_rows<float>(A, B, Y, op, pool, [code](const float* a, int64_t sa, const float* b, int64_t sb,
                                                             float* y, int64_t n) {
        // The NEON loop takes contiguous runs and scalar-against-run; other strides stay scalar.
        if ((sa | sb) <= 1 && (sa | sb) != 0) binary_f32_neon(code, a, sa, b, sb, y, n);
        else if (code == 0) inner_loop(a, sa, b, sb, y, n, [](float u, float v) { return u + v; });
        else if (code == 1) inner_loop(a, sa, b, sb, y, n, [](float u, float v) { return u - v; });
        else if (code == 2) inner_loop(a, sa, b, sb, y, n, [](float u, float v) { return u * v; });
        else inner_loop(a, sa, b, sb, y, n, [](float u, float v) { return u / v; });
      });
      return;
    }
  }
#endif
  if (op == "Add") broadcast_binary<T>(A, B, Y, op, pool, [](T x, T y) { return x + y; });
  else if (op == "Sub") broadcast_binary<T>(A, B, Y, op, pool, [](T x, T y) { return x - y; });
  else if (op == "Mul") broadcast_binary<T>(A, B, Y, op, pool, [](T x, T y) { return x * y; });
  else if constexpr (std::is_floating_point<T>::value)
    broadcast_binary<T>(A, B, Y, op, pool, [](T x, T y) { return x / y; });
  else
    broadcast_binary<T>(A, B, Y, op, pool, [](T x, T y) { return int_div<T>(x, y); });
}

}  // namespace

void binary_op(const std::string& op, const Tensor& A, const Tensor& B, Tensor& Y, ThreadPool& pool, int simd) {
  if (A.dtype != B.dtype)
    throw KernelError(op + ": input dtypes differ (" + dtype_name(A.dtype) + " vs " + dtype_name(B.dtype) + ")");
  switch (A.dtype) {
    case DType::f32: binary_typed<float>(op, A, B, Y, pool, simd); break;
    case DType::f64: binary_typed<double>(op, A, B, Y, pool, simd); break;
    case DType::i64: binary_typed<int64_t>(op, A, B, Y, pool, simd); break;
    case DType::i32: binary_typed<int32_t>(op, A, B, Y, pool, simd); break;
    default: throw KernelError(op + ": dtype " + dtype_name(A.dtype) + " not supported");
  }
}

Broadcast broadcast_many(const std::vector<Shape>& shapes, const std::string& op) {
  Broadcast b;
  for (const Shape& s : shapes) {
    Shape next;
    if (!broadcast_shapes(b.out, s, &next)) {
      std::string all;
      for (const Shape& t : shapes) all += (all.empty() ? "" : ", ") + shape_str(t);
      throw KernelError(op + ": shapes " + all + " cannot broadcast");
    }
    b.out = next;
  }
  size_t r = b.out.size();
  for (const Shape& s : shapes) {
    std::vector<int64_t> st(r, 0);
    int64_t acc = 1;
    for (size_t k = 0; k < s.size(); ++k) {
      size_t i = s.size() - 1 - k;
      st[r - 1 - k] = s[i] == 1 ? 0 : acc;
      acc *= s[i];
    }
    b.strides.push_back(std::move(st));
  }
  return b;
}

namespace {

std::string check_binary(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return n.op_type + ": expects 2 inputs";
  DType a = n.input_dtypes[0], b = n.input_dtypes[1];
  if (a != DType::unknown && b != DType::unknown && a != b)
    return n.op_type + ": input dtypes differ (" + dtype_name(a) + " vs " + dtype_name(b) + ")";
  return require_dtype(n, 1, {DType::f32, DType::f64, DType::i64, DType::i32});
}

void compute_binary(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  binary_op(ctx.node.op_type, *in[0], *in[1], out[0], ctx.pool, ctx.simd);
}

// Pow: float32 bases. A float32 exponent uses powf (numpy's float32 power); an integer
// exponent is promoted to double with the base, as numpy promotes float32 ** int64.
std::string check_pow(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return "Pow: expects 2 inputs";
  if (n.opset < 12 && n.input_dtypes[1] != DType::unknown && n.input_dtypes[1] != n.input_dtypes[0])
    return "Pow: input dtypes differ";
  return require_dtype(n, 1, {DType::f32, DType::i64, DType::i32});
}

void compute_pow(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& E = *in[1];
  if (X.dtype != DType::f32) throw KernelError("Pow: float32 base only");
  if (E.dtype == DType::f32) {
    if (E.numel() == 1 && *E.ptr<float>() == 2.0f) {  // powf(x, 2) is exactly x * x
      broadcast_binary<float>(X, E, out[0], "Pow", ctx.pool, [](float x, float) { return x * x; });
      return;
    }
    broadcast_binary<float>(X, E, out[0], "Pow", ctx.pool, [](float x, float y) { return std::pow(x, y); });
    return;
  }
  Tensor Ef = Tensor::empty(DType::f32, E.shape);  // integers up to 2^24 convert exactly
  for (int64_t i = 0; i < E.numel(); ++i) {
    int64_t v = E.dtype == DType::i64 ? E.ptr<int64_t>()[i] : E.ptr<int32_t>()[i];
    if (v > (1 << 24) || v < -(1 << 24)) throw KernelError("Pow: integer exponent beyond +-2^24");
    Ef.ptr<float>()[i] = static_cast<float>(v);
  }
  broadcast_binary<float>(X, Ef, out[0], "Pow", ctx.pool, [](float x, float y) {
    return static_cast<float>(std::pow(static_cast<double>(x), static_cast<double>(y)));
  });
}

std::string check_prelu(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return "PRelu: expects 2 inputs";
  return require_dtype(n, 1, {DType::f32});
}

void compute_prelu(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  if (in[0]->dtype != DType::f32 || in[1]->dtype != DType::f32) throw KernelError("PRelu: float32 only");
  broadcast_binary<float>(*in[0], *in[1], out[0], "PRelu", ctx.pool,
                          [](float x, float s) { return x < 0.0f ? x * s : x; });
}

std::string check_sum(const NodeInfo& n) {
  if (n.input_dtypes.empty()) return "Sum: needs at least one input";
  for (size_t i = 0; i < n.input_dtypes.size(); ++i) {
    if (n.input_dtypes[i] == DType::none) return "Sum: absent input";
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  return "";
}

void compute_sum(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  if (in.size() == 1) {
    out[0] = in[0]->clone();
    return;
  }
  // Left to right, as onnx.reference adds them.
  binary_op("Add", *in[0], *in[1], out[0], ctx.pool, ctx.simd);
  for (size_t i = 2; i < in.size(); ++i) {
    Tensor next;
    binary_op("Add", out[0], *in[i], next, ctx.pool, ctx.simd);
    out[0] = std::move(next);
  }
}

// Unary float32 ops. Sigmoid follows onnx.reference's two-sided formula.
template <class Op>
void unary_f32(const Tensor& X, Tensor& Y, ThreadPool& pool, Op op) {
  Y = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  float* y = Y.ptr<float>();
  pool.parallel_for(X.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = op(x[i]);
  });
}

// Unary ops with vector paths in vmath.h: fn(x, y, n, simd).
void unary_vmath(const Tensor& X, Tensor& Y, ThreadPool& pool, int simd,
                 void (*fn)(const float*, float*, int64_t, int)) {
  Y = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  float* y = Y.ptr<float>();
  pool.parallel_for(X.numel(), 16384, [&](int64_t b, int64_t e) { fn(x + b, y + b, e - b, simd); });
}

void compute_unary(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::string& op = ctx.node.op_type;
  const Tensor& X = *in[0];
  Tensor& Y = out[0];
  ThreadPool& p = ctx.pool;
  if (X.dtype != DType::f32) throw KernelError(op + ": float32 only");
  if (op == "Relu" || op == "LeakyRelu") {
    float alpha = op == "Relu" ? 0.0f : ctx.node.attr_float("alpha", 0.01f);
#if XINRT_HAVE_NEON
    if (ctx.simd >= kSimdNeon) {
      Y = Tensor::empty(DType::f32, X.shape);
      const float* x = X.ptr<float>();
      float* y = Y.ptr<float>();
      p.parallel_for(X.numel(), 16384, [&](int64_t b, int64_t e) { leaky_relu_f32_neon(x + b, y + b, e - b, alpha); });
      return;
    }
#endif
    if (op == "Relu") unary_f32(X, Y, p, [](float v) { return v < 0.0f ? 0.0f : v; });
    else unary_f32(X, Y, p, [alpha](float v) { return v < 0.0f ? v * alpha : v; });
  } else if (op == "Sigmoid") {
    unary_vmath(X, Y, p, ctx.simd, sigmoid_f32);
  } else if (op == "Tanh") unary_vmath(X, Y, p, ctx.simd, tanh_f32);
  else if (op == "Exp") unary_vmath(X, Y, p, ctx.simd, exp_f32);
  else if (op == "Sqrt") unary_f32(X, Y, p, [](float v) { return std::sqrt(v); });
  else if (op == "Reciprocal") unary_f32(X, Y, p, [](float v) { return 1.0f / v; });
  else if (op == "Erf") unary_vmath(X, Y, p, ctx.simd, erf_f32); else if (op == "HardSigmoid") {
    float alpha = ctx.node.attr_float("alpha", 0.2f), beta = ctx.node.attr_float("beta", 0.5f);
    unary_f32(X, Y, p, [alpha, beta](float v) {
      float t = v * alpha;
      t = t + beta;
      return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);  // NaN passes, as in np.clip
    });
  } else if (op == "HardSwish") {
    unary_f32(X, Y, p, [](float v) {
      float t = v * (1.0f / 6.0f);
      t = t + 0.5f;
      return v * (t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t));
    });
  }
  else if (op == "Clip") {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (ctx.node.opset < 11) {  // the schema's defaults are the float32 limits, not infinities
      lo = ctx.node.attr_float("min", std::numeric_limits<float>::lowest());
      hi = ctx.node.attr_float("max", std::numeric_limits<float>::max());
    } else {
      for (size_t i = 1; i < 3 && i < in.size(); ++i) {
        if (!in[i]) continue;
        if (in[i]->dtype != DType::f32 || in[i]->numel() != 1)
          throw KernelError("Clip: min/max must be float32 scalars, got shape " + shape_str(in[i]->shape));
        (i == 1 ? lo : hi) = *in[i]->ptr<float>();
      }
    }
    // numpy's clip: minimum(maximum(x, lo), hi); NaN propagates.
    unary_f32(X, Y, p, [lo, hi](float v) {
      float t = v < lo ? lo : v;
      return t > hi ? hi : t;
    });
  } else {
    throw KernelError("no unary op " + op);
  }
}

// The fused Erf GELU (plan_fusion.cc): ((erf(x / div) + add) * x) * mul.
void compute_gelu_erf(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  if (X.dtype != DType::f32) throw KernelError("GeluErf: float32 only");
  float div = ctx.node.attr_float("div", 1.0f), add = ctx.node.attr_float("add", 1.0f),
        mul = ctx.node.attr_float("mul", 0.5f);
  out[0] = Tensor::empty(DType::f32, X.shape);
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  int simd = ctx.simd;
  ctx.pool.parallel_for(X.numel(), 8192, [&](int64_t b, int64_t e) {
    gelu_erf_f32(x + b, y + b, e - b, div, add, mul, simd);
  });
}

std::string check_clip(const NodeInfo& n) {
  for (size_t i = 1; i < n.input_dtypes.size(); ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
    if (n.input_rank(i) > 0 && known_numel(*n.input_shapes[i]) != 1)
      return "Clip: min/max inputs must be scalars";
  }
  return "";
}

}  // namespace

void register_elementwise(std::vector<Kernel>& k) {
  for (const char* op : {"Add", "Sub", "Mul", "Div"})
    k.push_back(Kernel(op).opsets(7, kMaxOpset).types({DType::f32, DType::f64, DType::i64, DType::i32})
                .check(check_binary).compute(compute_binary));
  k.push_back(Kernel("Sum").opsets(8, kMaxOpset).types({DType::f32}).check(check_sum).compute(compute_sum));
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "Exp", "Sqrt", "Reciprocal", "LeakyRelu"})
    k.push_back(Kernel(op).opsets(6, kMaxOpset).types({DType::f32}).compute(compute_unary));
  k.push_back(Kernel("Clip").opsets(6, kMaxOpset).types({DType::f32}).check(check_clip)
              .compute(compute_unary));
  k.push_back(Kernel("GeluErf", "xinrt").opsets(1, kMaxOpset).types({DType::f32}).compute(compute_gelu_erf));
  k.push_back(Kernel("Erf").opsets(9, kMaxOpset).types({DType::f32}).compute(compute_unary));
  k.push_back(Kernel("HardSigmoid").opsets(6, kMaxOpset).types({DType::f32}).compute(compute_unary));
  k.push_back(Kernel("HardSwish").opsets(14, kMaxOpset).types({DType::f32}).compute(compute_unary));
  k.push_back(Kernel("Pow").opsets(7, kMaxOpset).types({DType::f32}).check(check_pow).compute(compute_pow));
  k.push_back(Kernel("PRelu").opsets(7, kMaxOpset).types({DType::f32}).check(check_prelu)
              .compute(compute_prelu));
}

}  // namespace xinrt
