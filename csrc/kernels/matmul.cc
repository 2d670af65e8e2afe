// MatMul with numpy semantics: batched, broadcasting batch dims, 1-D operands promoted and dropped.
#include <algorithm>

#include "core/registry.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

std::string check_matmul(const NodeInfo& n) {
  if (n.input_dtypes.size() != 2) return "MatMul: expects 2 inputs";
  std::string r = require_dtype(n, 1, {DType::f32});
  if (!r.empty()) return r;
  if (n.input_rank(0) == 0 || n.input_rank(1) == 0) return "MatMul: scalar operands are invalid";
  return "";
}

void compute_matmul(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& A = *in[0];
  const Tensor& B = *in[1];
  if (A.dtype != DType::f32 || B.dtype != DType::f32) throw KernelError("MatMul: float32 only");
  if (A.rank() == 0 || B.rank() == 0) throw KernelError("MatMul: scalar operands are invalid");
  Shape a = A.shape, b = B.shape;
  bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  if (b[b.size() - 2] != K)
    throw KernelError("MatMul: inner dimensions differ, shapes " + shape_str(A.shape) + " and " +
                      shape_str(B.shape));
  Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2), batch;
  if (!broadcast_shapes(batch_a, batch_b, &batch))
    throw KernelError("MatMul: batch dims of " + shape_str(A.shape) + " and " + shape_str(B.shape) +
                      " cannot broadcast");
  Shape out_shape = batch;
  if (!a_vec) out_shape.push_back(M);
  if (!b_vec) out_shape.push_back(N);
  Tensor& Y = out[0];
  Y = Tensor::empty(DType::f32, out_shape);
  if (Y.numel() == 0) return;
  const float* pa = A.ptr<float>();
  const float* pb = B.ptr<float>();
  float* py = Y.ptr<float>();
  if (batch_b.empty() || shape_numel(batch_b) == 1) {
    // One GEMM: A's batch rows stack into M.
    int64_t rows = shape_numel(batch) * M;  // B's batch dims are all 1, so batch == A's batch
    auto packed = pack_a_new(pa, K, false, rows, K, 1.0f, ctx.simd);
    sgemm_packed(rows, N, K, packed.get(), pb, N, false, py, N, false, &ctx.pool, ctx.simd);
    return;
  }
  // General batched case: batch strides with 0 on broadcast dims.
  size_t r = batch.size();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  int64_t acc_a = M * K, acc_b = K * N;
  for (size_t k = 0; k < r; ++k) {
    size_t i = r - 1 - k;
    int64_t da = k < batch_a.size() ? batch_a[batch_a.size() - 1 - k] : 1;
    int64_t db = k < batch_b.size() ? batch_b[batch_b.size() - 1 - k] : 1;
    sa[i] = da == 1 ? 0 : acc_a;
    sb[i] = db == 1 ? 0 : acc_b;
    acc_a *= da;
    acc_b *= db;
  }
  auto packed = alloc_floats(packed_a_size(M, K, ctx.simd));
  int64_t nb = shape_numel(batch);
  int64_t last_a = -1;
  for (int64_t t = 0; t < nb; ++t) {
    int64_t oa = 0, ob = 0, rem = t;
    for (int64_t d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
      int64_t idx = rem % batch[d];
      rem /= batch[d];
      oa += idx * sa[d];
      ob += idx * sb[d];
    }
    if (oa != last_a) pack_a(pa + oa, K, false, M, K, 1.0f, packed.get(), ctx.simd);
    last_a = oa;
    sgemm_packed(M, N, K, packed.get(), pb + ob, N, false, py + t * M * N, N, false, &ctx.pool, ctx.simd);
  }
}

}  // namespace

void register_matmul(std::vector<Kernel>& k) {
  k.push_back({"MatMul", "", 1, kMaxOpset, {DType::f32}, 0, check_matmul, nullptr, compute_matmul, nullptr});
}

}  // namespace xinrt
