#include "core/simd_level.h"
#include "kernels/sgemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/tensor.h"

namespace xinrt {

SgemmMicro sgemm_micro(int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512) return {12, 32, sgemm_kernel_12x32_avx512, sgemm_kernel_12x32_avx512_store};
  if (simd >= kSimdAvx2Fma) return {6, 16, sgemm_kernel_6x16_avx2};
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeon) return {8, 12, sgemm_kernel_8x12_neon};
#endif
  return {6, 16, sgemm_kernel_6x16_baseline};
}

namespace {
constexpr int64_t kMC = 288;  // most rows of A per task (a multiple of every MR; <= 288 KB of packed A)
constexpr int64_t kNC = 256;  // columns of B per task (blocks are then cut into whole NR panels)

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Copies one panel row: full panels with a constant size, so the copy is inlined.
inline void copy_panel_row(float* d, const float* src, int64_t w, int nr) {
  if (w == 32 && nr == 32) {
    std::memcpy(d, src, sizeof(float) * 32);
  } else if (w == 16 && nr == 16) {
    std::memcpy(d, src, sizeof(float) * 16);
  } else if (w == 12 && nr == 12) {
    std::memcpy(d, src, sizeof(float) * 12);
  } else {
    std::memcpy(d, src, sizeof(float) * w);
    for (int64_t j = w; j < nr; ++j) d[j] = 0.0f;
  }
}

void pack_b_rows(const float* b, const int64_t* row_offsets, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                 int nr, float* out) {
  for (int64_t p = 0; p < nc; p += nr) {
    int64_t w = std::min<int64_t>(nr, nc - p);
    float* dst = out + (p / nr) * kc * nr;
    for (int64_t k = 0; k < kc; ++k) copy_panel_row(dst + k * nr, b + row_offsets[k0 + k] + n0 + p, w, nr);
  }
}

void pack_b(const float* b, int64_t ldb, bool trans, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr,
            float* out) {
  for (int64_t p = 0; p < nc; p += nr) {
    int64_t w = std::min<int64_t>(nr, nc - p);
    float* dst = out + (p / nr) * kc * nr;
    if (!trans) {
      for (int64_t k = 0; k < kc; ++k) copy_panel_row(dst + k * nr, b + (k0 + k) * ldb + n0 + p, w, nr);
    } else {
      for (int64_t j = 0; j < nr; ++j) {
        if (j >= w) {
          for (int64_t k = 0; k < kc; ++k) dst[k * nr + j] = 0.0f;
          continue;
        }
        const float* src = b + (n0 + p + j) * ldb + k0;
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + j] = src[k];
      }
    }
  }
}
}  // namespace

size_t packed_a_size(int64_t M, int64_t K, int simd) {
  return static_cast<size_t>(round_up(std::max<int64_t>(M, 1), sgemm_micro(simd).mr) * std::max<int64_t>(K, 1));
}

void pack_a(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha, float* packed, int simd) {
  const int mr = sgemm_micro(simd).mr;
  int64_t Mpad = round_up(M, mr);
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
    for (int64_t i = 0; i < Mpad; i += mr) {
      float* dst = packed + pc * Mpad + i * kc;
      for (int64_t r = 0; r < mr; ++r) {
        int64_t m = i + r;
        for (int64_t k = 0; k < kc; ++k) {
          float v = 0.0f;
          if (m < M) v = alpha * (trans ? a[(pc + k) * lda + m] : a[m * lda + pc + k]);
          dst[k * mr + r] = v;
        }
      }
    }
  }
}

std::shared_ptr<float> pack_a_new(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha,
                                  int simd) {
  std::shared_ptr<float> p = alloc_floats(packed_a_size(M, K, simd));
  pack_a(a, lda, trans, M, K, alpha, p.get(), simd);
  return p;
}

