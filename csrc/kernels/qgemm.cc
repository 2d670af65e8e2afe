// The integer GEMM driver: packs B once (qpack_b) and A per call into the layout of the SIMD
// level (qgemm_kernels.h), then runs micro-kernel tiles over the pool; the output stage runs
// on each tile while it is in cache.
#include "kernels/qgemm.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/cpu_features.h"
#include "kernels/qgemm_kernels.h"

namespace xinrt {

using namespace qgemm_detail;

namespace {

// Portable micro-kernel: int16 operands, KG = 1, NR = 16 (the compiler vectorizes the j loop).
void qgemm_kernel_4x16_baseline(int64_t kgroups, const void* a, int64_t lda_bytes, int mr, const void* b_panel,
                                int32_t* tile) {
  const int16_t* b = static_cast<const int16_t*>(b_panel);
  for (int i = 0; i < mr; ++i) {
    const int16_t* ar = reinterpret_cast<const int16_t*>(static_cast<const char*>(a) + i * lda_bytes);
    int32_t acc[16] = {0};
    for (int64_t k = 0; k < kgroups; ++k) {
      int32_t av = ar[k];
      for (int j = 0; j < 16; ++j) acc[j] += av * b[k * 16 + j];
    }
    std::memcpy(tile + i * 16, acc, sizeof(acc));
  }
}

struct Level {
  int mr, nr, kg;
  bool int16;     // operands stored as int16 (else 8-bit)
  bool a_u8;      // 8-bit levels: A stored unsigned (else signed)
  bool b_u8;      // 8-bit levels: B stored unsigned (else signed)
  MicroKernel kernel;
  OutputStage output;
};

Level level_for(int simd) {
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512Vnni) return {8, 32, 4, false, true, false, qgemm_kernel_8x32_vnni, output_stage_avx512};
  if (simd >= kSimdAvx2Fma) return {6, 16, 2, true, false, false, qgemm_kernel_6x16_avx2, output_stage_avx2};
#endif
#if XINRT_HAVE_NEON
  if (simd >= kSimdNeonDot)
    return {4, 16, 4, false, false, false, qgemm_kernel_4x16_neon_dot, output_stage_baseline};
  if (simd >= kSimdNeon) return {4, 16, 1, true, false, false, qgemm_kernel_4x16_neon, output_stage_baseline};
#endif
  return {4, 16, 1, true, false, false, qgemm_kernel_4x16_baseline, output_stage_baseline};
}

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Offset that turns a value of signedness `is_signed` into the storage signedness of a level.
int32_t storage_offset(const Level& lv, bool is_signed, bool store_u8) {
  if (lv.int16) return 0;
  if (store_u8) return is_signed ? 128 : 0;
  return is_signed ? 0 : -128;
}

std::shared_ptr<void> alloc_bytes(size_t n) {
  return std::shared_ptr<void>(::operator new(std::max<size_t>(n, 64), std::align_val_t(64)),
                               [](void* p) { ::operator delete(p, std::align_val_t(64)); });
}

// A[m0:m1, :K] into row-major packed rows of Kpad elements; rowsum of the packed values.
template <class Src, class Dst>
void pack_a_rows(const Src* a, int64_t lda, int64_t m0, int64_t m1, int64_t K, int64_t Kpad, int32_t offset, Dst* out,
                 int32_t* rowsum) {
  for (int64_t m = m0; m < m1; ++m) {
    const Src* src = a + m * lda;
    Dst* dst = out + m * Kpad;
    int32_t sum = 0;
    for (int64_t k = 0; k < K; ++k) {
      int32_t v = static_cast<int32_t>(src[k]) + offset;
      dst[k] = static_cast<Dst>(v);
      sum += v;
    }
    for (int64_t k = K; k < Kpad; ++k) dst[k] = 0;
    rowsum[m] = sum;
  }
}

template <class Dst>
void pack_a_range(const void* a, bool a_signed, int64_t lda, int64_t m0, int64_t m1, int64_t K, int64_t Kpad,
                  int32_t offset, void* out, int32_t* rowsum) {
  if (a_signed)
    pack_a_rows(static_cast<const int8_t*>(a), lda, m0, m1, K, Kpad, offset, static_cast<Dst*>(out), rowsum);
  else
    pack_a_rows(static_cast<const uint8_t*>(a), lda, m0, m1, K, Kpad, offset, static_cast<Dst*>(out), rowsum);
}

template <class Dst>
void pack_b_panels(const void* b, bool b_signed, int64_t K, int64_t N, int64_t ldb, bool trans, int32_t offset,
                   const Level& lv, int64_t Kpad, Dst* out, int32_t* col_sum) {
  int64_t groups = Kpad / lv.kg;
  for (int64_t p = 0; p < N; p += lv.nr) {
    Dst* panel = out + p * Kpad;
    for (int64_t j = 0; j < lv.nr; ++j) {
      int64_t n = p + j;
      for (int64_t g = 0; g < groups; ++g) {
        for (int t = 0; t < lv.kg; ++t) {
          int64_t k = g * lv.kg + t;
          int32_t v = 0;
          if (n < N && k < K) {
            int64_t idx = trans ? n * ldb + k : k * ldb + n;
            v = (b_signed ? static_cast<const int8_t*>(b)[idx] : static_cast<const uint8_t*>(b)[idx]);
            col_sum[n] += v;
            v += offset;
          }
          panel[(g * lv.nr + j) * lv.kg + t] = static_cast<Dst>(v);
        }
      }
    }
  }
}

}  // namespace

