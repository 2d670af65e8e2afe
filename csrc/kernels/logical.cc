// Logical and bitwise ops with numpy broadcasting: And, Or, Xor (bool), BitShift (uint8, the
// only unsigned type the engine has), BitwiseAnd/Or/Xor and BitwiseNot (integer types).
#include <string>

#include "core/registry.h"
#include "kernels/elementwise.h"

namespace xinrt {
namespace {

const std::vector<DType> kIntDTypes = {DType::i64, DType::i32, DType::i8, DType::u8};

std::string check_same_dtypes(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return n.op_type + ": expects 2 inputs";
  DType a = n.input_dtypes[0], b = n.input_dtypes[1];
  if (a != DType::unknown && b != DType::unknown && a != b)
    return n.op_type + ": input dtypes differ (" + dtype_name(a) + " vs " + dtype_name(b) + ")";
  if (n.op_type == "BitShift") {
    std::string dir = n.attr_string("direction", "");
    if (dir != "LEFT" && dir != "RIGHT") return "BitShift: direction must be LEFT or RIGHT, got '" + dir + "'";
  }
  return "";
}

// 0 And, 1 Or, 2 Xor (on bools and on bits), 3 shift left, 4 shift right.
int op_code(const std::string& op, const NodeInfo& n) {
  if (op == "And" || op == "BitwiseAnd") return 0;
  if (op == "Or" || op == "BitwiseOr") return 1;
  if (op == "Xor" || op == "BitwiseXor") return 2;
  return n.attr_string("direction", "") == "LEFT" ? 3 : 4;
}

template <class T>
void logical_typed(int code, const std::string& op, const Tensor& A, const Tensor& B, Tensor& Y, ThreadPool& pool) {
  Broadcast b = broadcast_many({A.shape, B.shape}, op);
  Y = Tensor::empty(A.dtype, b.out);
  const T* a = A.ptr<T>();
  const T* c = B.ptr<T>();
  T* y = Y.ptr<T>();
  int64_t r = static_cast<int64_t>(b.out.size());
  int64_t sa = r ? b.strides[0][r - 1] : 0, sb = r ? b.strides[1][r - 1] : 0;
  for_each_row(b, pool, [&](const int64_t* off, int64_t n, int64_t o) {
    const T* pa = a + off[0];
    const T* pb = c + off[1];
    for (int64_t i = 0; i < n; ++i) {
      T x = pa[i * sa], z = pb[i * sb];
      T v;
      if (code == 0) v = x & z;
      else if (code == 1) v = x | z;
      else if (code == 2) v = x ^ z;
      else if (z >= static_cast<T>(8 * sizeof(T))) v = 0;  // numpy: shifting out every bit gives 0
      else v = static_cast<T>(code == 3 ? x << z : x >> z);
      y[o + i] = v;
    }
  });
}

void compute_logical(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::string& op = ctx.node.op_type;
  const Tensor& A = *in[0];
  const Tensor& B = *in[1];
  if (A.dtype != B.dtype) throw KernelError(op + ": input dtypes differ");
  int code = op_code(op, ctx.node);
  switch (A.dtype) {
    case DType::boolean:
    case DType::u8: logical_typed<uint8_t>(code, op, A, B, out[0], ctx.pool); break;
    case DType::i8: logical_typed<int8_t>(code, op, A, B, out[0], ctx.pool); break;
    case DType::i32: logical_typed<int32_t>(code, op, A, B, out[0], ctx.pool); break;
    case DType::i64: logical_typed<int64_t>(code, op, A, B, out[0], ctx.pool); break;
    default: throw KernelError(op + ": dtype " + dtype_name(A.dtype) + " not supported");
  }
}

void compute_bitwise_not(const KernelContext&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  out[0] = Tensor::empty(X.dtype, X.shape);
  // ~ on every byte is ~ on the value for two's complement integers of any width.
  const uint8_t* x = static_cast<const uint8_t*>(X.data);
  uint8_t* y = static_cast<uint8_t*>(out[0].data);
  size_t n = X.nbytes();
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<uint8_t>(~x[i]);
}

}  // namespace

void register_logical(std::vector<Kernel>& k) {
  for (const char* op : {"And", "Or", "Xor"})
    k.push_back(Kernel(op).opsets(7, kMaxOpset).types({DType::boolean}).check(check_same_dtypes)
                .compute(compute_logical));
  k.push_back(Kernel("BitShift").opsets(11, kMaxOpset).types({DType::u8}).check(check_same_dtypes)
              .compute(compute_logical));
  for (const char* op : {"BitwiseAnd", "BitwiseOr", "BitwiseXor"})
    k.push_back(Kernel(op).opsets(18, kMaxOpset).types(kIntDTypes).check(check_same_dtypes)
                .compute(compute_logical));
  k.push_back(Kernel("BitwiseNot").opsets(18, kMaxOpset).types(kIntDTypes).compute(compute_bitwise_not));
}

}  // namespace xinrt
