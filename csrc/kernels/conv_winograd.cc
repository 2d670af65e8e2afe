// Winograd F(2x2, 3x3) convolution (conv_winograd.h). A 2x2 output tile reads a 4x4 input tile
// d; per tile and channel V = B^T d B (16 values), per tile element e one GEMM
// M_e[tiles, M] = V_e[tiles, C] * U_e[C, M], per tile and output channel Y = A^T M A (2x2).
// Tiles are the GEMM rows (MR granularity), so a 7x7 output (16 tiles) wastes little of the
// micro-kernel, and output channels its columns. The tiles of all images are processed in
// blocks whose scratch stays in L2; the input transform writes V_e straight into the GEMM's
// packed-A layout and the weights are B panels packed at plan time, so the GEMMs pack nothing.
#include "kernels/conv_winograd.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <vector>

#include "core/simd_level.h"
#include "core/tensor.h"
#include "kernels/conv_winograd_tiles.h"
#include "kernels/sgemm.h"

namespace xinrt {

// The tile loops compiled for wider vectors (kernels/x86/conv_winograd_{avx2,avx512}.cc).
using InputTilesFn = void (*)(const float* const[4], int64_t, int64_t, int64_t, float*, float*, int64_t);
using InverseTileFn = void (*)(const float*, int64_t, int64_t, float*);
void winograd_input_tiles_avx2(const float* const rows[4], int64_t ix0, int64_t in_w, int64_t count, float* phases,
                               float* out, int64_t ld);
void winograd_inverse_tile_avx2(const float* m, int64_t ld, int64_t M, float* o);
void winograd_input_tiles_avx512(const float* const rows[4], int64_t ix0, int64_t in_w, int64_t count, float* phases,
                                 float* out, int64_t ld);
void winograd_inverse_tile_avx512(const float* m, int64_t ld, int64_t M, float* o);

namespace {

constexpr int kElems = 16;  // 4x4 tile elements
std::atomic<uint64_t> winograd_runs{0};

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Everything a block of tiles needs: the problem, the tile grid, the packed operands' shapes.
struct Problem {
  const WinogradWeights& w;
  const float* x;
  const WindowGeometry& g;
  const float* bias;
  const float* residual;
  bool relu;
  float* y;
  int simd;
  int64_t th, tw;  // tiles per image: rows, columns
  int mr;          // the micro-kernel's rows (packed-A panel height)
  InputTilesFn input_tiles;
  InverseTileFn inverse_tile;
};

void input_tiles_portable(const float* const rows[4], int64_t ix0, int64_t in_w, int64_t count, float* phases,
                          float* out, int64_t ld) {
  winograd_input_tiles(rows, ix0, in_w, count, phases, out, ld);
}
void inverse_tile_portable(const float* m, int64_t ld, int64_t M, float* o) { winograd_inverse_tile(m, ld, M, o); }

// Runs fn(begin, end) over [0, n) on the pool, or inline (pool null: inside an outer task).
template <class Fn>
void for_range(ThreadPool* pool, int64_t n, int64_t grain, const Fn& fn) {
  if (pool) pool->parallel_for(n, grain, fn);
  else fn(0, n);
}

// Row of one channel (vt[e * mpad + tile]) into the packed-A operands (dst + e * a_stride):
// MR tiles per panel, panels kc * MR apart. MR = 0: the run-time `mr`.
template <int MR>
void copy_to_panels(const float* vt, int64_t mpad, int64_t kc, float* dst, size_t a_stride, int mr = MR) {
  const int64_t width = MR ? MR : mr;
  for (int e = 0; e < kElems; ++e) {
    const float* src = vt + e * mpad;
    float* d = dst + e * a_stride;
    for (int64_t i = 0; i < mpad; i += width)
      for (int64_t r = 0; r < width; ++r) d[i * kc + r] = src[i + r];
  }
}

// V_e of tiles [t0, t0 + tb) and channels [c0, c1) into the packed-A operands a + e * a_stride
// (pack_a's layout: per KC block of channels, MR-row panels of tiles; rows past tb are zero).
void input_transform(const Problem& pb, int64_t t0, int64_t tb, int64_t c0, int64_t c1, float* a, size_t a_stride) {
  const WindowGeometry& g = pb.g;
  const int64_t C = pb.w.C, mpad = round_up(tb, pb.mr), plane = g.in_h * g.in_w;
  thread_local std::vector<float> vt, phases;
  vt.assign(static_cast<size_t>(kElems * mpad), 0.0f);
  phases.resize(static_cast<size_t>(8 * (pb.tw + 1)));
  for (int64_t c = c0; c < c1; ++c) {
    for (int64_t t = t0; t < t0 + tb;) {  // one run of tiles along a tile row at a time
      int64_t n = t / (pb.th * pb.tw), ty = t / pb.tw % pb.th, tx = t % pb.tw;
      int64_t count = std::min(pb.tw - tx, t0 + tb - t);
      const float* xc = pb.x + (n * C + c) * plane;
      const float* rows[4];
      for (int i = 0; i < 4; ++i) {
        int64_t iy = 2 * ty - g.pad_top + i;
        rows[i] = iy >= 0 && iy < g.in_h ? xc + iy * g.in_w : nullptr;
      }
      pb.input_tiles(rows, 2 * tx - g.pad_left, g.in_w, count, phases.data(), vt.data() + (t - t0), mpad);
      t += count;
    }
    const int64_t pc = c / kGemmKC * kGemmKC, kc = std::min<int64_t>(kGemmKC, C - pc);
    float* dst = a + pc * mpad + (c - pc) * pb.mr;
    switch (pb.mr) {  // the micro-kernels' MR, as constants so each panel row is a fixed-size copy
      case 12: copy_to_panels<12>(vt.data(), mpad, kc, dst, a_stride); break;
      case 8: copy_to_panels<8>(vt.data(), mpad, kc, dst, a_stride); break;
      case 6: copy_to_panels<6>(vt.data(), mpad, kc, dst, a_stride); break;
      default: copy_to_panels<0>(vt.data(), mpad, kc, dst, a_stride, pb.mr);
    }
  }
}

// Y = A^T M A of tiles [t0 + r0, t0 + r1) from the GEMM results m + e * tb * M (row = tile,
// column = output channel), with bias, residual and Relu, into y.
void output_transform(const Problem& pb, int64_t t0, int64_t tb, int64_t r0, int64_t r1, const float* m) {
  const WindowGeometry& g = pb.g;
  const int64_t M = pb.w.M, plane = g.out_h * g.out_w;
  thread_local std::vector<float> acc;
  acc.resize(static_cast<size_t>(4 * M));
  float* o = acc.data();
  for (int64_t r = r0; r < r1; ++r) {
    pb.inverse_tile(m + r * M, tb * M, M, o);
    int64_t t = t0 + r, n = t / (pb.th * pb.tw), ty = t / pb.tw % pb.th, tx = t % pb.tw;
    for (int q = 0; q < 4; ++q) {
      int64_t oy = 2 * ty + q / 2, ox = 2 * tx + q % 2;
      if (oy >= g.out_h || ox >= g.out_w) continue;
      const int64_t base = n * M * plane + oy * g.out_w + ox;
      const float* oq = o + q * M;
      for (int64_t k = 0; k < M; ++k) {
        float b = pb.bias ? pb.bias[k] : 0.0f;
        float v = pb.residual ? (pb.residual[base + k * plane] + b) + oq[k] : b + oq[k];
        pb.y[base + k * plane] = pb.relu && v < 0.0f ? 0.0f : v;
      }
    }
  }
}

// Floats of a block's scratch: the 16 packed V_e, then the 16 GEMM results.
size_t a_stride_for(int64_t tb, int64_t C, int mr) { return static_cast<size_t>(round_up(tb, mr) * C); }
size_t scratch_floats(int64_t tb, int64_t C, int64_t M, int mr) {
  return kElems * (a_stride_for(tb, C, mr) + static_cast<size_t>(tb * M));
}

// One block of tiles: transform, 16 GEMMs, inverse transform. With a pool each phase is split
// over its threads (few blocks); without, the caller is one task of a loop over blocks.
void run_block(const Problem& pb, int64_t t0, int64_t tb, float* scratch, ThreadPool* pool) {
  const int64_t C = pb.w.C, M = pb.w.M;
  const size_t a_stride = a_stride_for(tb, C, pb.mr);
  float* a = scratch;
  float* m = scratch + kElems * a_stride;
  for_range(pool, C, 8, [&](int64_t c0, int64_t c1) { input_transform(pb, t0, tb, c0, c1, a, a_stride); });
  for_range(pool, kElems, 1, [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e)
      sgemm_packed_ab(tb, M, C, a + e * a_stride, pb.w.packed.get() + e * pb.w.stride, m + e * tb * M, M, nullptr,
                      pb.simd);
  });
  for_range(pool, tb, 4, [&](int64_t r0, int64_t r1) { output_transform(pb, t0, tb, r0, r1, m); });
}

// Tiles per block: the block's V_e and results (16 x tiles x (C + M) floats) in about 1 MB
// (measured on ResNet-50's layers against 48, 96 and 240 tiles: bench/conv-notes.md).
int64_t block_tiles(int64_t C, int64_t M, int mr) { return std::max<int64_t>(mr, (16384 / (C + M)) / mr * mr); }

}  // namespace

