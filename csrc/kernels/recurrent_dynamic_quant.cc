// com.microsoft DynamicQuantizeLSTM (what onnxruntime.quantization.quantize_dynamic makes of an
// LSTM): int8/uint8 weights W [D, input, 4H] and R [D, H, 4H] with per-direction (or per-column)
// scales and zero points. As ONNX Runtime does, the activations are quantized on the fly to
// uint8 with a dynamic range (min/max widened to include 0): X once for the whole sequence,
// H_prev once per step over the whole batch; the products are summed exactly in int32 and scaled
// once. Exact sums matter: a quantized recurrence amplifies any rounding difference that moves an
// activation across a quantization step, so float sums of the same products drift from ORT over
// long sequences. The gate math is the native LSTM's (activations, clip, peepholes,
// input_forget); sequence_lens is declined.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "kernels/recurrent.h"

namespace xinrt {
namespace {

// Dynamic uint8 parameters over x[0..n) (ORT's GetQuantizationParameter), and x quantized
// minus the zero point: q[i] = clamp(round_half_even(x / scale) + zp, 0, 255) - zp.
float quantize_centered(const float* x, int64_t n, int16_t* q) {
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  float zp = std::nearbyint(std::max(0.0f, std::min(255.0f, 0.0f - lo / scale)));
  for (int64_t i = 0; i < n; ++i) {
    float v = std::max(0.0f, std::min(255.0f, std::nearbyint(x[i] / scale) + zp));
    q[i] = static_cast<int16_t>(v - zp);
  }
  return scale;
}

// One direction's quantized weights, transposed to [G, K] and centered (q - zero point), with
// each output column's scale. Stored as int8 when every centered value fits (int8 weights with
// zero point 0, what quantize_dynamic writes), halving the bytes each step streams; else int16.
struct QuantWeights {
  std::vector<int8_t> w8;    // [G, K], or empty
  std::vector<int16_t> w16;  // [G, K] when w8 is empty
  std::vector<float> scale;  // [G]
  int64_t K = 0, G = 0;
};

int64_t quantized_value(const Tensor& t, int64_t i) {
  return t.dtype == DType::i8 ? t.ptr<int8_t>()[i] : t.ptr<uint8_t>()[i];
}

std::vector<QuantWeights> transpose_weights(const Tensor& Wq, const Tensor& scale, const Tensor& zp,
                                            const std::string& what) {
  if (Wq.rank() != 3 || (Wq.dtype != DType::i8 && Wq.dtype != DType::u8))
    throw KernelError("DynamicQuantizeLSTM: " + what + " must be 3-D int8/uint8, found " + shape_str(Wq.shape));
  int64_t D = Wq.shape[0], K = Wq.shape[1], G = Wq.shape[2];
  bool per_column = scale.numel() == D * G && G != 1;
  if (scale.dtype != DType::f32 || (scale.numel() != D && !per_column) || zp.numel() != scale.numel() ||
      zp.dtype != Wq.dtype)
    throw KernelError("DynamicQuantizeLSTM: " + what + " scale " + shape_str(scale.shape) + " and zero point " +
                      shape_str(zp.shape) + " do not fit weights " + shape_str(Wq.shape));
  std::vector<QuantWeights> out(static_cast<size_t>(D));
  for (int64_t d = 0; d < D; ++d) {
    QuantWeights& q = out[d];
    q.K = K;
    q.G = G;
    q.w16.resize(static_cast<size_t>(K * G));
    q.scale.resize(static_cast<size_t>(G));
    bool fits = true;
    for (int64_t g = 0; g < G; ++g) {
      int64_t p = per_column ? d * G + g : d;
      q.scale[g] = scale.ptr<float>()[p];
      for (int64_t k = 0; k < K; ++k) {
        int64_t v = quantized_value(Wq, (d * K + k) * G + g) - quantized_value(zp, p);
        fits = fits && v >= -128 && v <= 127;
        q.w16[g * K + k] = static_cast<int16_t>(v);
      }
    }
    if (fits) {
      q.w8.assign(q.w16.begin(), q.w16.end());
      std::vector<int16_t>().swap(q.w16);
    }
  }
  return out;
}

// Four columns' integer dot products with one row of a, side by side so the compiler's vector
// loop keeps four independent sums (and reads a once).
template <class W>
inline void dot4(const int16_t* a, const W* w0, const W* w1, const W* w2, const W* w3, int64_t K, int32_t* sums) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int64_t k = 0; k < K; ++k) {
    int32_t v = a[k];
    s0 += v * w0[k];
    s1 += v * w1[k];
    s2 += v * w2[k];
    s3 += v * w3[k];
  }
  sums[0] = s0;
  sums[1] = s1;
  sums[2] = s2;
  sums[3] = s3;
}

