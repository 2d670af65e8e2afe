// QLinearConv and ConvInteger (1-D and 2-D) on the int8 GEMM of qgemm.h, computed in NHWC as
// ONNX Runtime does: the NCHW input is transposed once, each group is one GEMM whose A rows are
// the im2col rows [out pixels, kh*kw*Cg] (the NHWC input itself for 1x1 stride-1 unpadded) and
// whose B is the weights as [kh*kw*Cg, Mg] packed at plan time, and the NHWC result is
// transposed back. Depthwise convolutions (one input channel per group) use a direct loop.
// Between fused int8 steps the plan keeps tensors NHWC (kNhwcAttr), and those transposes go.
// Requantization is the qgemm output stage: y = saturate(round_half_even((acc + bias) *
// (x_scale * w_scale[m] / y_scale)) + y_zero_point), the float arithmetic of ORT's QLinearConv.
#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/registry.h"
#include "kernels/conv_geometry.h"
#include "kernels/qgemm.h"

namespace xinrt {

namespace {

bool is_int8(DType d) { return d == DType::u8 || d == DType::i8; }

// The output stage of a convolution: int32 (ConvInteger) or requantized (QLinearConv).
struct QConvStage {
  QGemmOutput::Kind kind = QGemmOutput::kInt32;
  const float* scale = nullptr;  // x_scale * w_scale / y_scale: 1 or M values
  int64_t scale_count = 1;
  const int32_t* bias = nullptr;
  int32_t out_zero = 0;
  bool relu = false;  // a Relu between the Conv and its QuantizeLinear, fused by the plan
  // Layouts the plan chose (kNhwcAttr): NHWC input/output skip the transposes.
  bool nhwc_in = false, nhwc_out = false;
};

struct QConvWeights {  // B packed per group for the plan's SimdLevel
  std::vector<std::shared_ptr<QPackedB>> groups;
};

// Zero points as int32 (absent: 0).
std::vector<int32_t> zero_points(const Tensor* zp) {
  std::vector<int32_t> z;
  if (!zp) return {0};
  for (int64_t i = 0; i < zp->numel(); ++i)
    z.push_back(zp->dtype == DType::u8 ? zp->ptr<uint8_t>()[i] : zp->ptr<int8_t>()[i]);
  return z;
}

// Weights [M, Cg, kh, kw] of each group reordered to rows [Mg][kh*kw*Cg] (the NHWC tap order)
// and packed as B = their transpose [K, Mg].
std::shared_ptr<QConvWeights> pack_weights(const Tensor& W, const std::vector<int32_t>& w_zero, int64_t group,
                                           int simd) {
  const int64_t M = W.dim(0), Cg = W.dim(1), taps = W.numel() / (M * Cg), K = Cg * taps, Mg = M / group;
  const bool s = W.dtype == DType::i8;
  const uint8_t* w = static_cast<const uint8_t*>(W.data);
  std::vector<uint8_t> rows(static_cast<size_t>(Mg * K));
  auto state = std::make_shared<QConvWeights>();
  for (int64_t g = 0; g < group; ++g) {
    for (int64_t m = 0; m < Mg; ++m)
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t t = 0; t < taps; ++t) rows[m * K + t * Cg + c] = w[((g * Mg + m) * Cg + c) * taps + t];
    bool per_channel = w_zero.size() > 1;
    state->groups.push_back(qpack_b(rows.data(), s, K, Mg, K, true, w_zero.data() + (per_channel ? g * Mg : 0),
                                    per_channel ? Mg : 1, simd));
  }
  return state;
}

// The whole 8x8 byte blocks of tile [r0, r1) x [c0, c1), transposed with SSE2 byte/word/dword
// interleaves; *rb, *cb: rows [r0, *rb) are done up to column *cb (the rest is left to the caller).
template <class T>
void transpose_blocks_u8(const T* src_t, T* dst_t, int64_t rows, int64_t cols, int64_t r0, int64_t r1, int64_t c0,
                         int64_t c1, int64_t* rb, int64_t* cb) {
#if defined(__SSE2__)
  const uint8_t* src = reinterpret_cast<const uint8_t*>(src_t);
  uint8_t* dst = reinterpret_cast<uint8_t*>(dst_t);
  const int64_t r_end = r0 + (r1 - r0) / 8 * 8, c_end = c0 + (c1 - c0) / 8 * 8;
  for (int64_t r = r0; r < r_end; r += 8)
    for (int64_t c = c0; c < c_end; c += 8) {
      __m128i x[8];
      for (int i = 0; i < 8; ++i) x[i] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + (r + i) * cols + c));
      __m128i a0 = _mm_unpacklo_epi8(x[0], x[1]), a1 = _mm_unpacklo_epi8(x[2], x[3]);
      __m128i a2 = _mm_unpacklo_epi8(x[4], x[5]), a3 = _mm_unpacklo_epi8(x[6], x[7]);
      __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
      __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
      // Each c holds two output rows (input columns) of 8 bytes.
      __m128i c_pairs[4] = {_mm_unpacklo_epi32(b0, b2), _mm_unpackhi_epi32(b0, b2), _mm_unpacklo_epi32(b1, b3),
                            _mm_unpackhi_epi32(b1, b3)};
      for (int j = 0; j < 4; ++j) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + (c + 2 * j) * rows + r), c_pairs[j]);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + (c + 2 * j + 1) * rows + r),
                         _mm_unpackhi_epi64(c_pairs[j], c_pairs[j]));
      }
    }
  *rb = r_end;
  *cb = c_end;
