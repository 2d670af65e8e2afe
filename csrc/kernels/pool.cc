// MaxPool, AveragePool (1-D/2-D NCHW) and GlobalAveragePool/GlobalMaxPool (any rank >= 3).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/simd_level.h"
#include "core/registry.h"
#include "kernels/conv_geometry.h"
#include "kernels/pool_plane.h"

namespace xinrt {

// SIMD inner loops (kernels/x86/pool_avx512.cc, kernels/arm/pool_neon.cc).
void pool_rows_max_avx512(float* v, const float* row, int64_t n);
void pool_rows_add_avx512(float* v, const float* row, int64_t n);
void pool_taps_max_avx512(float* y, const float* t, int64_t s, int64_t n);
void pool_taps_add_avx512(float* y, const float* t, int64_t s, int64_t n);
void pool_rows_max_neon(float* v, const float* row, int64_t n);
void pool_rows_add_neon(float* v, const float* row, int64_t n);
void pool_taps_max_neon(float* y, const float* t, int64_t s, int64_t n);
void pool_taps_add_neon(float* y, const float* t, int64_t s, int64_t n);
float global_max_neon(const float* x, int64_t n);
double global_sum_neon(const float* x, int64_t n);

namespace {

std::string check_pool(const NodeInfo& n) {
  const std::string& op = n.op_type;
  int64_t rank = n.input_rank(0);
  if (rank >= 0 && rank != 3 && rank != 4) return op + ": only 1-D and 2-D pooling (rank 3 or 4 inputs)";
  if (!n.has_attr("kernel_shape")) return op + ": kernel_shape attribute missing";
  size_t spatial = n.attr_ints("kernel_shape").size();
  if (spatial != 1 && spatial != 2) return op + ": only 1-D and 2-D kernels";
  if (rank >= 0 && static_cast<size_t>(rank) != spatial + 2) return op + ": kernel_shape rank differs from input";
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap == "SAME_LOWER") return op + ": auto_pad SAME_LOWER (onnx.reference's output size differs from the spec)";
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER") return op + ": unknown auto_pad " + ap;
  if (op == "MaxPool") {
    if (n.num_outputs > 1) return "MaxPool: the Indices output is not supported";
  } else {
    for (int64_t d : n.attr_ints("dilations", {}))
      if (d != 1) return "AveragePool: dilations other than 1 are not supported";
    if (n.attr_int("ceil_mode", 0) != 0 && n.attr_int("count_include_pad", 0) != 0)
      return "AveragePool: ceil_mode with count_include_pad is not supported";
  }
  return "";
}

void compute_pool(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  if (X.dtype != DType::f32) throw KernelError(op + ": float32 only");
  if (X.rank() != 3 && X.rank() != 4) throw KernelError(op + ": input must be rank 3 or 4, got " + shape_str(X.shape));
  bool is_max = op == "MaxPool";
  std::vector<int64_t> spatial(X.shape.begin() + 2, X.shape.end());
  std::vector<int64_t> kernel = ctx.node.attr_ints("kernel_shape");
  std::vector<int64_t> pads = ctx.node.attr_ints("pads");
  for (size_t i = 0; i < pads.size() && !kernel.empty(); ++i)
    if (pads[i] >= kernel[i % kernel.size()])  // as ONNX Runtime
      throw ModelError(op + ": pads " + shape_str(pads) + " must be smaller than kernel_shape " + shape_str(kernel));
  WindowGeometry g = window_geometry(ctx.node, spatial, kernel, ctx.node.opset >= 10);
  if (!is_max && (g.d_h != 1 || g.d_w != 1)) throw KernelError("AveragePool: dilations are not supported");
  bool include_pad = ctx.node.attr_int("count_include_pad", 0) != 0;
  Shape out_shape{X.dim(0), X.dim(1)};
  if (g.spatial == 2) out_shape.push_back(g.out_h);
  out_shape.push_back(g.out_w);
  out[0] = Tensor::empty(DType::f32, out_shape);
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  int64_t planes = X.dim(0) * X.dim(1);
  // Valid kernel taps per output row / column, computed once: the loops below never bounds-check.
  auto taps = [](int64_t out, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad, std::vector<int64_t>& lo,
                 std::vector<int64_t>& hi) {
    lo.resize(out);
    hi.resize(out);
    for (int64_t o = 0; o < out; ++o) {
      int64_t start = o * s - pad, a = 0, b = k;
      while (a < k && start + a * d < 0) ++a;
      while (b > a && start + (b - 1) * d >= in) --b;
      lo[o] = a;
      hi[o] = b;
    }
  };
  std::vector<int64_t> kh_lo, kh_hi, kw_lo, kw_hi;
  taps(g.out_h, g.in_h, g.k_h, g.s_h, is_max ? g.d_h : 1, g.pad_top, kh_lo, kh_hi);
  taps(g.out_w, g.in_w, g.k_w, g.s_w, is_max ? g.d_w : 1, g.pad_left, kw_lo, kw_hi);
  std::vector<int64_t> col_count(g.out_w);  // AveragePool's window columns per output column
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    int64_t w0 = ow * g.s_w - g.pad_left;
    col_count[ow] = include_pad ? std::min(w0 + g.k_w, g.in_w + g.pad_right) - w0 : kw_hi[ow] - kw_lo[ow];
  }
  std::vector<int64_t> window_rows(g.out_h);  // AveragePool's window rows per output row
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    int64_t h0 = oh * g.s_h - g.pad_top;
    window_rows[oh] = include_pad ? std::min(h0 + g.k_h, g.in_h + g.pad_bottom) - h0 : kh_hi[oh] - kh_lo[oh];
  }
  // Output columns [col_lo[kj], col_hi[kj]) whose tap kj falls inside the input row.
  std::vector<int64_t> col_lo(g.k_w, g.out_w), col_hi(g.k_w, 0);
  [[maybe_unused]] const bool neon = XINRT_HAVE_NEON && ctx.simd >= kSimdNeon;
  [[maybe_unused]] const bool avx512 = XINRT_HAVE_X86 && ctx.simd >= kSimdAvx512;
  for (int64_t ow = 0; ow < g.out_w; ++ow)
    for (int64_t kj = kw_lo[ow]; kj < kw_hi[ow]; ++kj) {
      col_lo[kj] = std::min(col_lo[kj], ow);
      col_hi[kj] = std::max(col_hi[kj], ow + 1);
    }
  // AVX-512: whole planes, every tap read in place (pool_plane.h), at column stride 1, and at
  // stride 2 for rows of up to 16 outputs (one vector; wider rows were faster reduced row by
  // row: 64x112x112 3x3/2 went 1.60-1.80 -> 2.13 x ORT whole-plane, 256x27x27 3.9 -> 1.84).
  PoolPlane plane;
  std::vector<float> rows_f, col_count_f;
  const bool whole_planes = avx512 && (g.s_w == 1 || (g.s_w == 2 && g.out_w <= 16));
  if (whole_planes) {
    plane.g = &g;
    plane.kh_lo = kh_lo.data();
    plane.kh_hi = kh_hi.data();
    plane.col_lo = col_lo.data();
    plane.col_hi = col_hi.data();
    plane.is_max = is_max;
    for (int64_t oh = 0; oh < g.out_h && !is_max; ++oh) rows_f.push_back(static_cast<float>(window_rows[oh]));
    for (int64_t ow = 0; ow < g.out_w && !is_max; ++ow) col_count_f.push_back(static_cast<float>(col_count[ow]));
    plane.rows = rows_f.data();
    plane.col_count = col_count_f.data();
  }
  // Per output row: reduce the window's input rows into one row first (contiguous, so it
  // vectorises), then reduce each output column's taps along that row; the SIMD loops for both
  // steps are picked here, the portable ones run where none is.
  void (*rows_loop)(float*, const float*, int64_t) = nullptr;
  void (*taps_loop)(float*, const float*, int64_t, int64_t) = nullptr;