std::shared_ptr<QPackedB> qpack_b(const void* b, bool b_signed, int64_t K, int64_t N, int64_t ldb, bool trans,
                                  const int32_t* zero, int64_t zero_count, int simd) {
  Level lv = level_for(simd);
  auto p = std::make_shared<QPackedB>();
  p->K = K;
  p->N = N;
  p->b_signed = b_signed;
  p->simd = simd;
  p->zero.resize(N);
  p->col_sum.assign(N, 0);
  for (int64_t n = 0; n < N; ++n) p->zero[n] = zero ? zero[zero_count == 1 ? 0 : n] : 0;
  p->b_offset = storage_offset(lv, b_signed, lv.b_u8);
  p->k_padded = round_up(std::max<int64_t>(K, 1), lv.kg);
  int64_t elems = p->k_padded * round_up(std::max<int64_t>(N, 1), lv.nr);
  p->panel_bytes = elems * (lv.int16 ? 2 : 1);
  p->panels = alloc_bytes(static_cast<size_t>(p->panel_bytes));
  if (lv.int16)
    pack_b_panels(b, b_signed, K, N, ldb, trans, p->b_offset, lv, p->k_padded, static_cast<int16_t*>(p->panels.get()),
                  p->col_sum.data());
  else if (lv.b_u8)
    pack_b_panels(b, b_signed, K, N, ldb, trans, p->b_offset, lv, p->k_padded, static_cast<uint8_t*>(p->panels.get()),
                  p->col_sum.data());
  else
    pack_b_panels(b, b_signed, K, N, ldb, trans, p->b_offset, lv, p->k_padded, static_cast<int8_t*>(p->panels.get()),
                  p->col_sum.data());
  return p;
}

namespace qgemm_detail {

namespace {

template <class T>
void requantize_row(const QGemmOutput& out, const int32_t* acc, int64_t m, int64_t n0, int nc) {
  constexpr int32_t lo = std::is_signed<T>::value ? -128 : 0, hi = std::is_signed<T>::value ? 127 : 255;
  T* c = static_cast<T*>(out.c) + m * out.ldc + n0;
  for (int j = 0; j < nc; ++j) {
    int64_t n = n0 + j;
    float scale = out.scale ? out.scale[out.scale_count == 1 ? 0 : n] : 1.0f;
    int32_t v = acc[j] + (out.bias ? out.bias[n] : 0);
    // Clamp in float first (as ORT does): integer bounds commute with rounding, and a value
    // past int32's range never reaches the conversion.
    float x = static_cast<float>(v) * scale;
    x = std::min(static_cast<float>(hi - out.out_zero), std::max(static_cast<float>(lo - out.out_zero), x));
    c[j] = static_cast<T>(round_half_even_small(x) + out.out_zero);
  }
}

}  // namespace

void output_stage_baseline(const QGemmOutput& out, const int32_t* tile, int64_t tile_ld, const int32_t* rowsum,
                           const int32_t* zb, const int32_t* colterm, int64_t m0, int mr, int64_t n0, int nc) {
  int32_t acc[64];
  for (int i = 0; i < mr; ++i) {
    int64_t m = m0 + i;
    for (int j = 0; j < nc; ++j)
      acc[j] = static_cast<int32_t>(static_cast<uint32_t>(tile[i * tile_ld + j]) -
                                    static_cast<uint32_t>(zb[j]) * static_cast<uint32_t>(rowsum[i]) +
                                    static_cast<uint32_t>(colterm[j]));
    switch (out.kind) {
      case QGemmOutput::kInt32: {
        int32_t* c = static_cast<int32_t*>(out.c) + m * out.ldc + n0;
        for (int j = 0; j < nc; ++j) c[j] = out.accumulate ? c[j] + acc[j] : acc[j];
        break;
      }
      case QGemmOutput::kFloat: {
        float* c = static_cast<float*>(out.c) + m * out.ldc + n0;
        for (int j = 0; j < nc; ++j) {
          int64_t n = n0 + j;
          float v = static_cast<float>(acc[j] + (out.bias ? out.bias[n] : 0)) *
                    (out.scale ? out.scale[out.scale_count == 1 ? 0 : n] : 1.0f);
          if (out.float_bias) v += out.float_bias[n];
          c[j] = out.accumulate ? c[j] + v : v;
        }
        break;
      }
      case QGemmOutput::kUint8: requantize_row<uint8_t>(out, acc, m, n0, nc); break;
      case QGemmOutput::kInt8: requantize_row<int8_t>(out, acc, m, n0, nc); break;
    }
  }
}

}  // namespace qgemm_detail