#endif
}

template <class T>
void transpose_2d(const T* src, T* dst, int64_t rows, int64_t cols, ThreadPool& pool) {
  // dst[c, r] = src[r, c], in tiles so both sides stay in cache.
  constexpr int64_t kTile = 32;
  int64_t row_tiles = (rows + kTile - 1) / kTile;
  pool.parallel_for(row_tiles, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t r0 = t * kTile, r1 = std::min(rows, r0 + kTile);
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        int64_t c1 = std::min(cols, c0 + kTile);
        int64_t rb = r0, cb = c0;  // the 8x8 blocks a SIMD path did (none here)
        if constexpr (sizeof(T) == 1) transpose_blocks_u8(src, dst, rows, cols, r0, r1, c0, c1, &rb, &cb);
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = (r < rb ? cb : c0); c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
      }
    }
  });
}

// im2col rows of one image's group: row p = (oh, ow), columns (ki, kj, c) of NHWC input `x`
// (row stride C); taps in the padding read the input zero point (a zero after subtraction).
void im2col_nhwc(const uint8_t* x, int64_t C, int64_t Cg, const WindowGeometry& g, uint8_t pad_value,
                 uint8_t* col, ThreadPool& pool) {
  const int64_t K = g.k_h * g.k_w * Cg;
  pool.parallel_for(g.out_h, 1, [&](int64_t oh0, int64_t oh1) {
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        uint8_t* d = col + (oh * g.out_w + ow) * K;
        for (int64_t ki = 0; ki < g.k_h; ++ki) {
          int64_t ih = oh * g.s_h - g.pad_top + ki * g.d_h, iw0 = ow * g.s_w - g.pad_left;
          // One group, no dilation and the whole row of taps inside: the taps are one run.
          if (Cg == C && g.d_w == 1 && ih >= 0 && ih < g.in_h && iw0 >= 0 && iw0 + g.k_w <= g.in_w) {
            std::memcpy(d, x + (ih * g.in_w + iw0) * C, static_cast<size_t>(g.k_w * C));
            d += g.k_w * C;
            continue;
          }
          for (int64_t kj = 0; kj < g.k_w; ++kj, d += Cg) {
            int64_t iw = ow * g.s_w - g.pad_left + kj * g.d_w;
            if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w)
              std::memset(d, pad_value, static_cast<size_t>(Cg));
            else
              std::memcpy(d, x + (ih * g.in_w + iw) * C, static_cast<size_t>(Cg));
          }
        }
      }
  });
}

// saturate(round_half_even(acc * scale) + zero), as qgemm's output stage. Clamping first keeps
// |v| < 2^22, where adding and subtracting 1.5 * 2^23 rounds half to even without a libm call
// (so the loops over channels vectorize); both bounds are integers, so the result is the same.
template <class T>
T requantize(int32_t acc, float scale, int32_t zero) {
  constexpr float lo = std::is_signed<T>::value ? -128.0f : 0.0f, hi = std::is_signed<T>::value ? 127.0f : 255.0f;
  const float z = static_cast<float>(zero);
  float v = std::min(hi - z, std::max(lo - z, static_cast<float>(acc) * scale));
  v = (v + 12582912.0f) - 12582912.0f;
  return static_cast<T>(static_cast<int32_t>(v) + zero);
}

