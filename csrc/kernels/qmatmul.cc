// Integer matrix products on qgemm: MatMulInteger and QLinearMatMul (ai.onnx), and ONNX Runtime's
// com.microsoft MatMulIntegerToFloat and DynamicQuantizeMatMul (the ops quantize_dynamic models
// carry or ORT's optimizer makes of them). numpy matmul shapes: A [..., M, K], B [K, N] or batched
// [..., K, N]; a constant 2-D B (with constant zero points) is packed once at plan time.
//
//   MatMulInteger         Y int32 = (A - a_zero)(B - b_zero)
//   QLinearMatMul         Y q8    = saturate(round((A - a_zero)(B - b_zero) * (a_scale * b_scale / y_scale)) + y_zero)
//   MatMulIntegerToFloat  Y f32   = (A - a_zero)(B - b_zero) * (a_scale * b_scale) + bias
//   DynamicQuantizeMatMul Y f32   = the same with A quantized as DynamicQuantizeLinear does
#include <algorithm>
#include <vector>

#include "core/registry.h"
#include "kernels/batch_broadcast.h"
#include "kernels/qgemm.h"

namespace xinrt {
namespace {

// Where each op keeps its operands (-1: the op has no such input).
struct QLayout {
  int a, b, a_zero, b_zero, a_scale, b_scale, y_scale, y_zero, bias;
};
constexpr QLayout kMatMulInteger{0, 1, 2, 3, -1, -1, -1, -1, -1};
constexpr QLayout kQLinearMatMul{0, 3, 2, 5, 1, 4, 6, 7, -1};
constexpr QLayout kMatMulIntegerToFloat{0, 1, 4, 5, 2, 3, -1, -1, 6};
constexpr QLayout kDynamicQuantizeMatMul{0, 1, -1, 3, -1, 2, -1, -1, 4};

QLayout layout_of(const NodeInfo& n) {
  if (n.op_type == "QLinearMatMul") return kQLinearMatMul;
  if (n.op_type == "MatMulIntegerToFloat") return kMatMulIntegerToFloat;
  if (n.op_type == "DynamicQuantizeMatMul") return kDynamicQuantizeMatMul;
  return kMatMulInteger;
}

bool is_q8(DType d) { return d == DType::u8 || d == DType::i8; }

const Tensor* input(const std::vector<const Tensor*>& in, int i) {
  return i >= 0 && static_cast<size_t>(i) < in.size() ? in[i] : nullptr;
}

// Known element count of input i, or -1.
int64_t known_numel(const NodeInfo& n, int i) {
  if (i < 0 || static_cast<size_t>(i) >= n.input_shapes.size() || !n.input_shapes[i]) return -1;
  for (int64_t d : *n.input_shapes[i])
    if (d < 0) return -1;
  return xinrt::known_numel(*n.input_shapes[i]);
}

std::string check_qmatmul(const NodeInfo& n) {
  QLayout l = layout_of(n);
  const std::string& op = n.op_type;
  auto q8 = [&](int i, const char* what) -> std::string {
    if (i < 0 || !n.has_input(i)) return "";
    DType d = n.input_dtypes[i];
    if (d == DType::unknown || is_q8(d)) return "";
    return op + ": " + what + " of dtype " + dtype_name(d) + " not supported (uint8/int8 only)";
  };
  auto f32 = [&](int i, const char* what) -> std::string {
    if (i < 0 || !n.has_input(i)) return "";
    DType d = n.input_dtypes[i];
    if (d == DType::unknown || d == DType::f32) return "";
    return op + ": " + what + " of dtype " + dtype_name(d) + " not supported (float32 only)";
  };
  for (const std::string& r : {op == "DynamicQuantizeMatMul" ? f32(l.a, "A") : q8(l.a, "A"), q8(l.b, "B"),
                               q8(l.a_zero, "a_zero_point"), q8(l.b_zero, "b_zero_point"), q8(l.y_zero, "y_zero_point"),
                               f32(l.a_scale, "a_scale"), f32(l.b_scale, "b_scale"), f32(l.y_scale, "y_scale"),
                               f32(l.bias, "bias")})
    if (!r.empty()) return r;
  if (n.input_rank(l.a) == 0 || n.input_rank(l.b) == 0) return op + ": scalar operands are invalid";
  for (int i : {l.a_zero, l.a_scale, l.y_scale, l.y_zero}) {
    int64_t c = known_numel(n, i);
    if (c > 1) return op + ": per-row A (or output) scales and zero points are not supported (one value only)";
  }
  int64_t b_rank = n.input_rank(l.b);
  for (int i : {l.b_zero, l.b_scale}) {
    if (i < 0 || !n.has_input(i)) continue;
    if (n.input_rank(i) > 1) return op + ": B scales and zero points must be a scalar or one value per column";
    if (b_rank > 2 && known_numel(n, i) > 1) return op + ": per-column B parameters with a batched B are not supported";
  }
  if (l.bias >= 0 && n.has_input(l.bias) && n.input_rank(l.bias) > 1) return op + ": bias must be 1-D";
  return "";
}

std::vector<DType> qmatmul_dtypes(const NodeInfo& n) {
  if (n.op_type == "MatMulInteger") return {DType::i32};
  if (n.op_type == "QLinearMatMul") return {n.has_input(7) ? n.input_dtypes[7] : DType::unknown};
  return {DType::f32};
}

std::vector<int32_t> zero_points(const Tensor* z) {
  std::vector<int32_t> v;
  if (!z) return {0};
  for (int64_t i = 0; i < z->numel(); ++i)
    v.push_back(z->dtype == DType::i8 ? z->ptr<int8_t>()[i] : z->ptr<uint8_t>()[i]);
  return v;
}

std::shared_ptr<void> prepare_qmatmul(const NodeInfo& n, int simd) {
  QLayout l = layout_of(n);
  const Tensor* B = n.input_constants.size() > static_cast<size_t>(l.b) ? n.input_constants[l.b] : nullptr;
  if (!B || !is_q8(B->dtype) || B->rank() != 2) return nullptr;
  const Tensor* Z = nullptr;
  if (n.has_input(l.b_zero)) {
    Z = n.input_constants[l.b_zero];
    if (!Z || Z->dtype != B->dtype || (Z->numel() != 1 && Z->numel() != B->dim(1))) return nullptr;
  }
  std::vector<int32_t> z = zero_points(Z);
  return qpack_b(B->data, B->dtype == DType::i8, B->dim(0), B->dim(1), B->dim(1), false, z.data(),
                 static_cast<int64_t>(z.size()), simd);
}

float scalar_float(const Tensor* t, const std::string& op, const char* what) {
  if (!t || t->dtype != DType::f32 || t->numel() != 1)
    throw KernelError(op + ": " + what + " must be one float32 value");
  return *t->ptr<float>();
}

int32_t scalar_zero(const Tensor* t, DType expect, const std::string& op, const char* what) {
  if (!t) return 0;
  if (t->dtype != expect || t->numel() != 1)
    throw KernelError(op + ": " + what + " must be one " + dtype_name(expect) + " value, got " + dtype_name(t->dtype) +
                      " " + shape_str(t->shape));
  return zero_points(t)[0];
}

void compute_qmatmul(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const NodeInfo& node = ctx.node;
  const std::string& op = node.op_type;
  QLayout l = layout_of(node);
  const Tensor& A0 = *in[l.a];
  const Tensor& B = *in[l.b];
  const bool dynamic = op == "DynamicQuantizeMatMul";
  if (dynamic ? A0.dtype != DType::f32 : !is_q8(A0.dtype))
    throw KernelError(op + ": A of dtype " + dtype_name(A0.dtype) + " not supported");
  if (!is_q8(B.dtype)) throw KernelError(op + ": B must be uint8 or int8, got " + dtype_name(B.dtype));
  if (A0.rank() == 0 || B.rank() == 0) throw KernelError(op + ": scalar operands are invalid");

  // Shapes as numpy.matmul.
  Shape a = A0.shape, b = B.shape;
  bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  if (b[b.size() - 2] != K)
    throw KernelError(op + ": inner dimensions differ, shapes " + shape_str(A0.shape) + " and " + shape_str(B.shape));
  Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2), batch;
  if (!broadcast_shapes(batch_a, batch_b, &batch))
    throw KernelError(op + ": batch dims of " + shape_str(A0.shape) + " and " + shape_str(B.shape) + " cannot broadcast");
  Shape out_shape = batch;
  if (!a_vec) out_shape.push_back(M);
  if (!b_vec) out_shape.push_back(N);