void qgemm(int64_t M, const void* a, bool a_signed, int64_t lda, int32_t a_zero, const QPackedB& b,
           const QGemmOutput& out, ThreadPool* pool, int simd) {
  const int64_t K = b.K, N = b.N;
  if (M <= 0 || N <= 0) return;
  // Panels are laid out for the level they were packed for; that level's kernels read them.
  Level lv = level_for(b.simd);
  const int64_t Kpad = b.k_padded;
  const int32_t a_offset = storage_offset(lv, a_signed, lv.a_u8);
  const int32_t za = a_zero + a_offset;
  const int elem = lv.int16 ? 2 : 1;

  // Per-column terms in the storage domain (two's-complement wrap, exact modulo 2^32).
  std::vector<int32_t> zb(round_up(N, lv.nr)), colterm(round_up(N, lv.nr));
  for (int64_t n = 0; n < N; ++n) {
    uint32_t z = static_cast<uint32_t>(b.zero[n] + b.b_offset);
    uint32_t cs = static_cast<uint32_t>(b.col_sum[n]) + static_cast<uint32_t>(K) * static_cast<uint32_t>(b.b_offset);
    zb[n] = static_cast<int32_t>(z);
    colterm[n] = static_cast<int32_t>(static_cast<uint32_t>(K) * static_cast<uint32_t>(za) * z -
                                      static_cast<uint32_t>(za) * cs);
  }

  // 8-bit levels read A in place when it is already in the storage format (no offset, rows of
  // exactly Kpad) and no column has a zero point, so its row sums are never needed: the common
  // case of quantize_dynamic's uint8 activations with symmetric int8 weights on VNNI.
  bool in_place = !lv.int16 && a_offset == 0 && lda == Kpad;
  for (int64_t n = 0; n < N && in_place; ++n) in_place = zb[n] == 0;
  std::shared_ptr<void> packed_a = in_place ? nullptr : alloc_bytes(static_cast<size_t>(M * Kpad * elem));
  std::vector<int32_t> rowsum(M + lv.mr, 0);
  auto pack = [&](int64_t m0, int64_t m1) {
    if (lv.int16)
      pack_a_range<int16_t>(a, a_signed, lda, m0, m1, K, Kpad, a_offset, packed_a.get(), rowsum.data());
    else if (lv.a_u8)
      pack_a_range<uint8_t>(a, a_signed, lda, m0, m1, K, Kpad, a_offset, packed_a.get(), rowsum.data());
    else
      pack_a_range<int8_t>(a, a_signed, lda, m0, m1, K, Kpad, a_offset, packed_a.get(), rowsum.data());
  };
  // Tiles: MB rows x NB columns; a task walks its panels, each reused over its row blocks.
  const int64_t mb = round_up(std::min<int64_t>(M, 48), lv.mr);
  const int64_t nb = round_up(std::min<int64_t>(N, 128), lv.nr);
  const int64_t mt = (M + mb - 1) / mb, nt = (N + nb - 1) / nb;
  const char* pa = static_cast<const char*>(in_place ? a : packed_a.get());
  const char* pb = static_cast<const char*>(b.panels.get());
  auto tiles = [&](int64_t t0, int64_t t1) {
    alignas(64) int32_t tile[8 * 32];
    for (int64_t t = t0; t < t1; ++t) {
      int64_t m0 = (t / nt) * mb, n0 = (t % nt) * nb;
      int64_t m1 = std::min(M, m0 + mb), n1 = std::min(N, n0 + nb);
      for (int64_t p = n0; p < n1; p += lv.nr) {
        const char* panel = pb + p * Kpad * elem;
        int nc = static_cast<int>(std::min<int64_t>(lv.nr, n1 - p));
        for (int64_t i = m0; i < m1; i += lv.mr) {
          int mr = static_cast<int>(std::min<int64_t>(lv.mr, m1 - i));
          lv.kernel(Kpad / lv.kg, pa + i * Kpad * elem, Kpad * elem, mr, panel, tile);
          lv.output(out, tile, lv.nr, rowsum.data() + i, zb.data() + p, colterm.data() + p, i, mr, p, nc);
        }
      }
    }
  };
  if (pool && pool->num_threads() > 1 && M * N * K > (1 << 16)) {
    if (!in_place) pool->parallel_for(M, lv.mr, pack);
    pool->parallel_for(mt * nt, 1, tiles, mt * nt);
  } else {
    if (!in_place) pack(0, M);
    tiles(0, mt * nt);
  }
}

}  // namespace xinrt
