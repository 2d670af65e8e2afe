// MatMul with numpy semantics: batched, broadcasting batch dims, 1-D operands promoted and dropped.
//
// A constant 2-D B (a weight) is packed once at plan time into the micro-kernel's column
// panels; the plan may fuse a following bias Add (one value per column) into the GEMM, whose
// tiles then start from the bias. Batched products with a broadcast-free batch run one batch
// item per task, each packed and multiplied on one thread. At precision bf16 (kBf16Attr) a
// constant 2-D B is packed as bf16 pairs instead and the product runs in bf16 with fp32 sums
// (kernels/sbgemm.h).
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/simd_level.h"
#include "core/registry.h"
#include "kernels/batch_broadcast.h"
#include "kernels/gemv.h"
#include "kernels/sbgemm.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

size_t packed_b_size(int64_t K, int64_t N, int nr) { return static_cast<size_t>(std::max<int64_t>(K, 1) * round_up(std::max<int64_t>(N, 1), nr)); }

// B[K, N] (row stride ldb) into NR-column panels per KC block, zero-padded:
// block pc starts at pc * Npad; panel p of a block at p * kc * NR.
void pack_b_panels(const float* b, int64_t ldb, int64_t K, int64_t N, int nr, float* out) {
  int64_t Npad = round_up(N, nr);
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
    for (int64_t j = 0; j < Npad; j += nr) {
      float* dst = out + pc * Npad + j * kc;
      int64_t w = std::min<int64_t>(nr, N - j);
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = b + (pc + k) * ldb + j;
        float* d = dst + k * nr;
        std::memcpy(d, src, sizeof(float) * w);
        for (int64_t t = w; t < nr; ++t) d[t] = 0.0f;
      }
    }
  }
}

// C[m0:m1, n0:n1] = packedA * packedB (+ bias[n]), single-threaded.
void gemm_tile(const SgemmMicro& mk, int64_t M, int64_t N, int64_t K, const float* pa, const float* pb, float* c,
               int64_t ldc, const float* bias, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  int64_t Mpad = round_up(M, mk.mr), Npad = round_up(N, mk.nr);
  if (bias)
    for (int64_t m = m0; m < m1; ++m) std::memcpy(c + m * ldc + n0, bias + n0, sizeof(float) * (n1 - n0));
  if (K == 0 && !bias)
    for (int64_t m = m0; m < m1; ++m) std::fill(c + m * ldc + n0, c + m * ldc + n1, 0.0f);
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
    bool acc = bias || pc > 0;
    for (int64_t j = n0; j < n1; j += mk.nr) {
      const float* bp = pb + pc * Npad + j * kc;
      int nr = static_cast<int>(std::min<int64_t>(mk.nr, n1 - j));
      for (int64_t i = m0; i < m1; i += mk.mr) {
        int mr = static_cast<int>(std::min<int64_t>(mk.mr, m1 - i));
        mk.kernel(kc, pa + pc * Mpad + i * kc, bp, c + i * ldc + j, ldc, mr, nr, acc);
      }
    }
  }
}

struct PackedWeight {
  int simd;
  int64_t K, N;
  std::shared_ptr<float> data;      // fp32 panels, or
  std::shared_ptr<uint32_t> bf16;  // bf16 pairs (precision bf16)
};

std::shared_ptr<void> prepare_matmul(const NodeInfo& n, int simd) {
  const Tensor* B = n.input_constants.size() > 1 ? n.input_constants[1] : nullptr;
  if (!B || B->dtype != DType::f32 || B->rank() != 2) return nullptr;
  auto w = std::make_shared<PackedWeight>();
  w->simd = simd;
  w->K = B->dim(0);
  w->N = B->dim(1);
  if (n.has_attr(kBf16Attr) && simd >= kSimdAvx512Bf16) {
    w->bf16 = pack_b_bf16(B->ptr<float>(), w->N, w->K, w->N);
    return w;
  }
  int nr = sgemm_micro(simd).nr;
  w->data = alloc_floats(packed_b_size(w->K, w->N, nr));
  pack_b_panels(B->ptr<float>(), w->N, w->K, w->N, nr, w->data.get());
  return w;
}

std::string check_matmul(const NodeInfo& n) {
  bool fused_bias = n.has_attr(kFusedBiasAttr);
  if (n.input_dtypes.size() != (fused_bias ? 3u : 2u)) return "MatMul: expects 2 inputs";
  std::string r = require_dtype(n, 1, {DType::f32});
  if (!r.empty()) return r;
  if (n.input_rank(0) == 0 || n.input_rank(1) == 0) return "MatMul: scalar operands are invalid";
  return "";
}

using GemvFn = void (*)(const float*, int64_t, int, int64_t, int64_t, const float*, const float*, float*, int64_t,
                       int64_t, int64_t);

// gemv.h's kernel for the panels sgemm_micro(simd) packs (same NR).
GemvFn gemv_for(int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512) return gemv_panels_avx512;
  if (simd >= kSimdAvx2Fma) return gemv_panels_avx2;
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return gemv_panels_baseline12;
#endif
  return gemv_panels_baseline16;
}

