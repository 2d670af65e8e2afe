#include "kernels/sgemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/tensor.h"

namespace xinrt {

namespace {
constexpr int64_t kMC = 96;   // rows of A per task (16 panels of MR)
constexpr int64_t kNC = 256;  // columns of B per task (16 panels of NR)

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

void pack_b(const float* b, int64_t ldb, bool trans, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
            float* out) {
  for (int64_t p = 0; p < nc; p += kGemmNR) {
    int64_t w = std::min<int64_t>(kGemmNR, nc - p);
    float* dst = out + (p / kGemmNR) * kc * kGemmNR;
    if (!trans) {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = b + (k0 + k) * ldb + n0 + p;
        float* d = dst + k * kGemmNR;
        if (w == kGemmNR) {
          std::memcpy(d, src, sizeof(float) * kGemmNR);
        } else {
          for (int64_t j = 0; j < w; ++j) d[j] = src[j];
          for (int64_t j = w; j < kGemmNR; ++j) d[j] = 0.0f;
        }
      }
    } else {
      for (int64_t j = 0; j < kGemmNR; ++j) {
        if (j >= w) {
          for (int64_t k = 0; k < kc; ++k) dst[k * kGemmNR + j] = 0.0f;
          continue;
        }
        const float* src = b + (n0 + p + j) * ldb + k0;
        for (int64_t k = 0; k < kc; ++k) dst[k * kGemmNR + j] = src[k];
      }
    }
  }
}
}  // namespace

size_t packed_a_size(int64_t M, int64_t K) {
  return static_cast<size_t>(round_up(std::max<int64_t>(M, 1), kGemmMR) * std::max<int64_t>(K, 1));
}

void pack_a(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha, float* packed) {
  int64_t Mpad = round_up(M, kGemmMR);
  for (int64_t pc = 0; pc < K; pc += kGemmKC) {
    int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
    for (int64_t i = 0; i < Mpad; i += kGemmMR) {
      float* dst = packed + pc * Mpad + i * kc;
      for (int64_t r = 0; r < kGemmMR; ++r) {
        int64_t m = i + r;
        for (int64_t k = 0; k < kc; ++k) {
          float v = 0.0f;
          if (m < M) v = alpha * (trans ? a[(pc + k) * lda + m] : a[m * lda + pc + k]);
          dst[k * kGemmMR + r] = v;
        }
      }
    }
  }
}

std::shared_ptr<float> pack_a_new(const float* a, int64_t lda, bool trans, int64_t M, int64_t K, float alpha) {
  std::shared_ptr<float> p = alloc_floats(packed_a_size(M, K));
  pack_a(a, lda, trans, M, K, alpha, p.get());
  return p;
}

void sgemm_kernel_6x16_baseline(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                int mr, int nr, bool accumulate) {
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

void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b, int64_t ldb,
                  bool trans_b, float* c, int64_t ldc, bool accumulate, ThreadPool* pool, bool simd) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m) std::memset(c + m * ldc, 0, sizeof(float) * N);
    return;
  }
  auto kernel = sgemm_kernel_6x16_baseline;
#if XINRT_HAVE_X86
  if (simd) kernel = sgemm_kernel_6x16_avx2;
#endif
  const int64_t Mpad = round_up(M, kGemmMR);
  const int64_t mblocks = (M + kMC - 1) / kMC;
  int64_t nc_size = kNC;
  int threads = pool ? pool->num_threads() : 1;
  // Enough tasks to keep every thread busy.
  if (mblocks * ((N + nc_size - 1) / nc_size) < 2 * threads) {
    int64_t want_nb = (2 * threads + mblocks - 1) / mblocks;
    nc_size = std::max<int64_t>(kGemmNR, round_up((N + want_nb - 1) / want_nb, kGemmNR));
  }
  const int64_t nblocks = (N + nc_size - 1) / nc_size;
  auto task = [&](int64_t t0, int64_t t1) {
    thread_local std::vector<float> bbuf;
    size_t need = static_cast<size_t>(kGemmKC * round_up(nc_size, kGemmNR));
    if (bbuf.size() < need) bbuf.resize(need);
    for (int64_t t = t0; t < t1; ++t) {
      int64_t m0 = (t / nblocks) * kMC, n0 = (t % nblocks) * nc_size;
      int64_t mc = std::min(kMC, M - m0), nc = std::min(nc_size, N - n0);
      for (int64_t pc = 0; pc < K; pc += kGemmKC) {
        int64_t kc = std::min<int64_t>(kGemmKC, K - pc);
        pack_b(b, ldb, trans_b, pc, kc, n0, nc, bbuf.data());
        const float* a_block = packed_a + pc * Mpad;
        bool acc = accumulate || pc > 0;
        for (int64_t jr = 0; jr < nc; jr += kGemmNR) {
          const float* bp = bbuf.data() + (jr / kGemmNR) * kc * kGemmNR;
          int nr = static_cast<int>(std::min<int64_t>(kGemmNR, nc - jr));
          for (int64_t ir = m0; ir < m0 + mc; ir += kGemmMR) {
            int mr = static_cast<int>(std::min<int64_t>(kGemmMR, M - ir));
            kernel(kc, a_block + ir * kc, bp, c + ir * ldc + n0 + jr, ldc, mr, nr, acc);
          }
        }
      }
    }
  };
  if (pool) pool->parallel_for(mblocks * nblocks, 1, task);
  else task(0, mblocks * nblocks);
}

}  // namespace xinrt

namespace xinrt {

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