  // A as 8-bit: DynamicQuantizeMatMul quantizes it exactly as DynamicQuantizeLinear does.
  Tensor Aq;
  float a_scale = 1.0f;
  int32_t a_zero = 0;
  if (dynamic) {
    uint8_t z;
    dynamic_quantize_params(A0.ptr<float>(), A0.numel(), &a_scale, &z, &ctx.pool, ctx.simd);
    a_zero = z;
    Aq = Tensor::empty(DType::u8, A0.shape);
    quantize_u8(A0.ptr<float>(), A0.numel(), a_scale, a_zero, Aq.ptr<uint8_t>(), &ctx.pool, ctx.simd);
  } else {
    a_zero = scalar_zero(input(in, l.a_zero), A0.dtype, op, "a_zero_point");
    if (l.a_scale >= 0) a_scale = scalar_float(input(in, l.a_scale), op, "a_scale");
  }
  const Tensor& A = dynamic ? Aq : A0;

  const Tensor* BZ = input(in, l.b_zero);
  if (BZ && (BZ->dtype != B.dtype || BZ->rank() > 1 || (BZ->numel() != 1 && (BZ->numel() != N || B.rank() > 2))))
    throw KernelError(op + ": b_zero_point must be one " + dtype_name(B.dtype) + " value or one per column (" +
                      std::to_string(N) + "), got " + dtype_name(BZ->dtype) + " " + shape_str(BZ->shape));