void sgemm_kernel_6x16_baseline(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                int mr, int nr, bool accumulate) {
  constexpr int kGemmMR = 6, kGemmNR = 16;
  float acc[kGemmMR][kGemmNR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const float* bk = b + k * kGemmNR;
    const float* ak = a + k * kGemmMR;
    for (int r = 0; r < kGemmMR; ++r)
      for (int j = 0; j < kGemmNR; ++j) acc[r][j] += ak[r] * bk[j];
  }
  for (int r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    for (int j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + acc[r][j] : acc[r][j];
  }
}

namespace {

// The blocked, threaded GEMM loop; get_b(k0, kc, n0, nc, nr, scratch) returns a KC x NC block
// of B in NR-column panels (packed into scratch, or found already packed).
void tile_prologue(const GemmEpilogue& ep, float* c, int64_t ldc, int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
  for (int64_t m = m0; m < m0 + mc; ++m) {
    float* row = c + m * ldc + n0;
    float b = ep.bias ? ep.bias[m] : 0.0f;
    if (ep.residual) {
      const float* r = ep.residual + m * ldc + n0;
      for (int64_t j = 0; j < nc; ++j) row[j] = r[j] + b;
    } else {
      for (int64_t j = 0; j < nc; ++j) row[j] = b;
    }
  }
}

void tile_relu(float* c, int64_t ldc, int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
  for (int64_t m = m0; m < m0 + mc; ++m) {
    float* row = c + m * ldc + n0;
    for (int64_t j = 0; j < nc; ++j) row[j] = row[j] < 0.0f ? 0.0f : row[j];
  }
}

// Where a KC x NC block of B sits: panel q's row k at data + q * panel + k * ldb.
struct BBlock {
  const float* data;
  int64_t ldb, panel;
};

template <class GetB>
void sgemm_driver(int64_t M, int64_t N, int64_t K, int64_t mc_size, const float* packed_a, GetB get_b,
                  float* c, int64_t ldc, bool accumulate, ThreadPool* pool, int simd, const GemmEpilogue* ep) {
  if (M <= 0 || N <= 0) return;
  const bool init = ep && (ep->bias || ep->residual);
  const bool relu = ep && ep->relu;
  if (K <= 0) {
    for (int64_t m0 = 0; m0 < M; m0 += kMC) {
      int64_t mc = std::min(kMC, M - m0);
      if (init) tile_prologue(*ep, c, ldc, m0, mc, 0, N);
      else if (!accumulate)
        for (int64_t m = m0; m < m0 + mc; ++m) std::memset(c + m * ldc, 0, sizeof(float) * N);
      if (relu) tile_relu(c, ldc, m0, mc, 0, N);
    }
    return;
  }
  const SgemmMicro gs = sgemm_micro(simd);
  const int64_t MR = gs.mr, NR = gs.nr;
  const int64_t Mpad = round_up(M, MR);
  const int threads = pool ? pool->num_threads() : 1;
  // At least 4 tasks per thread where the shape allows, so uneven tiles even out: split
  // columns first (down to one NR panel), then rows.
  const int64_t target = 4 * static_cast<int64_t>(threads);
  int64_t mblocks = (M + mc_size - 1) / mc_size;
  // Equal row blocks (2048 rows are 8 x 256, not 7 x 288 + 32).
  mc_size = std::min(mc_size, round_up((M + mblocks - 1) / mblocks, MR));
  int64_t nblocks = (N + kNC - 1) / kNC;
  if (threads > 1 && mblocks * nblocks < target)
    nblocks = std::min((N + NR - 1) / NR, (target + mblocks - 1) / mblocks);
  if (threads > 1 && mblocks * nblocks < target && mc_size > MR) {
    int64_t want_m = (target + nblocks - 1) / nblocks;
    mc_size = std::max<int64_t>(MR, round_up((M + want_m - 1) / want_m, MR));
    mblocks = (M + mc_size - 1) / mc_size;
  }
  // Column blocks of whole panels; with several threads, a block count that makes the task count
  // a multiple of the thread count where a few more blocks allow it, so no thread idles at the end.
  const int64_t panels = (N + NR - 1) / NR;
  int64_t panels_per_block = (panels + nblocks - 1) / nblocks;
  if (threads > 1 && (mblocks * ((panels + panels_per_block - 1) / panels_per_block)) % threads != 0) {
    for (int64_t nb = nblocks + 1; nb <= std::min(panels, 2 * nblocks + threads); ++nb) {
      int64_t per = (panels + nb - 1) / nb;
      if ((mblocks * ((panels + per - 1) / per)) % threads == 0) {
        panels_per_block = per;
        break;
      }
    }
  }
  const int64_t nc_size = panels_per_block * NR;
  nblocks = (N + nc_size - 1) / nc_size;
  auto task = [&](int64_t t0, int64_t t1) {
    thread_local std::vector<float> bbuf;
    size_t need = static_cast<size_t>(kGemmKC * nc_size);
    if (bbuf.size() < need) bbuf.resize(need);
    for (int64_t t = t0; t < t1; ++t) {
      int64_t m0 = (t / nblocks) * mc_size, n0 = (t % nblocks) * nc_size;
      int64_t mc = std::min(mc_size, M - m0), nc = std::min(nc_size, N - n0);
      // Without a store-kernel, C is set to residual + bias first and Relu is a last pass.
      if (init && !gs.store_kernel) tile_prologue(*ep, c, ldc, m0, mc, n0, nc);
      for (int64_t pc = 0; pc < K; pc += kGemmKC) {
        int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
        const BBlock bb = get_b(pc, kc, n0, nc, static_cast<int>(NR), bbuf.data());
        const float* a_block = packed_a + pc * Mpad;
        TileStore st;
        st.init = init && pc == 0;
        st.accumulate = accumulate || pc > 0;
        st.relu = relu && pc + kc >= K;
        st.ldr = ldc;
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const float* bp = bb.data + (jr / NR) * bb.panel;
          int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          for (int64_t ir = m0; ir < m0 + mc; ir += MR) {
            int mr = static_cast<int>(std::min<int64_t>(MR, M - ir));
            float* ct = c + ir * ldc + n0 + jr;
            if (!gs.store_kernel) {
              gs.kernel(kc, a_block + ir * kc, bp, ct, ldc, mr, nr, st.accumulate || init);
              continue;
            }
            st.bias = init && ep->bias ? ep->bias + ir : nullptr;
            st.residual = init && ep->residual ? ep->residual + ir * ldc + n0 + jr : nullptr;
            gs.store_kernel(kc, a_block + ir * kc, bp, bb.ldb, ct, ldc, mr, nr, st);
          }
        }
      }
      if (relu && !gs.store_kernel) tile_relu(c, ldc, m0, mc, n0, nc);
    }
  };
  if (pool) pool->parallel_for(mblocks * nblocks, 1, task, mblocks * nblocks);
  else task(0, mblocks * nblocks);
}

}  // namespace