// A row of requantized outputs; restrict pointers and by-value sizes so the loop vectorizes
// (byte stores could alias anything read through a pointer or reference otherwise).
template <class T>
void requantize_row(const int32_t* __restrict acc, const float* __restrict scale, int64_t n, int32_t zero,
                    T* __restrict y) {
  for (int64_t m = 0; m < n; ++m) y[m] = requantize<T>(acc[m], scale[m], zero);
}

// Depthwise (Cg == 1): output channel m reads input channel m / multiplier, all in NHWC. The
// weights are laid out tap-major with their zero points subtracted, so the loops over channels
// are unit-stride and vectorize.
template <class XT, class WT>
void depthwise_nhwc(const XT* x, const WT* w, int64_t C, int64_t M, const WindowGeometry& g, int32_t x_zero,
                    const std::vector<int32_t>& w_zero, const QConvStage& st, void* y, ThreadPool& pool) {
  const int64_t multiplier = M / C, taps = g.k_h * g.k_w;
  std::vector<int16_t> wt(static_cast<size_t>(taps * M));  // (w - w_zero) fits int16
  for (int64_t m = 0; m < M; ++m)
    for (int64_t t = 0; t < taps; ++t)
      wt[t * M + m] = static_cast<int16_t>(static_cast<int32_t>(w[m * taps + t]) - w_zero[w_zero.size() > 1 ? m : 0]);
  std::vector<float> scale(static_cast<size_t>(M), 1.0f);
  for (int64_t m = 0; st.scale && m < M; ++m) scale[m] = st.scale[st.scale_count > 1 ? m : 0];
  std::vector<int32_t> bias(static_cast<size_t>(M), 0);
  for (int64_t m = 0; st.bias && m < M; ++m) bias[m] = st.bias[m];
  const int32_t out_zero = st.out_zero;
  pool.parallel_for(g.out_h, 1, [&](int64_t oh0, int64_t oh1) {
    std::vector<int32_t> acc(static_cast<size_t>(M));
    std::vector<int16_t> xs(static_cast<size_t>(M));  // one pixel's input per output channel, minus x_zero
    int32_t* __restrict a = acc.data();
    int16_t* __restrict xv = xs.data();
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        std::memcpy(a, bias.data(), sizeof(int32_t) * M);
        for (int64_t ki = 0; ki < g.k_h; ++ki) {
          int64_t ih = oh * g.s_h - g.pad_top + ki * g.d_h;
          if (ih < 0 || ih >= g.in_h) continue;
          for (int64_t kj = 0; kj < g.k_w; ++kj) {
            int64_t iw = ow * g.s_w - g.pad_left + kj * g.d_w;
            if (iw < 0 || iw >= g.in_w) continue;
            const XT* xp = x + (ih * g.in_w + iw) * C;
            if (multiplier == 1)
              for (int64_t m = 0; m < M; ++m) xv[m] = static_cast<int16_t>(static_cast<int32_t>(xp[m]) - x_zero);
            else
              for (int64_t m = 0; m < M; ++m)
                xv[m] = static_cast<int16_t>(static_cast<int32_t>(xp[m / multiplier]) - x_zero);
            const int16_t* __restrict wk = wt.data() + (ki * g.k_w + kj) * M;
            for (int64_t m = 0; m < M; ++m) a[m] += static_cast<int32_t>(xv[m]) * wk[m];
          }
        }
        int64_t p = oh * g.out_w + ow;
        if (st.kind == QGemmOutput::kInt32)
          std::memcpy(static_cast<int32_t*>(y) + p * M, a, sizeof(int32_t) * M);
        else if (st.kind == QGemmOutput::kUint8)
          requantize_row(a, scale.data(), M, out_zero, static_cast<uint8_t*>(y) + p * M);
        else
          requantize_row(a, scale.data(), M, out_zero, static_cast<int8_t*>(y) + p * M);
      }
  });
}

std::shared_ptr<void> prepare_qconv_weights(const Tensor* W, const Tensor* w_zero, int64_t group, int simd) {
  if (!W || !is_int8(W->dtype) || W->rank() < 3 || group < 1 || W->dim(0) % group != 0) return nullptr;
  if (W->dim(1) == 1 && group > 1) return nullptr;  // depthwise: direct loop, nothing to pack
  if (w_zero && (w_zero->dtype != W->dtype || (w_zero->numel() != 1 && w_zero->numel() != W->dim(0))))
    return nullptr;
  return pack_weights(*W, zero_points(w_zero), group, simd);
}

}  // namespace