std::shared_ptr<WinogradWeights> winograd_prepare(const float* w, int64_t M, int64_t C, int simd) {
  // U = G g G^T in double, G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
  static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  auto out = std::make_shared<WinogradWeights>();
  out->M = M;
  out->C = C;
  out->stride = packed_b_size(C, M, simd);
  out->packed = alloc_floats(kElems * out->stride);
  std::vector<float> u(static_cast<size_t>(kElems * C * M));  // u[e][c][m]
  for (int64_t mo = 0; mo < M; ++mo)
    for (int64_t c = 0; c < C; ++c) {
      const float* k = w + (mo * C + c) * 9;
      double gk[4][3];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 3; ++j) gk[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          u[((4 * i + j) * C + c) * M + mo] =
              static_cast<float>(gk[i][0] * G[j][0] + gk[i][1] * G[j][1] + gk[i][2] * G[j][2]);
    }
  for (int e = 0; e < kElems; ++e) pack_b_panels(u.data() + e * C * M, M, C, M, out->packed.get() + e * out->stride, simd);
  return out;
}

bool winograd_pays(int64_t C, int64_t M) {
  static const bool off = std::getenv("XINRT_WINOGRAD_OFF") != nullptr;  // A/B benchmarks only
  // Below 32 input channels the GEMMs' K is too short for the micro-kernel and the transforms
  // weigh more than the multiplies saved (SqueezeNet's 16->64 at 55x55: slower); below 32
  // outputs the GEMM's NR = 32 panels run half empty.
  return !off && C >= 32 && M >= 32;
}

