// Min, Max and Mean over any number of inputs, and Mod, all with numpy broadcasting.
// Min/Max propagate NaN (numpy's minimum/maximum); Mean adds left to right, then divides.
#include <cmath>
#include <string>
#include <type_traits>

#include "core/registry.h"
#include "kernels/elementwise.h"

namespace xinrt {
namespace {

const std::vector<DType> kMinMaxDTypes = {DType::f32, DType::f64, DType::i64, DType::i32, DType::i8, DType::u8};

std::string check_variadic(const NodeInfo& n) {
  if (n.input_dtypes.empty()) return n.op_type + ": needs at least one input";
  DType first = n.input_dtypes[0];
  for (size_t i = 0; i < n.input_dtypes.size(); ++i) {
    DType d = n.input_dtypes[i];
    if (d == DType::none) return n.op_type + ": absent input " + std::to_string(i);
    if (d != DType::unknown && first != DType::unknown && d != first)
      return n.op_type + ": input dtypes differ (" + dtype_name(first) + " vs " + dtype_name(d) + ")";
  }
  if (n.op_type == "Mean" || n.opset < 12) return require_dtype(n, 0, {DType::f32, DType::f64});
  return "";
}

// 0 Min, 1 Max, 2 Mean.
template <class T>
void variadic_typed(int code, const std::string& op, const std::vector<const Tensor*>& in, Tensor& Y,
                    ThreadPool& pool) {
  std::vector<Shape> shapes;
  for (const Tensor* t : in) shapes.push_back(t->shape);
  Broadcast b = broadcast_many(shapes, op);
  Y = Tensor::empty(in[0]->dtype, b.out);
  T* y = Y.ptr<T>();
  size_t k = in.size();
  int64_t r = static_cast<int64_t>(b.out.size());
  for_each_row(b, pool, [&](const int64_t* off, int64_t n, int64_t o) {
    for (int64_t i = 0; i < n; ++i) {
      T acc = in[0]->ptr<T>()[off[0] + (r ? i * b.strides[0][r - 1] : 0)];
      for (size_t j = 1; j < k; ++j) {
        T v = in[j]->ptr<T>()[off[j] + (r ? i * b.strides[j][r - 1] : 0)];
        if (code == 2) acc = acc + v;
        else if constexpr (std::is_floating_point<T>::value) {
          if (!std::isnan(acc) && (std::isnan(v) || (code == 0 ? v < acc : v > acc))) acc = v;
        } else if (code == 0 ? v < acc : v > acc) {
          acc = v;
        }
      }
      if constexpr (std::is_floating_point<T>::value)
        if (code == 2) acc = acc / static_cast<T>(k);
      y[o + i] = acc;
    }
  });
}

void compute_variadic(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::string& op = ctx.node.op_type;
  for (const Tensor* t : in)
    if (!t || t->dtype != in[0]->dtype) throw KernelError(op + ": inputs must all be present and of one dtype");
  int code = op == "Min" ? 0 : op == "Max" ? 1 : 2;
  DType d = in[0]->dtype;
  if (code == 2 && d != DType::f32 && d != DType::f64) throw KernelError("Mean: float32, float64 only");
  switch (d) {
    case DType::f32: variadic_typed<float>(code, op, in, out[0], ctx.pool); break;
    case DType::f64: variadic_typed<double>(code, op, in, out[0], ctx.pool); break;
    case DType::i64: variadic_typed<int64_t>(code, op, in, out[0], ctx.pool); break;
    case DType::i32: variadic_typed<int32_t>(code, op, in, out[0], ctx.pool); break;
    case DType::i8: variadic_typed<int8_t>(code, op, in, out[0], ctx.pool); break;
    case DType::u8: variadic_typed<uint8_t>(code, op, in, out[0], ctx.pool); break;
    default: throw KernelError(op + ": dtype " + dtype_name(d) + " not supported");
  }
}

// ---- Mod ----

std::string check_mod(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return "Mod: expects 2 inputs";
  DType a = n.input_dtypes[0], b = n.input_dtypes[1];
  if (a != DType::unknown && b != DType::unknown && a != b)
    return std::string("Mod: input dtypes differ (") + dtype_name(a) + " vs " + dtype_name(b) + ")";
  if ((a == DType::f32 || a == DType::f64) && n.attr_int("fmod", 0) != 1)
    return "Mod: float inputs need fmod=1 (the spec leaves fmod=0 on floats undefined)";
  return "";
}

// fmod=1: C's remainder (sign of the dividend); fmod=0: Python's (sign of the divisor).
// An integer divisor 0 gives 0, as numpy's does.
template <class T>
T mod_value(T x, T y, bool fmod) {
  if constexpr (std::is_floating_point<T>::value) {
    return std::fmod(x, y);
  } else {
    if (y == 0) return 0;
    if (std::is_signed<T>::value && y == T(-1)) return 0;  // INT_MIN % -1 overflows in C++
    T r = static_cast<T>(x % y);
    if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
    return r;
  }
}

template <class T>
void mod_typed(bool fmod, const Tensor& A, const Tensor& B, Tensor& Y, ThreadPool& pool) {
  Broadcast b = broadcast_many({A.shape, B.shape}, "Mod");
  Y = Tensor::empty(A.dtype, b.out);
  const T* a = A.ptr<T>();
  const T* c = B.ptr<T>();
  T* y = Y.ptr<T>();
  int64_t r = static_cast<int64_t>(b.out.size());
  int64_t sa = r ? b.strides[0][r - 1] : 0, sb = r ? b.strides[1][r - 1] : 0;
  for_each_row(b, pool, [&](const int64_t* off, int64_t n, int64_t o) {
    for (int64_t i = 0; i < n; ++i) y[o + i] = mod_value<T>(a[off[0] + i * sa], c[off[1] + i * sb], fmod);
  });
}

void compute_mod(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& A = *in[0];
  const Tensor& B = *in[1];
  if (A.dtype != B.dtype) throw KernelError("Mod: input dtypes differ");
  bool fmod = ctx.node.attr_int("fmod", 0) != 0;
  switch (A.dtype) {
    case DType::f32:
      if (!fmod) throw KernelError("Mod: float inputs need fmod=1");
      mod_typed<float>(fmod, A, B, out[0], ctx.pool);
      break;
    case DType::f64:
      if (!fmod) throw KernelError("Mod: float inputs need fmod=1");
      mod_typed<double>(fmod, A, B, out[0], ctx.pool);
      break;
    case DType::i64: mod_typed<int64_t>(fmod, A, B, out[0], ctx.pool); break;
    case DType::i32: mod_typed<int32_t>(fmod, A, B, out[0], ctx.pool); break;
    case DType::i8: mod_typed<int8_t>(fmod, A, B, out[0], ctx.pool); break;
    case DType::u8: mod_typed<uint8_t>(fmod, A, B, out[0], ctx.pool); break;
    default: throw KernelError(std::string("Mod: dtype ") + dtype_name(A.dtype) + " not supported");
  }
}

}  // namespace

void register_minmax_mod(std::vector<Kernel>& k) {
  for (const char* op : {"Min", "Max"})
    k.push_back(Kernel(op).opsets(8, kMaxOpset).types(kMinMaxDTypes).check(check_variadic)
                .compute(compute_variadic));
  k.push_back(Kernel("Mean").opsets(8, kMaxOpset).types({DType::f32, DType::f64}).check(check_variadic)
              .compute(compute_variadic));
  k.push_back(Kernel("Mod").opsets(10, kMaxOpset).types(kMinMaxDTypes).check(check_mod).compute(compute_mod));
}

}  // namespace xinrt