// An int8 tensor moved between NCHW [N, C, spatial...] and NHWC [N, spatial..., C].
Tensor int8_to_layout(const Tensor& t, bool to_nhwc, ThreadPool& pool) {
  if (t.rank() < 3) throw KernelError("layout change needs a rank >= 3 tensor, got " + shape_str(t.shape));
  const int64_t N = t.dim(0), C = t.dim(to_nhwc ? 1 : -1), S = t.numel() / std::max<int64_t>(1, N * C);
  Shape shape{N};
  if (!to_nhwc) shape.push_back(C);
  for (int64_t i = to_nhwc ? 2 : 1; i < t.rank() - (to_nhwc ? 0 : 1); ++i) shape.push_back(t.dim(i));
  if (to_nhwc) shape.push_back(C);
  Tensor out = Tensor::empty(t.dtype, shape);
  for (int64_t n = 0; n < N; ++n) {
    const uint8_t* src = static_cast<const uint8_t*>(t.data) + n * C * S;
    uint8_t* dst = static_cast<uint8_t*>(out.data) + n * C * S;
    if (to_nhwc) transpose_2d(src, dst, C, S, pool);
    else transpose_2d(src, dst, S, C, pool);
  }
  return out;
}

namespace {

void qconv_nchw(const KernelContext& ctx, const Tensor& X, const Tensor& W, int32_t x_zero, const Tensor* w_zero,
                const void* packed, const QConvStage& stage, Tensor& Y) {
  const char* op = ctx.node.op_type.c_str();
  if (!is_int8(X.dtype) || !is_int8(W.dtype))
    throw KernelError(std::string(op) + ": x and w must be uint8 or int8, got " + dtype_name(X.dtype) + " and " +
                      dtype_name(W.dtype));
  if (X.rank() != W.rank() || (X.rank() != 3 && X.rank() != 4))
    throw KernelError(std::string(op) + ": input " + shape_str(X.shape) + " and weight " + shape_str(W.shape) +
                      " must both be rank 3 or 4");
  const int64_t group = ctx.node.attr_int("group", 1);
  const int64_t N = X.dim(0), C = X.dim(stage.nhwc_in ? -1 : 1), M = W.dim(0), Cg = W.dim(1);
  if (group < 1 || C != Cg * group || M % group != 0)
    throw KernelError(std::string(op) + ": input channels " + std::to_string(C) + " / weight " +
                      shape_str(W.shape) + " do not match group " + std::to_string(group));
  if (w_zero && (w_zero->dtype != W.dtype || (w_zero->numel() != 1 && w_zero->numel() != M)))
    throw KernelError(std::string(op) + ": w_zero_point must be " + dtype_name(W.dtype) + " with 1 or " +
                      std::to_string(M) + " values, got " + dtype_name(w_zero->dtype) + " " +
                      shape_str(w_zero->shape));
  if (stage.scale_count != 1 && stage.scale_count != M)
    throw KernelError(std::string(op) + ": w_scale has " + std::to_string(stage.scale_count) + " values, expected 1 or " +
                      std::to_string(M));
  std::vector<int64_t> spatial(X.shape.begin() + (stage.nhwc_in ? 1 : 2), X.shape.end() - (stage.nhwc_in ? 1 : 0));
  std::vector<int64_t> kernel(W.shape.begin() + 2, W.shape.end());
  if (ctx.node.attr_ints("kernel_shape", kernel) != kernel)
    throw KernelError(std::string(op) + ": kernel_shape attribute differs from the weight's shape");
  WindowGeometry g = window_geometry(ctx.node, spatial, kernel, false);
  Shape out_shape{N};
  if (!stage.nhwc_out) out_shape.push_back(M);
  if (g.spatial == 2) out_shape.push_back(g.out_h);
  out_shape.push_back(g.out_w);
  if (stage.nhwc_out) out_shape.push_back(M);
  DType out_dtype = stage.kind == QGemmOutput::kInt32 ? DType::i32
                    : stage.kind == QGemmOutput::kUint8 ? DType::u8 : DType::i8;
  Y = Tensor::empty(out_dtype, out_shape);
  if (Y.numel() == 0) return;
  const int64_t HW = g.in_h * g.in_w, P = g.out_h * g.out_w, Mg = M / group, K = Cg * g.k_h * g.k_w;
  const size_t out_size = dtype_size(out_dtype);
  std::vector<int32_t> wz = zero_points(w_zero);
  const bool depthwise = Cg == 1 && group > 1;
  std::shared_ptr<QConvWeights> own;
  const QConvWeights* pw = static_cast<const QConvWeights*>(packed);
  if (!depthwise && !pw) {
    own = pack_weights(W, wz, group, ctx.simd);
    pw = own.get();
  }
  const bool direct = g.k_h == 1 && g.k_w == 1 && g.s_h == 1 && g.s_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                      g.pad_bottom == 0 && g.pad_right == 0;
  // Per-thread scratch that only grows: no page faults or zero-filling on every run.
  thread_local std::vector<uint8_t> x_nhwc, col, y_nhwc;
  auto reserve = [](std::vector<uint8_t>& v, int64_t n) {
    if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  };
  if (!stage.nhwc_in) reserve(x_nhwc, HW * C);
  if (!direct && !depthwise) reserve(col, P * K);
  if (!stage.nhwc_out) reserve(y_nhwc, P * M * static_cast<int64_t>(out_size));
  const bool a_signed = X.dtype == DType::i8;
  for (int64_t n = 0; n < N; ++n) {
    const uint8_t* x_image = static_cast<const uint8_t*>(X.data) + n * C * HW;
    uint8_t* y_image = static_cast<uint8_t*>(Y.data) + n * M * P * out_size;
    const uint8_t* xt = x_image;
    if (!stage.nhwc_in) {
      transpose_2d(x_image, x_nhwc.data(), C, HW, ctx.pool);
      xt = x_nhwc.data();
    }
    uint8_t* yt = stage.nhwc_out ? y_image : y_nhwc.data();
    if (depthwise) {
      if (X.dtype == DType::u8 && W.dtype == DType::i8)
        depthwise_nhwc(xt, W.ptr<int8_t>(), C, M, g, x_zero, wz, stage, yt, ctx.pool);
      else if (X.dtype == DType::u8)
        depthwise_nhwc(xt, W.ptr<uint8_t>(), C, M, g, x_zero, wz, stage, yt, ctx.pool);
      else if (W.dtype == DType::i8)
        depthwise_nhwc(reinterpret_cast<const int8_t*>(xt), W.ptr<int8_t>(), C, M, g, x_zero, wz, stage,
                       yt, ctx.pool);
      else
        depthwise_nhwc(reinterpret_cast<const int8_t*>(xt), W.ptr<uint8_t>(), C, M, g, x_zero, wz, stage,
                       yt, ctx.pool);
    } else {
      for (int64_t gi = 0; gi < group; ++gi) {
        const uint8_t* a = xt + gi * Cg;
        int64_t lda = C;
        if (!direct) {
          im2col_nhwc(xt + gi * Cg, C, Cg, g, static_cast<uint8_t>(x_zero), col.data(), ctx.pool);
          a = col.data();
          lda = K;
        }
        QGemmOutput out;
        out.kind = stage.kind;
        out.c = yt + gi * Mg * out_size;
        out.ldc = M;
        out.scale = stage.scale ? stage.scale + (stage.scale_count > 1 ? gi * Mg : 0) : nullptr;
        out.scale_count = stage.scale_count > 1 ? Mg : 1;
        out.bias = stage.bias ? stage.bias + gi * Mg : nullptr;
        out.out_zero = stage.out_zero;
        qgemm(P, a, a_signed, lda, x_zero, *pw->groups[gi], out, &ctx.pool, ctx.simd);
      }
    }
    // Relu fused before the Quantize: Q(max(v, 0)) = max(Q(v), Q(0)) = max(q, y_zero_point).
    if (stage.relu && stage.kind == QGemmOutput::kUint8) {
      uint8_t z = static_cast<uint8_t>(stage.out_zero);
      for (int64_t i = 0; i < P * M; ++i) yt[i] = std::max(yt[i], z);
    } else if (stage.relu && stage.kind == QGemmOutput::kInt8) {
      int8_t* v = reinterpret_cast<int8_t*>(yt);
      for (int64_t i = 0; i < P * M; ++i) v[i] = std::max<int8_t>(v[i], static_cast<int8_t>(stage.out_zero));
    }
    if (stage.nhwc_out) continue;
    if (out_size == 4)
      transpose_2d(reinterpret_cast<const int32_t*>(yt), reinterpret_cast<int32_t*>(y_image), P, M, ctx.pool);
    else
      transpose_2d(yt, y_image, P, M, ctx.pool);
  }
}

// A scalar (or 1-element) float32 scale input.
std::string check_scalar(const NodeInfo& n, size_t i, const char* what, bool per_channel_ok) {
  if (!n.has_input(i)) return n.op_type + ": " + what + " missing";
  if (n.input_dtypes[i] != DType::f32 && n.input_dtypes[i] != DType::unknown)
    return n.op_type + ": " + what + " must be float32";
  if (!per_channel_ok && n.input_shapes[i] && known_numel(*n.input_shapes[i]) != 1)
    return n.op_type + ": " + what + " must be a scalar (per-tensor)";
  return "";
}

std::string check_geometry(const NodeInfo& n) {
  int64_t rank = n.input_rank(0) >= 0 ? n.input_rank(0) : n.input_rank(n.op_type == "QLinearConv" ? 3 : 1);
  if (rank >= 0 && rank != 3 && rank != 4) return n.op_type + ": only 1-D and 2-D convolutions (rank 3 or 4)";
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER")
    return n.op_type + ": unknown auto_pad " + ap;
  if (n.attr_int("group", 1) < 1) return n.op_type + ": group must be >= 1";
  return "";
}

std::string check_qlinearconv(const NodeInfo& n) {
  if (n.input_dtypes.size() < 8) return "QLinearConv: expected 8 or 9 inputs";
  for (size_t i : {0, 3}) {
    DType d = n.input_dtypes[i];
    if (d != DType::unknown && !is_int8(d)) return "QLinearConv: x and w must be uint8 or int8";
  }
  for (auto [zp, of] : {std::pair<size_t, size_t>{2, 0}, {5, 3}, {7, 7}}) {
    if (!n.has_input(zp)) return "QLinearConv: zero point input " + std::to_string(zp) + " missing";
    DType d = n.input_dtypes[zp], want = n.input_dtypes[of];
    if (d != DType::unknown && !is_int8(d)) return "QLinearConv: zero points must be uint8 or int8";
    if (of != zp && d != DType::unknown && want != DType::unknown && d != want)
      return "QLinearConv: zero point dtype differs from its tensor's";
  }
  for (auto [i, what] : {std::pair<size_t, const char*>{1, "x_scale"}, {4, "w_scale"}, {6, "y_scale"}}) {
    std::string r = check_scalar(n, i, what, i == 4);
    if (!r.empty()) return r;
  }
  if (n.has_input(8) && n.input_dtypes[8] != DType::i32 && n.input_dtypes[8] != DType::unknown)
    return "QLinearConv: bias must be int32";
  return check_geometry(n);
}

std::vector<DType> qlinearconv_dtypes(const NodeInfo& n) {
  return {n.input_dtypes.size() > 7 ? n.input_dtypes[7] : DType::unknown};
}

const Tensor* constant(const NodeInfo& n, size_t i) {
  return i < n.input_constants.size() ? n.input_constants[i] : nullptr;
}

std::shared_ptr<void> prepare_qlinearconv(const NodeInfo& n, int simd) {
  return prepare_qconv_weights(constant(n, 3), constant(n, 5), n.attr_int("group", 1), simd);
}

float scalar_f32(const Tensor* t, const char* op, const char* what) {
  if (!t || t->dtype != DType::f32 || t->numel() != 1)
    throw KernelError(std::string(op) + ": " + what + " must be one float32 value, got " +
                      (t ? std::string(dtype_name(t->dtype)) + " " + shape_str(t->shape) : "none"));
  return *t->ptr<float>();
}

int32_t scalar_zero(const Tensor* t, DType want, const char* op, const char* what) {
  if (!t) return 0;
  if (t->dtype != want || t->numel() != 1)
    throw KernelError(std::string(op) + ": " + what + " must be one " + dtype_name(want) + " value, got " +
                      dtype_name(t->dtype) + " " + shape_str(t->shape));
  return zero_points(t)[0];
}

void compute_qlinearconv(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& W = *in[3];
  float x_scale = scalar_f32(in[1], "QLinearConv", "x_scale");
  float y_scale = scalar_f32(in[6], "QLinearConv", "y_scale");
  int32_t x_zero = scalar_zero(in[2], X.dtype, "QLinearConv", "x_zero_point");
  const Tensor* y_zp = in[7];
  if (!y_zp || !is_int8(y_zp->dtype) || y_zp->numel() != 1)
    throw KernelError("QLinearConv: y_zero_point must be one uint8 or int8 value");
  const Tensor* ws = in[4];
  if (!ws || ws->dtype != DType::f32 || (ws->numel() != 1 && ws->numel() != W.dim(0)))
    throw KernelError("QLinearConv: w_scale must be float32 with 1 or " + std::to_string(W.dim(0)) + " values");
  const Tensor* B = in.size() > 8 ? in[8] : nullptr;
  if (B && (B->dtype != DType::i32 || B->numel() != W.dim(0)))
    throw KernelError("QLinearConv: bias must be int32 with " + std::to_string(W.dim(0)) + " values, got " +
                      dtype_name(B->dtype) + " " + shape_str(B->shape));
  // ORT's output scale: x_scale * w_scale / y_scale in float, in this order.
  std::vector<float> scales(static_cast<size_t>(ws->numel()));
  for (size_t i = 0; i < scales.size(); ++i) scales[i] = x_scale * ws->ptr<float>()[i] / y_scale;
  QConvStage st;
  st.kind = y_zp->dtype == DType::u8 ? QGemmOutput::kUint8 : QGemmOutput::kInt8;
  st.scale = scales.data();
  st.scale_count = ws->numel();
  st.bias = B ? B->ptr<int32_t>() : nullptr;
  st.out_zero = zero_points(y_zp)[0];
  st.relu = ctx.node.attr_string(kFusedActivationAttr, "") == "Relu";
  int64_t layout = ctx.node.attr_int(kNhwcAttr, 0);
  st.nhwc_in = (layout & 1) != 0;
  st.nhwc_out = (layout & 2) != 0;
  qconv_nchw(ctx, X, W, x_zero, in[5], ctx.state, st, out[0]);
}

std::string check_convinteger(const NodeInfo& n) {
  for (size_t i = 0; i < 2; ++i) {
    DType d = i < n.input_dtypes.size() ? n.input_dtypes[i] : DType::none;
    if (d == DType::none) return "ConvInteger: x and w are required";
    if (d != DType::unknown && !is_int8(d)) return "ConvInteger: x and w must be uint8 or int8";
  }
  for (size_t zp : {2, 3})
    if (n.has_input(zp) && n.input_dtypes[zp] != DType::unknown && n.input_dtypes[zp - 2] != DType::unknown &&
        n.input_dtypes[zp] != n.input_dtypes[zp - 2])
      return "ConvInteger: zero point dtype differs from its tensor's";
  if (n.has_input(2) && n.input_shapes[2] && known_numel(*n.input_shapes[2]) != 1)
    return "ConvInteger: x_zero_point must be a scalar";
  return check_geometry(n);
}

std::vector<DType> convinteger_dtypes(const NodeInfo&) { return {DType::i32}; }

std::shared_ptr<void> prepare_convinteger(const NodeInfo& n, int simd) {
  return prepare_qconv_weights(constant(n, 1), constant(n, 3), n.attr_int("group", 1), simd);
}

void compute_convinteger(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor* xz = in.size() > 2 ? in[2] : nullptr;
  const Tensor* wz = in.size() > 3 ? in[3] : nullptr;
  QConvStage st;
  st.kind = QGemmOutput::kInt32;
  qconv_nchw(ctx, X, *in[1], scalar_zero(xz, X.dtype, "ConvInteger", "x_zero_point"), wz, ctx.state, st, out[0]);
}

}  // namespace

void register_qconv_eltwise(std::vector<Kernel>& k);  // kernels/qconv_eltwise.cc
void register_qconv_gemm(std::vector<Kernel>& k);     // kernels/qconv_gemm.cc

void register_qconv(std::vector<Kernel>& k) {
  register_qconv_eltwise(k);
  register_qconv_gemm(k);
  k.push_back(Kernel("QLinearConv").opsets(10, kMaxOpset).types({DType::u8, DType::i8})
              .check(check_qlinearconv).outputs(qlinearconv_dtypes).compute(compute_qlinearconv)
              .prepare(prepare_qlinearconv));
  k.push_back(Kernel("ConvInteger").opsets(10, kMaxOpset).types({DType::u8, DType::i8})
              .check(check_convinteger).outputs(convinteger_dtypes).compute(compute_convinteger)
              .prepare(prepare_convinteger));
}

}  // namespace xinrt