void conv_winograd(const WinogradWeights& w, const float* x, int64_t N, const WindowGeometry& g, const float* bias,
                   const float* residual, bool relu, float* y, ThreadPool& pool, int simd) {
  const int mr = sgemm_micro(simd).mr;
  Problem pb{w, x, g, bias, residual, relu, y, simd, (g.out_h + 1) / 2, (g.out_w + 1) / 2, mr,
             input_tiles_portable, inverse_tile_portable};
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512) {
    pb.input_tiles = winograd_input_tiles_avx512;
    pb.inverse_tile = winograd_inverse_tile_avx512;
  } else if (simd >= kSimdAvx2Fma) {
    pb.input_tiles = winograd_input_tiles_avx2;
    pb.inverse_tile = winograd_inverse_tile_avx2;
  }
#endif
  const int64_t tiles = N * pb.th * pb.tw;
  const int threads = pool.num_threads();
  // Equal blocks of whole MR panels, about block_tiles() each; with whole blocks per thread, a
  // multiple of the thread count of them.
  const int64_t target = block_tiles(w.C, w.M, mr);
  int64_t blocks = std::max<int64_t>(1, (tiles + target / 2) / target);
  if (threads > 1 && blocks >= 2 * threads) blocks = round_up(blocks, threads);
  const int64_t tb = round_up((tiles + blocks - 1) / blocks, mr);
  blocks = (tiles + tb - 1) / tb;
  winograd_runs.fetch_add(1, std::memory_order_relaxed);
  if (threads == 1 || blocks >= 2 * threads) {  // whole blocks per thread
    pool.parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      thread_local std::vector<float> scratch;
      for (int64_t b = b0; b < b1; ++b) {
        int64_t t0 = b * tb, n = std::min(tb, tiles - t0);
        size_t need = scratch_floats(n, w.C, w.M, mr);
        if (scratch.size() < need) scratch.resize(need);
        run_block(pb, t0, n, scratch.data(), nullptr);
      }
    }, blocks);
    return;
  }
  std::shared_ptr<float> scratch = alloc_floats(scratch_floats(tb, w.C, w.M, mr));
  for (int64_t t0 = 0; t0 < tiles; t0 += tb) run_block(pb, t0, std::min(tb, tiles - t0), scratch.get(), &pool);
}

uint64_t conv_winograd_runs() { return winograd_runs.load(std::memory_order_relaxed); }

}  // namespace xinrt
