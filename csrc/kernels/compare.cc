// Comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual) -> bool, Not, and Where,
// all with numpy broadcasting.
#include <cstring>

#include "core/registry.h"
#include "kernels/elementwise.h"

namespace xinrt {
namespace {

const std::vector<DType> kCompareDTypes = {DType::f32, DType::f64, DType::i64, DType::i32, DType::boolean};

std::string check_compare(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return n.op_type + ": expects 2 inputs";
  DType a = n.input_dtypes[0], b = n.input_dtypes[1];
  if (a != DType::unknown && b != DType::unknown && a != b)
    return n.op_type + ": input dtypes differ (" + dtype_name(a) + " vs " + dtype_name(b) + ")";
  if (n.op_type != "Equal" && a == DType::boolean) return n.op_type + ": bool inputs not supported";
  return "";
}

template <class T>
void compare_typed(const std::string& op, const Tensor& A, const Tensor& B, Tensor& Y, ThreadPool& pool) {
  Broadcast b = broadcast_many({A.shape, B.shape}, op);
  Y = Tensor::empty(DType::boolean, b.out);
  const T* a = A.ptr<T>();
  const T* c = B.ptr<T>();
  uint8_t* y = Y.ptr<uint8_t>();
  int64_t r = static_cast<int64_t>(b.out.size());
  int64_t sa = r ? b.strides[0][r - 1] : 0, sb = r ? b.strides[1][r - 1] : 0;
  int kind = op == "Equal" ? 0 : op == "Less" ? 1 : op == "Greater" ? 2 : op == "LessOrEqual" ? 3 : 4;
  for_each_row(b, pool, [&](const int64_t* off, int64_t n, int64_t o) {
    const T* pa = a + off[0];
    const T* pb = c + off[1];
    uint8_t* py = y + o;
    for (int64_t i = 0; i < n; ++i) {
      T x = pa[i * sa], z = pb[i * sb];
      bool v = kind == 0 ? x == z : kind == 1 ? x < z : kind == 2 ? x > z : kind == 3 ? x <= z : x >= z;
      py[i] = v;
    }
  });
}

void compute_compare(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& A = *in[0];
  const Tensor& B = *in[1];
  const std::string& op = ctx.node.op_type;
  if (A.dtype != B.dtype) throw KernelError(op + ": input dtypes differ");
  switch (A.dtype) {
    case DType::f32: compare_typed<float>(op, A, B, out[0], ctx.pool); break;
    case DType::f64: compare_typed<double>(op, A, B, out[0], ctx.pool); break;
    case DType::i64: compare_typed<int64_t>(op, A, B, out[0], ctx.pool); break;
    case DType::i32: compare_typed<int32_t>(op, A, B, out[0], ctx.pool); break;
    case DType::boolean: compare_typed<uint8_t>(op, A, B, out[0], ctx.pool); break;
    default: throw KernelError(op + ": dtype " + dtype_name(A.dtype) + " not supported");
  }
}

std::vector<DType> bool_output(const NodeInfo&) { return {DType::boolean}; }

void compute_not(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  out[0] = Tensor::empty(DType::boolean, X.shape);
  const uint8_t* x = X.ptr<uint8_t>();
  uint8_t* y = out[0].ptr<uint8_t>();
  for (int64_t i = 0; i < X.numel(); ++i) y[i] = !x[i];
}

// ---- Where ----

std::string check_where(const NodeInfo& n) {
  if (n.input_dtypes.size() != 3) return "Where: expects 3 inputs";
  std::string r = require_dtype(n, 0, {DType::boolean});
  if (!r.empty()) return r;
  DType a = n.input_dtypes[1], b = n.input_dtypes[2];
  if (a != DType::unknown && b != DType::unknown && a != b) return "Where: X and Y dtypes differ";
  return "";
}

void compute_where(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& C = *in[0];
  const Tensor& X = *in[1];
  const Tensor& Y = *in[2];
  if (C.dtype != DType::boolean || X.dtype != Y.dtype) throw KernelError("Where: bool condition and equal X/Y dtypes expected");
  Broadcast b = broadcast_many({C.shape, X.shape, Y.shape}, "Where");
  out[0] = Tensor::empty(X.dtype, b.out);
  size_t es = dtype_size(X.dtype);
  const uint8_t* c = C.ptr<uint8_t>();
  const char* x = static_cast<const char*>(X.data);
  const char* y = static_cast<const char*>(Y.data);
  char* o = static_cast<char*>(out[0].data);
  int64_t r = static_cast<int64_t>(b.out.size());
  int64_t sc = r ? b.strides[0][r - 1] : 0, sx = r ? b.strides[1][r - 1] : 0, sy = r ? b.strides[2][r - 1] : 0;
  for_each_row(b, ctx.pool, [&](const int64_t* off, int64_t n, int64_t base) {
    for (int64_t i = 0; i < n; ++i) {
      const char* src = c[off[0] + i * sc] ? x + (off[1] + i * sx) * es : y + (off[2] + i * sy) * es;
      std::memcpy(o + (base + i) * es, src, es);
    }
  });
}

std::vector<DType> where_dtypes(const NodeInfo& n) { return {n.input_dtypes[1]}; }

}  // namespace

void register_compare(std::vector<Kernel>& k) {
  for (const char* op : {"Equal", "Less", "Greater"})
    k.push_back(Kernel(op).opsets(7, kMaxOpset).types(kCompareDTypes).check(check_compare)
                .outputs(bool_output).compute(compute_compare));
  for (const char* op : {"LessOrEqual", "GreaterOrEqual"})
    k.push_back(Kernel(op).opsets(12, kMaxOpset).types(kCompareDTypes).check(check_compare)
                .outputs(bool_output).compute(compute_compare));
  k.push_back(Kernel("Not").opsets(1, kMaxOpset).types({DType::boolean}).outputs(bool_output)
              .compute(compute_not));
  k.push_back(Kernel("Where").opsets(9, kMaxOpset)
              .types({DType::f32, DType::f64, DType::f16, DType::i64, DType::i32, DType::i8, DType::u8, DType::boolean}, 1)
              .check(check_where).outputs(where_dtypes).compute(compute_where));
}

}  // namespace xinrt
