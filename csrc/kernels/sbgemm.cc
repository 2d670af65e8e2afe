// The bf16 GEMM's portable parts (kernels/sbgemm.h): rounding, weight packing and the blocked,
// threaded loop around the AVX512_BF16 micro-kernel.
#include "kernels/sbgemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/registry.h"
#include "core/simd_level.h"
#include "core/tensor.h"

namespace xinrt {

uint16_t float_to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7F800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);  // zero, denormal
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7FFFu + ((u >> 16) & 1u);  // infinities stay infinite: their low half is zero
  return static_cast<uint16_t>(u >> 16);
}

float bf16_to_float(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

namespace {
constexpr int64_t kMC = 288;  // rows of A per block run against one packed B block (24 micro-panels)
constexpr int64_t kNC = 256;  // columns of B per task before splitting for threads

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
int64_t ceil_div(int64_t x, int64_t m) { return (x + m - 1) / m; }
}  // namespace

std::shared_ptr<uint32_t> pack_a_bf16(const float* a, int64_t lda, int64_t M, int64_t K) {
  const int64_t Mpad = round_up(std::max<int64_t>(M, 1), kSbgemmMR), pairs = ceil_div(K, 2);
  std::shared_ptr<uint32_t> packed = alloc_u32(static_cast<size_t>(Mpad * std::max<int64_t>(pairs, 1)));
  uint32_t* out = packed.get();
  for (int64_t i = 0; i < Mpad; i += kSbgemmMR)
    for (int64_t p = 0; p < pairs; ++p)
      for (int64_t r = 0; r < kSbgemmMR; ++r, ++out) {
        int64_t m = i + r, k = 2 * p;
        uint32_t lo = m < M ? float_to_bf16(a[m * lda + k]) : 0;
        uint32_t hi = m < M && k + 1 < K ? float_to_bf16(a[m * lda + k + 1]) : 0;
        *out = lo | (hi << 16);
      }
  return packed;
}

#if XINRT_HAVE_X86
namespace {

// The blocked, threaded loop. get_b(pc, kc, n0, nc, scratch, &stride) returns the KC x NC block
// of B at rows pc.., columns n0.. as NR-column panels `stride` words apart: packed into scratch
// (room for KC / 2 x NC words) or found pre-packed.
template <class GetB>
void sbgemm_driver(int64_t M, int64_t N, int64_t K, const uint32_t* packed_a, GetB get_b, float* c, int64_t ldc,
                   ThreadPool* pool, const GemmEpilogue* ep, const float* column_bias) {
  constexpr int64_t MR = kSbgemmMR, NR = kSbgemmNR;
  const int64_t pairs = ceil_div(K, 2), panels = ceil_div(N, NR);  // of A and B
  const int threads = pool ? pool->num_threads() : 1;

  // Tasks: at least 4 per thread where the shape allows, so uneven ones even out. Columns are
  // split first (down to one panel), then rows into as few groups as that still needs: each
  // task packs its columns of B once per KC block, so every extra row group packs them again.
  const int64_t target = threads > 1 ? 4 * static_cast<int64_t>(threads) : 1;
  int64_t nblocks = std::min(panels, std::max(ceil_div(N, kNC), target));
  int64_t panels_per_block = ceil_div(panels, nblocks);
  nblocks = ceil_div(panels, panels_per_block);
  // A block count that is a multiple of the thread count where a few more blocks allow it, so
  // no thread idles at the end.
  for (int64_t nb = nblocks; threads > 1 && nblocks % threads != 0 && nb <= std::min(panels, nblocks + threads);
       ++nb) {
    if (ceil_div(panels, ceil_div(panels, nb)) % threads == 0) {
      panels_per_block = ceil_div(panels, nb);
      nblocks = ceil_div(panels, panels_per_block);
    }
  }
  const int64_t nc_size = panels_per_block * NR;
  int64_t mgroups = std::min(ceil_div(target, nblocks), ceil_div(M, MR));
  const int64_t mg_size = round_up(ceil_div(M, mgroups), MR);
  mgroups = ceil_div(M, mg_size);
  // The epilogue is applied by the micro-kernel as it stores the last K block.
  const float* bias = ep ? ep->bias : nullptr;
  const float* residual = ep ? ep->residual : nullptr;
  const bool relu = ep && ep->relu;
  // Each task takes the KC x NC block of B it multiplies next (packing it, where B is not
  // pre-packed, so it is still in cache when the micro-kernel reads it) and runs it against
  // its rows in MC blocks.
  auto task = [&](int64_t t0, int64_t t1) {
    thread_local std::vector<uint32_t> bbuf;
    const size_t need = static_cast<size_t>(kSbgemmKC / 2 * nc_size);
    if (bbuf.size() < need) bbuf.resize(need);
    for (int64_t t = t0; t < t1; ++t) {
      int64_t m0 = (t / nblocks) * mg_size, n0 = (t % nblocks) * nc_size;
      int64_t m1 = std::min(m0 + mg_size, M), nc = std::min(nc_size, N - n0);
      for (int64_t pc = 0; pc < K || pc == 0; pc += kSbgemmKC) {  // K == 0: one empty block (zeros)
        const int64_t kc = std::min<int64_t>(kSbgemmKC, K - pc), kp = ceil_div(kc, 2), p0 = pc / 2;
        const bool last = pc + kSbgemmKC >= K;
        int64_t stride = 0;
        const uint32_t* block = get_b(pc, kc, n0, nc, bbuf.data(), &stride);
        for (int64_t mb = m0; mb < m1; mb += kMC) {
          for (int64_t jr = n0; jr < n0 + nc; jr += NR) {
            const uint32_t* bpanel = block + (jr - n0) / NR * stride;
            int nr = static_cast<int>(std::min<int64_t>(NR, N - jr));
            for (int64_t ir = mb; ir < std::min(mb + kMC, m1); ir += MR) {
              int mr = static_cast<int>(std::min<int64_t>(MR, M - ir));
              sbgemm_kernel_12x32_avx512bf16(kp, packed_a + (ir / MR) * pairs * MR + p0 * MR, bpanel,
                                             c + ir * ldc + jr, ldc, mr, nr, pc > 0, bias ? bias + ir : nullptr,
                                             column_bias ? column_bias + jr : nullptr,
                                             residual ? residual + ir * ldc + jr : nullptr, relu, last);
            }
          }
        }
      }
    }
  };
  if (pool) pool->parallel_for(mgroups * nblocks, 1, task, mgroups * nblocks);
  else task(0, mgroups * nblocks);
}

// The driver over a B that each task packs as it goes: pack_panel(pc, kc, jr, cols, panel)
// writes the KC-row panel of columns jr.. (cols of them, at most NR) into `panel`.
template <class PackPanel>
void sbgemm_packing_b(int64_t M, int64_t N, int64_t K, const uint32_t* packed_a, PackPanel pack_panel, float* c,
                      int64_t ldc, ThreadPool* pool, const GemmEpilogue* ep) {
  auto pack = [&](int64_t pc, int64_t kc, int64_t n0, int64_t nc, uint32_t* scratch, int64_t* stride) {
    const int64_t kp = ceil_div(kc, 2);
    for (int64_t jr = n0; jr < n0 + nc; jr += kSbgemmNR)
      pack_panel(pc, kc, jr, static_cast<int>(std::min<int64_t>(kSbgemmNR, N - jr)),
                 scratch + (jr - n0) / kSbgemmNR * kp * kSbgemmNR);
    *stride = kp * kSbgemmNR;
    return static_cast<const uint32_t*>(scratch);
  };
  sbgemm_driver(M, N, K, packed_a, pack, c, ldc, pool, ep, nullptr);
}

}  // namespace
#endif

void sbgemm_rows(int64_t M, int64_t N, int64_t K, const uint32_t* packed_a, const float* b,
                 const int64_t* row_offsets, float* c, int64_t ldc, ThreadPool* pool, int simd,
                 const GemmEpilogue* ep) {
  if (M <= 0 || N <= 0) return;
#if XINRT_HAVE_X86
  if (simd < kSimdAvx512Bf16) throw KernelError("the bf16 GEMM needs a CPU with AVX512_BF16");
  sbgemm_packing_b(
      M, N, K, packed_a,
      [&](int64_t pc, int64_t kc, int64_t jr, int cols, uint32_t* panel) {
        sbgemm_pack_b_panel_avx512bf16(b, row_offsets + pc, kc, jr, cols, panel);
      },
      c, ldc, pool, ep);
#else
  throw KernelError("the bf16 GEMM needs an x86-64 CPU with AVX512_BF16");
#endif
}

void sbgemm_conv_rows(int64_t M, int64_t N, int64_t K, const uint32_t* packed_a, const float* x,
                      const int64_t* row_offsets, const int32_t* row_dy, const int32_t* row_dx, int64_t out_w,
                      int64_t in_h, int64_t in_w, float* c, int64_t ldc, ThreadPool* pool, int simd,
                      const GemmEpilogue* ep) {
  if (M <= 0 || N <= 0) return;
#if XINRT_HAVE_X86
  if (simd < kSimdAvx512Bf16) throw KernelError("the bf16 GEMM needs a CPU with AVX512_BF16");
  sbgemm_packing_b(
      M, N, K, packed_a,
      [&](int64_t pc, int64_t kc, int64_t jr, int cols, uint32_t* panel) {
        sbgemm_pack_b_conv_panel_avx512bf16(x, row_offsets + pc, row_dy + pc, row_dx + pc, kc, jr, cols, out_w,
                                            in_h, in_w, panel);
      },
      c, ldc, pool, ep);
#else
  throw KernelError("the bf16 GEMM needs an x86-64 CPU with AVX512_BF16");
#endif
}

std::shared_ptr<uint32_t> pack_b_bf16(const float* w, int64_t ldw, int64_t K, int64_t N) {
  const int64_t pairs = ceil_div(K, 2), panels = ceil_div(std::max<int64_t>(N, 1), kSbgemmNR);
  std::shared_ptr<uint32_t> packed = alloc_u32(static_cast<size_t>(panels * std::max<int64_t>(pairs, 1) * kSbgemmNR));
  uint32_t* out = packed.get();
  for (int64_t j = 0; j < panels * kSbgemmNR; j += kSbgemmNR)
    for (int64_t p = 0; p < pairs; ++p)
      for (int64_t t = 0; t < kSbgemmNR; ++t, ++out) {
        int64_t n = j + t, k = 2 * p;
        uint32_t lo = n < N ? float_to_bf16(w[k * ldw + n]) : 0;
        uint32_t hi = n < N && k + 1 < K ? float_to_bf16(w[(k + 1) * ldw + n]) : 0;
        *out = lo | (hi << 16);
      }
  return packed;
}

void sbgemm_packed_b(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const uint32_t* packed_w,
                     const float* column_bias, float* c, int64_t ldc, ThreadPool* pool, int simd) {
  if (M <= 0 || N <= 0) return;
#if XINRT_HAVE_X86
  if (simd < kSimdAvx512Bf16) throw KernelError("the bf16 GEMM needs a CPU with AVX512_BF16");
  const int64_t pairs = ceil_div(K, 2), row_panels = ceil_div(M, kSbgemmMR);
  std::shared_ptr<uint32_t> packed_a = alloc_u32(static_cast<size_t>(row_panels * std::max<int64_t>(pairs, 1) * kSbgemmMR));
  uint32_t* pa = packed_a.get();
  auto pack = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      sbgemm_pack_a_panel_avx512bf16(a + i * kSbgemmMR * lda, lda,
                                     static_cast<int>(std::min<int64_t>(kSbgemmMR, M - i * kSbgemmMR)), K,
                                     pa + i * pairs * kSbgemmMR);
  };
  if (pool) pool->parallel_for(row_panels, 1, pack);
  else pack(0, row_panels);
  auto prepacked = [&](int64_t pc, int64_t, int64_t n0, int64_t, uint32_t*, int64_t* stride) {
    *stride = pairs * kSbgemmNR;
    return packed_w + (n0 / kSbgemmNR) * pairs * kSbgemmNR + (pc / 2) * kSbgemmNR;
  };
  sbgemm_driver(M, N, K, pa, prepacked, c, ldc, pool, nullptr, column_bias);
#else
  throw KernelError("the bf16 GEMM needs an x86-64 CPU with AVX512_BF16");
#endif
}

}  // namespace xinrt