// One GEMM of A[M, K] with a packed B, spread over the pool in row x column tiles (or, for a
// few rows, over column panels streamed once).
void gemm_packed_b(const KernelContext& ctx, const float* a, int64_t M, int64_t K, int64_t N, const float* pb,
                   const float* bias, float* y) {
  SgemmMicro mk = sgemm_micro(ctx.simd);
  if (M <= kGemvMaxRows) {
    GemvFn gemv = gemv_for(ctx.simd);
    int64_t panels = (N + mk.nr - 1) / mk.nr;
    int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(K * mk.nr, 1));  // ~32K MACs a chunk
    ctx.pool.parallel_for(panels, grain, [&](int64_t p0, int64_t p1) {
      gemv(a, K, static_cast<int>(M), K, N, pb, bias, y, N, p0, p1);
    });
    return;
  }
  auto pa = pack_a_new(a, K, false, M, K, 1.0f, ctx.simd);
  int threads = ctx.pool.num_threads();
  int64_t mb = round_up(std::min<int64_t>(M, threads > 1 ? 64 : 192), mk.mr);
  int64_t nb = round_up(std::min<int64_t>(N, threads > 1 ? 128 : 512), mk.nr);
  int64_t mt = (M + mb - 1) / mb, nt = (N + nb - 1) / nb;
  ctx.pool.parallel_for(mt * nt, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t m0 = (t / nt) * mb, n0 = (t % nt) * nb;
      gemm_tile(mk, M, N, K, pa.get(), pb, y, N, bias, m0, std::min(M, m0 + mb), n0, std::min(N, n0 + nb));
    }
  }, mt * nt);
}

void compute_matmul(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& A = *in[0];
  const Tensor& B = *in[1];
  const Tensor* bias = in.size() > 2 ? in[2] : nullptr;
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
  if (bias && (bias->dtype != DType::f32 || bias->numel() != N || b_vec))
    throw KernelError("MatMul: fused bias must hold one float32 per output column");
  if (Y.numel() == 0) return;
  const float* pa = A.ptr<float>();
  const float* pb = B.ptr<float>();
  float* py = Y.ptr<float>();
  const float* pbias = bias ? bias->ptr<float>() : nullptr;
  auto* w = static_cast<const PackedWeight*>(ctx.state);
  if (w && w->simd == ctx.simd && w->K == K && w->N == N && B.rank() == 2) {
    if (w->bf16) sbgemm_packed_b(shape_numel(batch) * M, N, K, pa, K, w->bf16.get(), pbias, py, N, &ctx.pool, ctx.simd);
    else gemm_packed_b(ctx, pa, shape_numel(batch) * M, K, N, w->data.get(), pbias, py);
    return;
  }
  if (batch_b.empty() || shape_numel(batch_b) == 1) {
    // One GEMM: A's batch rows stack into M.
    int64_t rows = shape_numel(batch) * M;  // B's batch dims are all 1, so batch == A's batch
    if (pbias) {
      std::shared_ptr<float> packed = alloc_floats(packed_b_size(K, N, sgemm_micro(ctx.simd).nr));
      pack_b_panels(pb, N, K, N, sgemm_micro(ctx.simd).nr, packed.get());
      gemm_packed_b(ctx, pa, rows, K, N, packed.get(), pbias, py);
      return;
    }
    auto packed = pack_a_new(pa, K, false, rows, K, 1.0f, ctx.simd);
    sgemm_packed(rows, N, K, packed.get(), pb, N, false, py, N, false, &ctx.pool, ctx.simd);
    return;
  }
  // General batched case: one batch item per task.
  const BatchOffsets offsets = batch_offsets(batch, batch_a, batch_b, M * K, K * N);
  SgemmMicro mk = sgemm_micro(ctx.simd);
  int64_t nb = shape_numel(batch);
  ctx.pool.parallel_for(nb, 1, [&](int64_t t0, int64_t t1) {
    std::shared_ptr<float> packed_a = alloc_floats(packed_a_size(M, K, ctx.simd));
    std::shared_ptr<float> packed_b = alloc_floats(packed_b_size(K, N, mk.nr));
    for (int64_t t = t0; t < t1; ++t) {
      pack_a(pa + offsets.a[t], K, false, M, K, 1.0f, packed_a.get(), ctx.simd);
      pack_b_panels(pb + offsets.b[t], N, K, N, mk.nr, packed_b.get());
      gemm_tile(mk, M, N, K, packed_a.get(), packed_b.get(), py + t * M * N, N, pbias, 0, M, 0, N);
    }
  }, nb);
}

}  // namespace

void register_matmul(std::vector<Kernel>& k) {
  k.push_back(Kernel("MatMul").opsets(1, kMaxOpset).types({DType::f32}).check(check_matmul)
              .compute(compute_matmul).prepare(prepare_matmul));
}

}  // namespace xinrt
