// xinrt QLinearGemm: the step the QDQ fusion (core/plan_qdq_fusion.cc) makes of
// DQ(a) + DQ(b const) [+ DQ(bias int32)] -> Gemm/MatMul -> Q, as ORT makes QGemm/QLinearMatMul:
//   y = saturate(round_half_even((sum_k (a - a_zero)(b - b_zero[n]) + bias[n]) *
//       (a_scale * b_scale[n] / y_scale)) + y_zero)
// Inputs: a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero[, bias]. b is [K, N] ([N, K]
// with transB = 1) with a per-tensor or per-column scale and zero point; a is [M, K] (MatMul:
// any rank >= 2, its leading dims flattened into M).
#include <algorithm>

#include "core/registry.h"
#include "kernels/qgemm.h"

namespace xinrt {

namespace {

bool is_int8(DType d) { return d == DType::u8 || d == DType::i8; }

int32_t int8_value(const Tensor& t, int64_t i) {
  return t.dtype == DType::u8 ? static_cast<int32_t>(t.ptr<uint8_t>()[i]) : static_cast<int32_t>(t.ptr<int8_t>()[i]);
}

std::string check_qlineargemm(const NodeInfo& n) {
  if (n.input_dtypes.size() < 8) return "QLinearGemm: expected 8 or 9 inputs";
  for (size_t i : {0, 2, 3, 5, 7})
    if (n.input_dtypes[i] != DType::unknown && !is_int8(n.input_dtypes[i]))
      return "QLinearGemm: quantized inputs must be uint8 or int8";
  for (size_t i : {1, 4, 6})
    if (n.input_dtypes[i] != DType::unknown && n.input_dtypes[i] != DType::f32)
      return "QLinearGemm: scales must be float32";
  if (n.input_rank(3) >= 0 && n.input_rank(3) != 2) return "QLinearGemm: b must be 2-D";
  return "";
}

std::vector<DType> qlineargemm_dtypes(const NodeInfo& n) { return {n.input_dtypes[7]}; }

// K and N of b, and its per-column zero points (1 value when per tensor).
void b_layout(const Tensor& B, bool trans_b, int64_t* K, int64_t* N) {
  if (B.rank() != 2) throw KernelError("QLinearGemm: b must be 2-D, got " + shape_str(B.shape));
  *K = B.dim(trans_b ? 1 : 0);
  *N = B.dim(trans_b ? 0 : 1);
}

std::shared_ptr<QPackedB> pack(const Tensor& B, const Tensor* zero, bool trans_b, int simd) {
  int64_t K, N;
  b_layout(B, trans_b, &K, &N);
  if (zero && (zero->dtype != B.dtype || (zero->numel() != 1 && zero->numel() != N)))
    throw KernelError("QLinearGemm: b_zero_point must be " + std::string(dtype_name(B.dtype)) + " with 1 or " +
                      std::to_string(N) + " values");
  std::vector<int32_t> z;
  for (int64_t i = 0; zero && i < zero->numel(); ++i) z.push_back(int8_value(*zero, i));
  if (z.empty()) z.push_back(0);
  return qpack_b(B.data, B.dtype == DType::i8, K, N, trans_b ? K : N, trans_b, z.data(),
                 static_cast<int64_t>(z.size()), simd);
}

std::shared_ptr<void> prepare_qlineargemm(const NodeInfo& n, int simd) {
  const Tensor* B = n.input_constants.size() > 3 ? n.input_constants[3] : nullptr;
  const Tensor* Z = n.input_constants.size() > 5 ? n.input_constants[5] : nullptr;
  if (!B || !is_int8(B->dtype) || B->rank() != 2 || (n.has_input(5) && !Z)) return nullptr;
  return pack(*B, Z, n.attr_int("transB", 0) != 0, simd);
}

float one_float(const Tensor* t, const char* what) {
  if (!t || t->dtype != DType::f32 || t->numel() != 1)
    throw KernelError(std::string("QLinearGemm: ") + what + " must be one float32 value");
  return *t->ptr<float>();
}

void compute_qlineargemm(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor &A = *in[0], &B = *in[3];
  const bool trans_b = ctx.node.attr_int("transB", 0) != 0;
  if (!is_int8(A.dtype) || !is_int8(B.dtype)) throw KernelError("QLinearGemm: a and b must be uint8 or int8");
  int64_t K, N;
  b_layout(B, trans_b, &K, &N);
  if (A.rank() < 1 || A.dim(-1) != K)
    throw KernelError("QLinearGemm: a " + shape_str(A.shape) + " does not match b " + shape_str(B.shape));
  const Tensor* az = in[2];
  if (!az || az->dtype != A.dtype || az->numel() != 1)
    throw KernelError("QLinearGemm: a_zero_point must be one " + std::string(dtype_name(A.dtype)) + " value");
  const Tensor* bs = in[4];
  if (!bs || bs->dtype != DType::f32 || (bs->numel() != 1 && bs->numel() != N))
    throw KernelError("QLinearGemm: b_scale must be float32 with 1 or " + std::to_string(N) + " values");
  const Tensor* yz = in[7];
  if (!yz || !is_int8(yz->dtype) || yz->numel() != 1)
    throw KernelError("QLinearGemm: y_zero_point must be one uint8 or int8 value");
  const Tensor* bias = in.size() > 8 ? in[8] : nullptr;
  if (bias && (bias->dtype != DType::i32 || bias->numel() != N))
    throw KernelError("QLinearGemm: bias must be int32 with " + std::to_string(N) + " values, got " +
                      dtype_name(bias->dtype) + " " + shape_str(bias->shape));
  float a_scale = one_float(in[1], "a_scale"), y_scale = one_float(in[6], "y_scale");
  std::vector<float> scales(static_cast<size_t>(bs->numel()));
  for (size_t i = 0; i < scales.size(); ++i) scales[i] = a_scale * bs->ptr<float>()[i] / y_scale;
  std::shared_ptr<QPackedB> own;
  const QPackedB* packed = static_cast<const QPackedB*>(ctx.state);
  if (!packed) {
    own = pack(B, in[5], trans_b, ctx.simd);
    packed = own.get();
  }
  Shape shape(A.shape.begin(), A.shape.end() - 1);
  shape.push_back(N);
  out[0] = Tensor::empty(yz->dtype, shape);
  const int64_t M = shape_numel(Shape(A.shape.begin(), A.shape.end() - 1));
  if (out[0].numel() == 0) return;
  QGemmOutput o;
  o.kind = yz->dtype == DType::u8 ? QGemmOutput::kUint8 : QGemmOutput::kInt8;
  o.c = out[0].data;
  o.ldc = N;
  o.scale = scales.data();
  o.scale_count = bs->numel();
  o.bias = bias ? bias->ptr<int32_t>() : nullptr;
  o.out_zero = int8_value(*yz, 0);
  qgemm(M, A.data, A.dtype == DType::i8, K, int8_value(*az, 0), *packed, o, &ctx.pool, ctx.simd);
  if (ctx.node.has_attr(kFusedActivationAttr)) {  // Q(max(v, 0)) = max(Q(v), y_zero)
    if (o.kind == QGemmOutput::kUint8)
      for (int64_t i = 0; i < out[0].numel(); ++i)
        out[0].ptr<uint8_t>()[i] = std::max<uint8_t>(out[0].ptr<uint8_t>()[i], static_cast<uint8_t>(o.out_zero));
    else
      for (int64_t i = 0; i < out[0].numel(); ++i)
        out[0].ptr<int8_t>()[i] = std::max<int8_t>(out[0].ptr<int8_t>()[i], static_cast<int8_t>(o.out_zero));
  }
}

}  // namespace

void register_qconv_gemm(std::vector<Kernel>& k) {
  k.push_back(Kernel("QLinearGemm", "xinrt").opsets(1, 1).types({DType::u8, DType::i8})
              .check(check_qlineargemm).outputs(qlineargemm_dtypes).compute(compute_qlineargemm)
              .prepare(prepare_qlineargemm));
}

}  // namespace xinrt
