// Gemm: Y = alpha * op(A) * op(B) + beta * C (C unidirectionally broadcast), opset 7+.
// A constant B is stored at plan time as op(B)^T [N, K] with alpha folded in: batch-1 inputs
// then run as contiguous dot products, larger ones as a packed SGEMM reading it transposed.
#include <algorithm>
#include <cstring>

#include "core/registry.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

struct GemmWeights {
  std::shared_ptr<float> nk;  // alpha * op(B)^T, row-major [N, K]
  int64_t n = 0, k = 0;
};

std::string check_gemm(const NodeInfo& n) {
  for (size_t i = 1; i < n.input_dtypes.size(); ++i) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  if (n.input_rank(0) > 0 && n.input_rank(0) != 2) return "Gemm: A must be 2-D";
  if (n.input_rank(1) > 0 && n.input_rank(1) != 2) return "Gemm: B must be 2-D";
  if (n.input_rank(2) > 2) return "Gemm: C must have rank <= 2";
  return "";
}

std::shared_ptr<void> prepare_gemm(const NodeInfo& n, int) {
  const Tensor* B = n.input_constants.size() > 1 ? n.input_constants[1] : nullptr;
  if (!B || B->dtype != DType::f32 || B->rank() != 2) return nullptr;
  bool trans_b = n.attr_int("transB", 0) != 0;
  float alpha = n.attr_float("alpha", 1.0f);
  auto w = std::make_shared<GemmWeights>();
  w->n = trans_b ? B->dim(0) : B->dim(1);
  w->k = trans_b ? B->dim(1) : B->dim(0);
  w->nk = alloc_floats(static_cast<size_t>(std::max<int64_t>(1, w->n * w->k)));
  const float* b = B->ptr<float>();
  for (int64_t i = 0; i < w->n; ++i)
    for (int64_t k = 0; k < w->k; ++k)
      w->nk.get()[i * w->k + k] = alpha * (trans_b ? b[i * w->k + k] : b[k * w->n + i]);
  return w;
}

void compute_gemm(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& A = *in[0];
  const Tensor& B = *in[1];
  const Tensor* C = in.size() > 2 ? in[2] : nullptr;
  if (A.dtype != DType::f32 || B.dtype != DType::f32 || (C && C->dtype != DType::f32))
    throw KernelError("Gemm: float32 only");
  if (A.rank() != 2 || B.rank() != 2) throw KernelError("Gemm: A and B must be 2-D");
  bool ta = ctx.node.attr_int("transA", 0) != 0, tb = ctx.node.attr_int("transB", 0) != 0;
  float alpha = ctx.node.attr_float("alpha", 1.0f), beta = ctx.node.attr_float("beta", 1.0f);
  int64_t M = ta ? A.dim(1) : A.dim(0), K = ta ? A.dim(0) : A.dim(1);
  int64_t N = tb ? B.dim(0) : B.dim(1), KB = tb ? B.dim(1) : B.dim(0);
  if (K != KB) throw KernelError("Gemm: inner dims differ, A " + shape_str(A.shape) + ", B " + shape_str(B.shape));
  out[0] = Tensor::empty(DType::f32, {M, N});
  float* y = out[0].ptr<float>();
  if (M * N == 0) return;
  // Y starts as beta * C (broadcast), or 0.
  if (C) {
    if (C->rank() > 2) throw KernelError("Gemm: C must have rank <= 2");
    int64_t cm = C->rank() == 2 ? C->dim(0) : 1, cn = C->rank() >= 1 ? C->dim(-1) : 1;
    if ((cm != 1 && cm != M) || (cn != 1 && cn != N))
      throw KernelError("Gemm: C " + shape_str(C->shape) + " does not broadcast to [" + std::to_string(M) +
                        ", " + std::to_string(N) + "]");
    const float* c = C->ptr<float>();
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) y[i * N + j] = beta * c[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
  } else {
    std::memset(y, 0, sizeof(float) * M * N);
  }
  const float* a = A.ptr<float>();
  const int64_t lda = A.dim(1);
  const GemmWeights* w = static_cast<const GemmWeights*>(ctx.state);
  if (w && M <= 4) {
    std::vector<float> row(static_cast<size_t>(K));
    for (int64_t i = 0; i < M; ++i) {
      const float* ar = a + i * lda;
      if (ta) {
        for (int64_t k = 0; k < K; ++k) row[k] = a[k * lda + i];
        ar = row.data();
      }
      float* yr = y + i * N;
      ctx.pool.parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) yr[n] += dot_f32(ar, w->nk.get() + n * K, K, ctx.simd);
      });
    }
    return;
  }
  if (K == 0) return;
  if (w) {
    auto packed = pack_a_new(a, lda, ta, M, K, 1.0f, ctx.simd);
    sgemm_packed(M, N, K, packed.get(), w->nk.get(), K, true, y, N, true, &ctx.pool, ctx.simd);
  } else {
    auto packed = pack_a_new(a, lda, ta, M, K, alpha, ctx.simd);
    sgemm_packed(M, N, K, packed.get(), B.ptr<float>(), B.dim(1), tb, y, N, true, &ctx.pool, ctx.simd);
  }
}

}  // namespace

void register_gemm(std::vector<Kernel>& k) {
  k.push_back(Kernel("Gemm").opsets(7, kMaxOpset).types({DType::f32}).check(check_gemm)
              .compute(compute_gemm).prepare(prepare_gemm));
}

}  // namespace xinrt