// out[r, g] (+)= float(sum_k a[r, k] * w[g, k]) * (a_scale * w.scale[g]) for r < rows.
void quantized_matmul(const int16_t* a, int64_t rows, float a_scale, const QuantWeights& w, float* out, bool accumulate,
                      ThreadPool& pool) {
  const int64_t K = w.K, G = w.G, blocks = (G + 3) / 4;
  pool.parallel_for(blocks, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, 4 * K * rows)), [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t g0 = 4 * blk, n = std::min<int64_t>(4, G - g0);
      int64_t off[4];
      for (int64_t j = 0; j < 4; ++j) off[j] = (g0 + std::min<int64_t>(j, n - 1)) * K;
      for (int64_t r = 0; r < rows; ++r) {
        int32_t sums[4];
        if (!w.w8.empty()) {
          const int8_t* p = w.w8.data();
          dot4(a + r * K, p + off[0], p + off[1], p + off[2], p + off[3], K, sums);
        } else {
          const int16_t* p = w.w16.data();
          dot4(a + r * K, p + off[0], p + off[1], p + off[2], p + off[3], K, sums);
        }
        for (int64_t j = 0; j < n; ++j) {
          float v = static_cast<float>(sums[j]) * (a_scale * w.scale[g0 + j]);
          float& o = out[r * G + g0 + j];
          o = accumulate ? o + v : v;
        }
      }
    }
  });
}

struct DynamicLstmWeights {
  std::vector<QuantWeights> w, r;
};

const std::vector<size_t> kWeightInputs = {1, 2, 8, 9, 10, 11};

std::shared_ptr<void> prepare_dynamic_lstm(const NodeInfo& n, int) {
  for (size_t i : kWeightInputs)
    if (i >= n.input_constants.size() || !n.input_constants[i]) return nullptr;
  auto st = std::make_shared<DynamicLstmWeights>();
  try {
    st->w = transpose_weights(*n.input_constants[1], *n.input_constants[8], *n.input_constants[9], "W");
    st->r = transpose_weights(*n.input_constants[2], *n.input_constants[10], *n.input_constants[11], "R");
  } catch (const KernelError&) {
    return nullptr;  // compute() reports it
  }
  return st;
}