#if XINRT_HAVE_X86
  if (avx512) {
    rows_loop = is_max ? pool_rows_max_avx512 : pool_rows_add_avx512;
    taps_loop = is_max ? pool_taps_max_avx512 : pool_taps_add_avx512;
  }
#endif
#if XINRT_HAVE_NEON
  if (neon) {
    rows_loop = is_max ? pool_rows_max_neon : pool_rows_add_neon;
    taps_loop = is_max ? pool_taps_max_neon : pool_taps_add_neon;
  }
#endif
  ctx.pool.parallel_for(planes, 1, [&](int64_t p0, int64_t p1) {
#if XINRT_HAVE_X86
    if (whole_planes) {
      pool_planes_avx512(x + p0 * g.in_h * g.in_w, y + p0 * g.out_h * g.out_w, p1 - p0, plane);
      return;
    }
#endif
    // 32 spare floats: the AVX-512 taps read up to 32 floats from any tap (pool_avx512.cc).
    std::vector<float> line(static_cast<size_t>(g.in_w) + 32);
    float* v = line.data();
    for (int64_t p = p0; p < p1; ++p) {
      const float* xp = x + p * g.in_h * g.in_w;
      float* yp = y + p * g.out_h * g.out_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        int64_t h0 = oh * g.s_h - g.pad_top;
        float* yr = yp + oh * g.out_w;
        if (is_max) {
          // NaN never wins a comparison, so NaNs are skipped (on every SIMD path alike).
          std::fill(line.begin(), line.end(), -std::numeric_limits<float>::infinity());
          for (int64_t ki = kh_lo[oh]; ki < kh_hi[oh]; ++ki) {
            const float* row = xp + (h0 + ki * g.d_h) * g.in_w;
            if (rows_loop) {
              rows_loop(v, row, g.in_w);
              continue;
            }
            for (int64_t i = 0; i < g.in_w; ++i) v[i] = row[i] > v[i] ? row[i] : v[i];
          }
          std::fill(yr, yr + g.out_w, -std::numeric_limits<float>::infinity());
          for (int64_t kj = 0; kj < g.k_w; ++kj) {  // tap-major: branch-free and vectorisable
            const float* t = v + kj * g.d_w - g.pad_left;
            if (taps_loop) {
              if (col_hi[kj] > col_lo[kj])
                taps_loop(yr + col_lo[kj], t + col_lo[kj] * g.s_w, g.s_w, col_hi[kj] - col_lo[kj]);
              continue;
            }
            for (int64_t ow = col_lo[kj]; ow < col_hi[kj]; ++ow) {
              float e = t[ow * g.s_w];
              yr[ow] = e > yr[ow] ? e : yr[ow];
            }
          }
        } else {
          std::fill(line.begin(), line.end(), 0.0f);
          for (int64_t ki = kh_lo[oh]; ki < kh_hi[oh]; ++ki) {
            const float* row = xp + (h0 + ki) * g.in_w;
            if (rows_loop) {
              rows_loop(v, row, g.in_w);
              continue;
            }
            for (int64_t i = 0; i < g.in_w; ++i) v[i] += row[i];
          }
          std::fill(yr, yr + g.out_w, 0.0f);
          for (int64_t kj = 0; kj < g.k_w; ++kj) {
            const float* t = v + kj - g.pad_left;
            if (taps_loop) {
              if (col_hi[kj] > col_lo[kj])
                taps_loop(yr + col_lo[kj], t + col_lo[kj] * g.s_w, g.s_w, col_hi[kj] - col_lo[kj]);
              continue;
            }
            for (int64_t ow = col_lo[kj]; ow < col_hi[kj]; ++ow) yr[ow] += t[ow * g.s_w];
          }
          // The divisor is (window rows) x (window columns), counted with or without padding.
          for (int64_t ow = 0; ow < g.out_w; ++ow) {
            int64_t count = window_rows[oh] * col_count[ow];
            yr[ow] = count > 0 ? yr[ow] / static_cast<float>(count) : 0.0f;
          }
        }
      }
    }
  });
}