  QGemmOutput stage;
  std::vector<float> scales;
  DType y_dtype = DType::f32;
  if (op == "MatMulInteger") {
    stage.kind = QGemmOutput::kInt32;
    y_dtype = DType::i32;
  } else {
    const Tensor* BS = input(in, l.b_scale);
    if (!BS || BS->dtype != DType::f32 || BS->rank() > 1 || (BS->numel() != 1 && (BS->numel() != N || B.rank() > 2)))
      throw KernelError(op + ": b_scale must be one float32 value or one per column (" + std::to_string(N) + ")");
    float y_scale = l.y_scale >= 0 ? scalar_float(input(in, l.y_scale), op, "y_scale") : 1.0f;
    for (int64_t i = 0; i < BS->numel(); ++i) {
      float s = a_scale * BS->ptr<float>()[i];
      scales.push_back(l.y_scale >= 0 ? s / y_scale : s);
    }
    stage.scale = scales.data();
    stage.scale_count = static_cast<int64_t>(scales.size());
    if (op == "QLinearMatMul") {
      const Tensor* YZ = input(in, l.y_zero);
      y_dtype = YZ ? YZ->dtype : DType::u8;
      if (!is_q8(y_dtype)) throw KernelError(op + ": y_zero_point must be uint8 or int8");
      stage.kind = y_dtype == DType::u8 ? QGemmOutput::kUint8 : QGemmOutput::kInt8;
      stage.out_zero = scalar_zero(YZ, y_dtype, op, "y_zero_point");
    } else {
      stage.kind = QGemmOutput::kFloat;
      const Tensor* bias = input(in, l.bias);
      if (bias) {
        if (bias->dtype != DType::f32 || bias->numel() != N || b_vec)
          throw KernelError(op + ": bias must hold one float32 per output column (" + std::to_string(N) + ")");
        stage.float_bias = bias->ptr<float>();
      }
    }
  }
  out[0] = Tensor::empty(y_dtype, out_shape);
  Tensor& Y = out[0];
  if (Y.numel() == 0) return;
  if (K == 0) {  // empty sums: every acc is 0
    for (int64_t i = 0; i < Y.numel(); ++i) {
      int64_t n = i % N;
      float s = stage.scale ? stage.scale[stage.scale_count == 1 ? 0 : n] : 1.0f;
      if (y_dtype == DType::i32) Y.ptr<int32_t>()[i] = 0;
      else if (y_dtype == DType::f32) Y.ptr<float>()[i] = 0.0f * s + (stage.float_bias ? stage.float_bias[n] : 0.0f);
      else if (y_dtype == DType::u8) Y.ptr<uint8_t>()[i] = static_cast<uint8_t>(stage.out_zero);
      else Y.ptr<int8_t>()[i] = static_cast<int8_t>(stage.out_zero);
    }
    return;
  }
  std::vector<int32_t> bz = zero_points(BZ);
  const size_t esz = dtype_size(y_dtype);
  stage.ldc = N;
  auto* packed = static_cast<const QPackedB*>(ctx.state);
  if (packed && packed->simd == ctx.simd && packed->K == K && packed->N == N && B.rank() == 2) {
    stage.c = Y.data;
    qgemm(shape_numel(batch) * M, A.data, A.dtype == DType::i8, K, a_zero, *packed, stage, &ctx.pool, ctx.simd);
    return;
  }
  if (batch_b.empty() || shape_numel(batch_b) == 1) {  // one GEMM: A's batch rows stack into M
    auto pb = qpack_b(B.data, B.dtype == DType::i8, K, N, N, false, bz.data(), static_cast<int64_t>(bz.size()), ctx.simd);
    stage.c = Y.data;
    qgemm(shape_numel(batch) * M, A.data, A.dtype == DType::i8, K, a_zero, *pb, stage, &ctx.pool, ctx.simd);
    return;
  }
  // Batched B: one GEMM per batch item.
  const BatchOffsets offsets = batch_offsets(batch, batch_a, batch_b, M * K, K * N);
  for (int64_t t = 0; t < shape_numel(batch); ++t) {
    const int64_t oa = offsets.a[static_cast<size_t>(t)], ob = offsets.b[static_cast<size_t>(t)];
    auto pb = qpack_b(static_cast<const char*>(B.data) + ob, B.dtype == DType::i8, K, N, N, false, bz.data(),
                      static_cast<int64_t>(bz.size()), ctx.simd);
    QGemmOutput s = stage;
    s.c = static_cast<char*>(Y.data) + t * M * N * esz;
    qgemm(M, static_cast<const char*>(A.data) + oa, A.dtype == DType::i8, K, a_zero, *pb, s, &ctx.pool, ctx.simd);
  }
}

}  // namespace