std::string check_dynamic_lstm(const NodeInfo& n) {
  RecurrentAttrs a;
  std::string r = parse_recurrent_attrs(n, CellKind::kLstm, &a);
  if (!r.empty()) return "DynamicQuantizeLSTM: " + r;
  if (n.input_dtypes.size() != 12) return "DynamicQuantizeLSTM: expects 12 inputs";
  for (size_t i : kWeightInputs)
    if (!n.has_input(i)) return "DynamicQuantizeLSTM: input " + std::to_string(i) + " is required";
  if (!n.has_input(0)) return "DynamicQuantizeLSTM: input X is required";
  if (n.has_input(4)) return "DynamicQuantizeLSTM: sequence_lens not supported";
  for (size_t i : {size_t{0}, size_t{3}, size_t{5}, size_t{6}, size_t{7}, size_t{8}, size_t{10}}) {
    r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  for (size_t i : {size_t{1}, size_t{2}}) {
    r = require_dtype(n, i, {DType::i8, DType::u8});
    if (!r.empty()) return r;
  }
  if (n.num_outputs > 3) return "DynamicQuantizeLSTM: too many outputs";
  return "";
}

void expect(const Tensor* t, const Shape& want, const char* what) {
  if (t && t->shape != want)
    throw KernelError(std::string("DynamicQuantizeLSTM: ") + what + " must have shape " + shape_str(want) + ", found " +
                      shape_str(t->shape));
}

void compute_dynamic_lstm(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  RecurrentAttrs a;
  std::string reason = parse_recurrent_attrs(ctx.node, CellKind::kLstm, &a);
  if (!reason.empty()) throw KernelError("DynamicQuantizeLSTM: " + reason);
  auto input = [&](size_t i) { return i < in.size() ? in[i] : nullptr; };
  for (size_t i : {size_t{0}, size_t{1}, size_t{2}, size_t{8}, size_t{9}, size_t{10}, size_t{11}})
    if (!input(i)) throw KernelError("DynamicQuantizeLSTM: input " + std::to_string(i) + " is required");
  if (input(4)) throw KernelError("DynamicQuantizeLSTM: sequence_lens not supported");
  for (size_t i : {size_t{0}, size_t{3}, size_t{5}, size_t{6}, size_t{7}})
    if (input(i) && input(i)->dtype != DType::f32) throw KernelError("DynamicQuantizeLSTM: input " + std::to_string(i) + " must be float32");
  const auto* prepared = static_cast<const DynamicLstmWeights*>(ctx.state);
  DynamicLstmWeights own;
  if (!prepared) {
    own.w = transpose_weights(*in[1], *in[8], *in[9], "W");
    own.r = transpose_weights(*in[2], *in[10], *in[11], "R");
  }
  const DynamicLstmWeights& qw = prepared ? *prepared : own;
  const Tensor& X = *in[0];
  if (X.rank() != 3) throw KernelError("DynamicQuantizeLSTM: X must be 3-D, found " + shape_str(X.shape));
  const int64_t D = a.num_directions, T = X.shape[0], B = X.shape[1], I = X.shape[2];
  const int64_t H = qw.r.empty() ? 0 : qw.r[0].K, GH = 4 * H;
  if (static_cast<int64_t>(qw.w.size()) != D || static_cast<int64_t>(qw.r.size()) != D || qw.w[0].K != I ||
      qw.w[0].G != GH || qw.r[0].G != GH || (a.hidden >= 0 && a.hidden != H))
    throw KernelError("DynamicQuantizeLSTM: W " + shape_str(in[1]->shape) + " and R " + shape_str(in[2]->shape) +
                      " do not fit X " + shape_str(X.shape) + " and " + std::to_string(D) + " direction(s)");
  const Tensor *Bias = input(3), *H0 = input(5), *C0 = input(6), *P = input(7);
  expect(Bias, {D, 2 * GH}, "B");
  expect(H0, {D, B, H}, "initial_h");
  expect(C0, {D, B, H}, "initial_c");
  expect(P, {D, 3 * H}, "P");

  const size_t num_out = out.size();
  if (num_out > 0) out[0] = Tensor::empty(DType::f32, {T, D, B, H});
  if (num_out > 1) out[1] = Tensor::empty(DType::f32, {D, B, H});
  if (num_out > 2) out[2] = Tensor::empty(DType::f32, {D, B, H});

  // X quantized once (both directions see the same X, so the same parameters).
  std::vector<int16_t> xq(static_cast<size_t>(std::max<int64_t>(1, T * B * I)));
  float x_scale = quantize_centered(X.ptr<float>(), T * B * I, xq.data());
  std::vector<float> xw(static_cast<size_t>(std::max<int64_t>(1, T * B * GH)));
  std::vector<int16_t> hq(static_cast<size_t>(std::max<int64_t>(1, B * H)));
  std::vector<float> h(static_cast<size_t>(B * H)), c(h.size()), gates(static_cast<size_t>(std::max<int64_t>(1, B * GH))),
      tmp(static_cast<size_t>(std::max<int64_t>(1, H)));
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = a.reverse || d == 1;
    const RecurrentActivation* act = &a.activations[d * a.acts_per_direction];
    if (T * B > 0) quantized_matmul(xq.data(), T * B, x_scale, qw.w[d], xw.data(), false, ctx.pool);
    std::fill(h.begin(), h.end(), 0.0f);
    std::fill(c.begin(), c.end(), 0.0f);
    if (H0) std::memcpy(h.data(), H0->ptr<float>() + d * B * H, sizeof(float) * B * H);
    if (C0) std::memcpy(c.data(), C0->ptr<float>() + d * B * H, sizeof(float) * B * H);
    const float* wb = Bias ? Bias->ptr<float>() + d * 2 * GH : nullptr;
    const float* pi = P ? P->ptr<float>() + d * 3 * H : nullptr;
    const float* po = pi ? pi + H : nullptr;
    const float* pf = pi ? pi + 2 * H : nullptr;
    for (int64_t st = 0; st < T; ++st) {
      const int64_t t = reverse ? T - 1 - st : st;
      std::memcpy(gates.data(), xw.data() + t * B * GH, sizeof(float) * B * GH);
      float h_scale = quantize_centered(h.data(), B * H, hq.data());
      quantized_matmul(hq.data(), B, h_scale, qw.r[d], gates.data(), true, ctx.pool);
      for (int64_t b = 0; b < B; ++b) {
        float* gi = gates.data() + b * GH;
        if (wb)
          for (int64_t j = 0; j < GH; ++j) gi[j] += wb[j] + wb[GH + j];
        float* go = gi + H;
        float* gf = gi + 2 * H;
        float* gc = gi + 3 * H;
        float* cb = c.data() + b * H;
        float* hb = h.data() + b * H;
        if (pi)
          for (int64_t j = 0; j < H; ++j) gi[j] += pi[j] * cb[j];
        clip_inplace(a, gi, H);
        apply_recurrent_activation(act[0], gi, gi, H, ctx.simd);
        if (a.input_forget) {
          for (int64_t j = 0; j < H; ++j) gf[j] = 1.0f - gi[j];
        } else {
          if (pf)
            for (int64_t j = 0; j < H; ++j) gf[j] += pf[j] * cb[j];
          clip_inplace(a, gf, H);
          apply_recurrent_activation(act[0], gf, gf, H, ctx.simd);
        }
        clip_inplace(a, gc, H);
        apply_recurrent_activation(act[1], gc, gc, H, ctx.simd);
        for (int64_t j = 0; j < H; ++j) cb[j] = gf[j] * cb[j] + gi[j] * gc[j];
        if (po)
          for (int64_t j = 0; j < H; ++j) go[j] += po[j] * cb[j];
        clip_inplace(a, go, H);
        apply_recurrent_activation(act[0], go, go, H, ctx.simd);
        apply_recurrent_activation(act[2], cb, tmp.data(), H, ctx.simd);
        for (int64_t j = 0; j < H; ++j) hb[j] = go[j] * tmp[j];
      }
      if (num_out > 0)
        std::memcpy(out[0].ptr<float>() + (t * D + d) * B * H, h.data(), sizeof(float) * B * H);
    }
    if (num_out > 1) std::memcpy(out[1].ptr<float>() + d * B * H, h.data(), sizeof(float) * B * H);
    if (num_out > 2) std::memcpy(out[2].ptr<float>() + d * B * H, c.data(), sizeof(float) * B * H);
  }
}

std::vector<DType> f32_outputs(const NodeInfo& n) { return std::vector<DType>(n.num_outputs, DType::f32); }

}  // namespace

void register_dynamic_quantize_lstm(std::vector<Kernel>& k) {
  k.push_back(Kernel("DynamicQuantizeLSTM", "com.microsoft").opsets(1, 1).types({DType::f32})
              .check(check_dynamic_lstm).outputs(f32_outputs).compute(compute_dynamic_lstm)
              .prepare(prepare_dynamic_lstm));
}

}  // namespace xinrt