void compute_global_pool(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  if (X.dtype != DType::f32) throw KernelError(op + ": float32 only");
  if (X.rank() < 3) throw KernelError(op + ": input must have rank >= 3, got " + shape_str(X.shape));
  Shape out_shape(X.shape.size(), 1);
  out_shape[0] = X.dim(0);
  out_shape[1] = X.dim(1);
  out[0] = Tensor::empty(DType::f32, out_shape);
  int64_t planes = X.dim(0) * X.dim(1), size = planes ? X.numel() / planes : 0;
  const float* x = X.ptr<float>();
  float* y = out[0].ptr<float>();
  bool is_max = op == "GlobalMaxPool";
  [[maybe_unused]] const bool neon = XINRT_HAVE_NEON && ctx.simd >= kSimdNeon;
  ctx.pool.parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(size, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* xp = x + p * size;
#if XINRT_HAVE_NEON
      if (neon) {
        y[p] = is_max ? global_max_neon(xp, size)
                      : static_cast<float>(global_sum_neon(xp, size) / static_cast<double>(size));
        continue;
      }
#endif
      if (is_max) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t i = 0; i < size; ++i) m = (xp[i] > m || std::isnan(xp[i])) ? xp[i] : m;
        y[p] = m;
      } else {
        double s = 0.0;
        for (int64_t i = 0; i < size; ++i) s += xp[i];
        y[p] = static_cast<float>(s / static_cast<double>(size));
      }
    }
  });
}

std::string check_global_pool(const NodeInfo& n) {
  if (n.input_rank(0) >= 0 && n.input_rank(0) < 3) return n.op_type + ": input must have rank >= 3";
  return "";
}

}  // namespace

void register_pool(std::vector<Kernel>& k) {
  k.push_back(Kernel("MaxPool").opsets(1, kMaxOpset).types({DType::f32}).check(check_pool)
              .compute(compute_pool));
  k.push_back(Kernel("AveragePool").opsets(1, kMaxOpset).types({DType::f32}).check(check_pool)
              .compute(compute_pool));
  k.push_back(Kernel("GlobalAveragePool").opsets(1, kMaxOpset).types({DType::f32}).check(check_global_pool)
              .compute(compute_global_pool));
  k.push_back(Kernel("GlobalMaxPool").opsets(1, kMaxOpset).types({DType::f32}).check(check_global_pool)
              .compute(compute_global_pool));
}

}  // namespace xinrt