void register_qmatmul(std::vector<Kernel>& k) {
  // typed_input -1: check_qmatmul checks every input's dtype (A and B may differ in signedness).
  k.push_back(Kernel("MatMulInteger").opsets(10, kMaxOpset).types({DType::u8, DType::i8}, kDTypesInCheck)
              .check(check_qmatmul).outputs(qmatmul_dtypes).compute(compute_qmatmul)
              .prepare(prepare_qmatmul));
  k.push_back(Kernel("QLinearMatMul").opsets(10, kMaxOpset).types({DType::u8, DType::i8}, kDTypesInCheck)
              .check(check_qmatmul).outputs(qmatmul_dtypes).compute(compute_qmatmul)
              .prepare(prepare_qmatmul));
  k.push_back(Kernel("MatMulIntegerToFloat", "com.microsoft").opsets(1, 1)
              .types({DType::u8, DType::i8}, kDTypesInCheck).check(check_qmatmul).outputs(qmatmul_dtypes)
              .compute(compute_qmatmul).prepare(prepare_qmatmul));
  k.push_back(Kernel("DynamicQuantizeMatMul", "com.microsoft").opsets(1, 1)
              .types({DType::f32}, kDTypesInCheck).check(check_qmatmul).outputs(qmatmul_dtypes)
              .compute(compute_qmatmul).prepare(prepare_qmatmul));
}

}  // namespace xinrt