void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b, int64_t ldb,
                  bool trans_b, float* c, int64_t ldc, bool accumulate, ThreadPool* pool, int simd,
                  const GemmEpilogue* epilogue) {
  // A store-kernel can read a row-major B in place. That saves packing a copy, but each row
  // panel of A then reads B's strided rows again: measured on Zen 4, in place won where at most
  // 8 row panels pass over B (a 64-channel Conv: 1.07 -> 0.95 x ORT) and packing won from 256
  // rows on (a 256-channel Conv 1.25 -> 1.00; MatMul 1024^3 0.79 -> 0.89 x OpenBLAS).
  const SgemmMicro gs = sgemm_micro(simd);
  const bool in_place = !trans_b && gs.store_kernel && M <= 8 * static_cast<int64_t>(gs.mr);
  auto get_b = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* scratch) -> BBlock {
    if (in_place) return {b + k0 * ldb + n0, ldb, nr};
    pack_b(b, ldb, trans_b, k0, kc, n0, nc, nr, scratch);
    return {scratch, nr, kc * nr};
  };
  sgemm_driver(M, N, K, kMC, packed_a, get_b, c, ldc, accumulate, pool, simd, epilogue);
}

void sgemm_packed_rows(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b,
                       const int64_t* row_offsets, float* c, int64_t ldc, ThreadPool* pool, int simd) {
  auto get_b = [&](int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* scratch) -> BBlock {
    pack_b_rows(b, row_offsets, k0, kc, n0, nc, nr, scratch);
    return {scratch, nr, kc * nr};
  };
  sgemm_driver(M, N, K, kMC, packed_a, get_b, c, ldc, false, pool, simd, nullptr);
}

size_t packed_b_size(int64_t K, int64_t N, int simd) {
  return static_cast<size_t>(round_up(std::max<int64_t>(N, 1), sgemm_micro(simd).nr) * std::max<int64_t>(K, 1));
}

// Block (k0, n0) of the result sits where sgemm_packed_ab's get_b looks: k0 * Npad + n0 * kc.
void pack_b_panels(const float* b, int64_t ldb, int64_t K, int64_t N, float* packed, int simd) {
  const int nr = sgemm_micro(simd).nr;
  const int64_t Npad = round_up(N, nr);
  for (int64_t pc = 0; pc < K; pc += kGemmKC)
    pack_b(b, ldb, false, pc, std::min<int64_t>(kGemmKC, K - pc), 0, N, nr, packed + pc * Npad);
}

void sgemm_packed_ab(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* packed_b, float* c,
                     int64_t ldc, ThreadPool* pool, int simd) {
  const int64_t Npad = round_up(N, sgemm_micro(simd).nr);
  // The driver asks for whole panels (n0 a multiple of NR), so a block is a slice of the panels.
  auto get_b = [&](int64_t k0, int64_t kc, int64_t n0, int64_t, int nr, float*) -> BBlock {
    return {packed_b + k0 * Npad + n0 * kc, nr, kc * nr};
  };
  sgemm_driver(M, N, K, kMC, packed_a, get_b, c, ldc, false, pool, simd, nullptr);
}

float dot_f32_baseline(const float* a, const float* b, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float total = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

}  // namespace xinrt
