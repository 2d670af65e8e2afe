// The recurrent driver shared by LSTM, GRU and RNN (recurrent.h), the RNN cell and the
// registrations. Semantics where the spec is silent follow ONNX Runtime: per-batch sequence
// lengths run the reverse direction over each sequence's own valid steps, Y is zero past a
// sequence's length, Y_h / Y_c are zero for a length-0 sequence, and `clip` clamps the input
// of every gate activation (not the LSTM's C before h()).
#include "core/simd_level.h"
#include "kernels/recurrent.h"

#include <algorithm>
#include <cmath>
#include <cstring>


namespace xinrt {
namespace {

struct ActivationSpec {
  const char* name;
  RecurrentActivation::Kind kind;
  int params;  // 0: none, 1: alpha, 2: alpha and beta
  float alpha, beta;
  // Defaults of the ONNX op of the same name. Affine and ScaledTanh have none, and ONNX Runtime
  // defaults ThresholdedRelu's alpha to 0, not the op's 1.0: those need explicit values.
  bool has_default;
};

constexpr ActivationSpec kActivations[] = {
    {"Sigmoid", RecurrentActivation::kSigmoid, 0, 0, 0, true},
    {"Tanh", RecurrentActivation::kTanh, 0, 0, 0, true},
    {"Relu", RecurrentActivation::kRelu, 0, 0, 0, true},
    {"HardSigmoid", RecurrentActivation::kHardSigmoid, 2, 0.2f, 0.5f, true},
    {"LeakyRelu", RecurrentActivation::kLeakyRelu, 1, 0.01f, 0, true},
    {"ThresholdedRelu", RecurrentActivation::kThresholdedRelu, 1, 1.0f, 0, false},
    {"Elu", RecurrentActivation::kElu, 1, 1.0f, 0, true},
    {"Softsign", RecurrentActivation::kSoftsign, 0, 0, 0, true},
    {"Softplus", RecurrentActivation::kSoftplus, 0, 0, 0, true},
    {"ScaledTanh", RecurrentActivation::kScaledTanh, 2, 0, 0, false},
    {"Affine", RecurrentActivation::kAffine, 2, 0, 0, false},
};

const char* op_name(CellKind cell) {
  return cell == CellKind::kLstm ? "LSTM" : (cell == CellKind::kGru ? "GRU" : "RNN");
}

std::vector<float> float_list(const NodeInfo& n, const std::string& name) {
  auto it = n.attrs.find(name);
  if (it == n.attrs.end()) return {};
  if (it->second.kind != Attribute::kFloats && it->second.kind != Attribute::kFloat)
    throw KernelError("attribute '" + name + "' must be a list of floats");
  if (it->second.kind == Attribute::kFloat) return {static_cast<float>(it->second.f)};
  return std::vector<float>(it->second.floats.begin(), it->second.floats.end());
}

}  // namespace

std::string parse_recurrent_attrs(const NodeInfo& n, CellKind cell, RecurrentAttrs* a) {
  const std::string op = op_name(cell);
  a->cell = cell;
  a->gates = cell == CellKind::kLstm ? 4 : (cell == CellKind::kGru ? 3 : 1);
  a->acts_per_direction = cell == CellKind::kLstm ? 3 : (cell == CellKind::kGru ? 2 : 1);
  std::string dir = n.attr_string("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    return op + ": direction '" + dir + "' is not forward, reverse or bidirectional";
  a->num_directions = dir == "bidirectional" ? 2 : 1;
  a->reverse = dir == "reverse";
  a->hidden = n.attr_int("hidden_size", -1);
  a->layout = static_cast<int>(n.attr_int("layout", 0));
  if (a->layout != 0 && a->layout != 1) return op + ": layout must be 0 or 1";
  if (a->layout != 0 && n.opset < 14) return op + ": layout is an opset 14+ attribute";
  a->has_clip = n.has_attr("clip");
  a->clip = n.attr_float("clip", 0.0f);
  if (a->has_clip && !(a->clip > 0.0f)) return op + ": clip must be positive";
  a->input_forget = n.attr_int("input_forget", 0) != 0;
  a->linear_before_reset = n.attr_int("linear_before_reset", 0) != 0;

  std::vector<std::string> names;
  auto it = n.attrs.find("activations");
  if (it != n.attrs.end()) {
    if (it->second.kind != Attribute::kStrings) return op + ": activations must be a list of strings";
    names = it->second.strings;
    if (names.size() != static_cast<size_t>(a->acts_per_direction * a->num_directions))
      return op + ": expects " + std::to_string(a->acts_per_direction * a->num_directions) +
             " activations, found " + std::to_string(names.size());
  } else {
    std::vector<std::string> def = cell == CellKind::kLstm   ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                   : cell == CellKind::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                            : std::vector<std::string>{"Tanh"};
    for (int d = 0; d < a->num_directions; ++d) names.insert(names.end(), def.begin(), def.end());
  }
  // Like ONNX Runtime: each activation that takes alpha (beta) consumes the next value of
  // activation_alpha (activation_beta) in order, or its default when the list has run out.
  std::vector<float> alphas = float_list(n, "activation_alpha"), betas = float_list(n, "activation_beta");
  size_t ai = 0, bi = 0;
  a->activations.clear();
  for (const std::string& name : names) {
    const ActivationSpec* spec = nullptr;
    for (const ActivationSpec& s : kActivations)
      if (name == s.name) spec = &s;
    if (!spec) return op + ": activation '" + name + "' not supported";
    RecurrentActivation act;
    act.kind = spec->kind;
    act.alpha = spec->alpha;
    act.beta = spec->beta;
    bool given_alpha = false, given_beta = false;
    if (spec->params >= 1 && ai < alphas.size()) act.alpha = alphas[ai++], given_alpha = true;
    if (spec->params >= 2 && bi < betas.size()) act.beta = betas[bi++], given_beta = true;
    if (!spec->has_default && (!given_alpha || (spec->params >= 2 && !given_beta)))
      return op + ": activation " + name + " needs explicit activation_alpha" +
             (spec->params >= 2 ? " and activation_beta" : "") + " (no agreed default)";
    a->activations.push_back(act);
  }
  return "";
}

std::string check_recurrent(const NodeInfo& n, CellKind cell) {
  const std::string op = op_name(cell);
  RecurrentAttrs a;
  std::string r = parse_recurrent_attrs(n, cell, &a);
  if (!r.empty()) return r;
  if (cell != CellKind::kLstm && n.has_attr("input_forget")) return op + ": input_forget is an LSTM attribute";
  size_t max_inputs = cell == CellKind::kLstm ? 8 : 6;
  if (n.input_dtypes.size() < 3 || n.input_dtypes.size() > max_inputs)
    return op + ": expects 3 to " + std::to_string(max_inputs) + " inputs";
  if (!n.has_input(0) || !n.has_input(1) || !n.has_input(2)) return op + ": X, W and R are required inputs";
  for (size_t i = 0; i < n.input_dtypes.size(); ++i) {
    r = require_dtype(n, i, {i == 4 ? DType::i32 : DType::f32});
    if (!r.empty()) return r;
  }
  const int64_t ranks[] = {3, 3, 3, 2, 1, 3, 3, 2};
  for (size_t i = 0; i < n.input_dtypes.size(); ++i)
    if (n.input_rank(i) >= 0 && n.input_rank(i) != ranks[i])
      return op + ": input " + std::to_string(i) + " must have rank " + std::to_string(ranks[i]);
  if (n.num_outputs > (cell == CellKind::kLstm ? 3 : 2)) return op + ": too many outputs";
  return "";
}

void apply_recurrent_activation(const RecurrentActivation& act, const float* x, float* y, int64_t n, int simd) {
  const float al = act.alpha, be = act.beta;
  switch (act.kind) {
    case RecurrentActivation::kSigmoid:
#if XINRT_HAVE_X86
      if (simd >= kSimdAvx2Fma) return sigmoid_f32_avx2(x, y, n);
#endif
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
      return;
    case RecurrentActivation::kTanh:
#if XINRT_HAVE_X86
      if (simd >= kSimdAvx2Fma) return tanh_f32_avx2(x, y, n);
#endif
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      return;
    case RecurrentActivation::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      return;
    case RecurrentActivation::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = std::min(1.0f, std::max(0.0f, al * x[i] + be));
      return;
    case RecurrentActivation::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : al * x[i];
      return;
    case RecurrentActivation::kScaledTanh:
      for (int64_t i = 0; i < n; ++i) y[i] = al * std::tanh(be * x[i]);
      return;
    case RecurrentActivation::kAffine:
      for (int64_t i = 0; i < n; ++i) y[i] = al * x[i] + be;
      return;
    case RecurrentActivation::kThresholdedRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > al ? x[i] : 0.0f;
      return;
    case RecurrentActivation::kElu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : al * (std::exp(x[i]) - 1.0f);
      return;
    case RecurrentActivation::kSoftsign:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + std::fabs(x[i]));
      return;
    case RecurrentActivation::kSoftplus:  // log(1 + e^x) without overflow for large x
      for (int64_t i = 0; i < n; ++i)
        y[i] = x[i] > 0.0f ? x[i] + std::log1p(std::exp(-x[i])) : std::log1p(std::exp(x[i]));
      return;
  }
}

void recurrent_panels_acc_baseline(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels,
                                   int64_t npanels, int last_width, float* out, int64_t ldo) {
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t q = 0; q < npanels; ++q) {
      float acc[kRecurrentPanel] = {};
      for (int64_t k = 0; k < K; ++k) {
        const float av = a[b * lda + k];
        const float* w = panels + (q * K + k) * kRecurrentPanel;
        for (int j = 0; j < kRecurrentPanel; ++j) acc[j] += av * w[j];
      }
      const int width = q + 1 == npanels ? last_width : kRecurrentPanel;
      float* o = out + b * ldo + q * kRecurrentPanel;
      for (int j = 0; j < width; ++j) o[j] += acc[j];
    }
}

void panels_matmul_acc(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels, int64_t hidden,
                       int g, int64_t u0, int64_t u1, float* out, int64_t ldo, int simd) {
  const int64_t n = u1 - u0;
  if (n <= 0 || rows <= 0) return;
  const int64_t npanels = (n + kRecurrentPanel - 1) / kRecurrentPanel;
  const int last_width = static_cast<int>(n - (npanels - 1) * kRecurrentPanel);
  const int64_t per_gate = (hidden + kRecurrentPanel - 1) / kRecurrentPanel;
  const float* p = panels + (g * per_gate + u0 / kRecurrentPanel) * K * kRecurrentPanel;
  float* o = out + g * hidden + u0;
#if XINRT_HAVE_X86
  if (simd >= kSimdAvx512) return recurrent_panels_acc_avx512(a, lda, rows, K, p, npanels, last_width, o, ldo);
  if (simd >= kSimdAvx2Fma) return recurrent_panels_acc_avx2(a, lda, rows, K, p, npanels, last_width, o, ldo);
#endif
  recurrent_panels_acc_baseline(a, lda, rows, K, p, npanels, last_width, o, ldo);
}

namespace {

int64_t panels_per_gate(int64_t hidden) { return (hidden + kRecurrentPanel - 1) / kRecurrentPanel; }

// m [gates * hidden, K] (one direction's R, or W) as m^T panels (recurrent_simd.h), per gate.
std::shared_ptr<float> pack_panels(const float* m, int64_t gates, int64_t hidden, int64_t K) {
  const int64_t np = panels_per_gate(hidden);
  std::shared_ptr<float> out =
      alloc_floats(static_cast<size_t>(std::max<int64_t>(1, gates * np * K * kRecurrentPanel)));
  for (int64_t g = 0; g < gates; ++g)
    for (int64_t p = 0; p < np; ++p) {
      float* dst = out.get() + (g * np + p) * K * kRecurrentPanel;
      for (int64_t k = 0; k < K; ++k)
        for (int j = 0; j < kRecurrentPanel; ++j) {
          const int64_t u = p * kRecurrentPanel + j;
          dst[k * kRecurrentPanel + j] = u < hidden ? m[(g * hidden + u) * K + k] : 0.0f;
        }
    }
  return out;
}

// Up to this many rows (T * batch) the input projection runs on the panel kernels too: the
// SGEMM micro-kernel computes whole MR-row tiles, 12x the work for one streaming step.
constexpr int64_t kPanelProjectionRows = 16;

// Packed weights per direction, made at plan time from constant W (for the plan's SimdLevel)
// and R; either may be missing.
struct RecurrentWeights {
  int simd = 0;
  int64_t rows = 0, hidden = 0, input = 0;
  std::vector<std::shared_ptr<float>> panels;    // R^T panels
  std::vector<std::shared_ptr<float>> w;         // W^T for project_inputs
  std::vector<std::shared_ptr<float>> w_panels;  // W^T panels for few-row projections
};

void rnn_step(const RecurrentStep& s, int64_t u0, int64_t u1, int) {
  const int64_t H = s.hidden, n = u1 - u0;
  gate_matmul_acc(s, s.h, H, 0, 1, u0, u1, s.gates, H);
  for (int64_t b = 0; b < s.batch; ++b) {
    float* g = s.gates + b * H + u0;
    clip_inplace(*s.attrs, g, n);
    apply_recurrent_activation(s.act[0], g, s.h_next + b * H + u0, n, s.simd);
  }
}

void expect_shape(const char* op, const char* what, const Tensor* t, const Shape& want) {
  if (t && t->shape != want)
    throw KernelError(std::string(op) + ": " + what + " must have shape " + shape_str(want) + ", found " +
                      shape_str(t->shape));
}

}  // namespace

std::shared_ptr<void> prepare_recurrent(const NodeInfo& n, int simd) {
  const Tensor* W = n.input_constants.size() > 1 ? n.input_constants[1] : nullptr;
  const Tensor* R = n.input_constants.size() > 2 ? n.input_constants[2] : nullptr;
  auto usable = [](const Tensor* t) { return t && t->dtype == DType::f32 && t->rank() == 3; };
  auto w = std::make_shared<RecurrentWeights>();
  w->simd = simd;
  if (usable(R) && R->dim(2) > 0 && R->dim(1) % R->dim(2) == 0) {  // else compute() reports the shape
    w->rows = R->dim(1);
    w->hidden = R->dim(2);
    const int64_t gates = w->rows / w->hidden;
    for (int64_t d = 0; d < R->dim(0); ++d)
      w->panels.push_back(pack_panels(R->ptr<float>() + d * w->rows * w->hidden, gates, w->hidden, w->hidden));
  }
  if (usable(W) && !w->panels.empty() && W->dim(1) == w->rows) {
    w->input = W->dim(2);
    for (int64_t d = 0; d < W->dim(0); ++d) {
      const float* wd = W->ptr<float>() + d * w->rows * w->input;
      w->w.push_back(pack_input_weights(wd, w->rows, w->input, simd));
      w->w_panels.push_back(pack_panels(wd, w->rows / w->hidden, w->hidden, w->input));
    }
  }
  if (w->panels.empty() && w->w.empty()) return nullptr;
  return w;
}

void compute_recurrent(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out,
                       CellKind cell, CellStepFn step, int phases) {
  const char* op = op_name(cell);
  RecurrentAttrs a;
  std::string reason = parse_recurrent_attrs(ctx.node, cell, &a);
  if (!reason.empty()) throw KernelError(reason);
  auto input = [&](size_t i) { return i < in.size() ? in[i] : nullptr; };
  if (!input(0) || !input(1) || !input(2)) throw KernelError(std::string(op) + ": X, W and R are required inputs");
  const Tensor *X = in[0], *W = in[1], *R = in[2], *Bias = input(3), *Lens = input(4), *H0 = input(5);
  const Tensor *C0 = cell == CellKind::kLstm ? input(6) : nullptr, *P = cell == CellKind::kLstm ? input(7) : nullptr;
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] && in[i]->dtype != (i == 4 ? DType::i32 : DType::f32))
      throw KernelError(std::string(op) + ": input " + std::to_string(i) + " must be " + (i == 4 ? "int32" : "float32") +
                        ", found " + dtype_name(in[i]->dtype));
  if (X->rank() != 3 || W->rank() != 3 || R->rank() != 3)
    throw KernelError(std::string(op) + ": X, W and R must be 3-D, found " + shape_str(X->shape) + ", " +
                      shape_str(W->shape) + ", " + shape_str(R->shape));
  const int64_t D = a.num_directions, G = a.gates, H = R->dim(2), GH = G * H;
  const int64_t T = a.layout ? X->dim(1) : X->dim(0), B = a.layout ? X->dim(0) : X->dim(1), I = X->dim(2);
  if (a.hidden >= 0 && a.hidden != H)
    throw KernelError(std::string(op) + ": hidden_size " + std::to_string(a.hidden) + " but R has shape " +
                      shape_str(R->shape));
  expect_shape(op, "W", W, {D, GH, I});
  expect_shape(op, "R", R, {D, GH, H});
  expect_shape(op, "B", Bias, {D, 2 * GH});
  expect_shape(op, "sequence_lens", Lens, {B});
  Shape state_shape = a.layout ? Shape{B, D, H} : Shape{D, B, H};
  expect_shape(op, "initial_h", H0, state_shape);
  expect_shape(op, "initial_c", C0, state_shape);
  expect_shape(op, "P", P, {D, 3 * H});

  std::vector<int64_t> lens(static_cast<size_t>(B), T);
  if (Lens)
    for (int64_t b = 0; b < B; ++b) {
      lens[b] = Lens->ptr<int32_t>()[b];
      if (lens[b] < 0 || lens[b] > T)
        throw KernelError(std::string(op) + ": sequence_lens[" + std::to_string(b) + "] = " + std::to_string(lens[b]) +
                          " is outside [0, " + std::to_string(T) + "]");
    }
  const bool ragged = std::any_of(lens.begin(), lens.end(), [&](int64_t l) { return l != T; });

  const size_t num_out = out.size();
  if (num_out > 0) out[0] = Tensor::empty(DType::f32, a.layout ? Shape{B, T, D, H} : Shape{T, D, B, H});
  if (num_out > 1) out[1] = Tensor::empty(DType::f32, state_shape);
  if (num_out > 2) out[2] = Tensor::empty(DType::f32, state_shape);
  float* y = num_out > 0 ? out[0].ptr<float>() : nullptr;
  if (y && ragged) std::memset(y, 0, out[0].nbytes());
  // Element (t, d, b) of Y and (d, b) of the states, for either layout.
  auto y_at = [&](int64_t t, int64_t d, int64_t b) {
    return y + (a.layout ? ((b * T + t) * D + d) * H : ((t * D + d) * B + b) * H);
  };
  auto state_at = [&](int64_t d, int64_t b) { return a.layout ? (b * D + d) * H : (d * B + b) * H; };

  const auto* prepared = static_cast<const RecurrentWeights*>(ctx.state);
  const bool prepared_r = prepared && prepared->rows == GH && prepared->hidden == H &&
                          static_cast<int64_t>(prepared->panels.size()) == D;
  const bool prepared_w = prepared_r && prepared->simd == ctx.simd &&
                          static_cast<int64_t>(prepared->w.size()) == D && prepared->input == I;

  // Input projection for every step and direction: xw[d] rows in X's own row order.
  const int64_t rows = T * B;
  std::vector<std::shared_ptr<float>> xw(static_cast<size_t>(D));
  const bool few_rows = rows <= kPanelProjectionRows;
  std::shared_ptr<float> packed_x;
  if (rows > 0 && I > 0 && !few_rows) packed_x = pack_input_rows(X->ptr<float>(), rows, I, ctx.simd);
  for (int64_t d = 0; d < D; ++d) {
    xw[d] = alloc_floats(static_cast<size_t>(std::max<int64_t>(1, rows * GH)));
    float* dst = xw[d].get();
    std::vector<float> bias(static_cast<size_t>(GH), 0.0f);
    if (Bias) {
      const float* wb = Bias->ptr<float>() + d * 2 * GH;
      const bool keep_rbh = cell == CellKind::kGru && a.linear_before_reset;
      for (int64_t j = 0; j < GH; ++j) bias[j] = wb[j] + (keep_rbh && j >= 2 * H ? 0.0f : wb[GH + j]);
    }
    for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * GH, bias.data(), sizeof(float) * GH);
    if (rows == 0 || I == 0) continue;
    const float* wd = W->ptr<float>() + d * GH * I;
    std::shared_ptr<float> w_own;
    if (few_rows) {
      if (!prepared_w) w_own = pack_panels(wd, G, H, I);
      const float* wp = prepared_w ? prepared->w_panels[d].get() : w_own.get();
      if (H % kRecurrentPanel == 0)  // all gates' panels side by side: one call
        panels_matmul_acc(X->ptr<float>(), I, rows, I, wp, H, 0, 0, GH, dst, GH, ctx.simd);
      else
        for (int g = 0; g < G; ++g) panels_matmul_acc(X->ptr<float>(), I, rows, I, wp, H, g, 0, H, dst, GH, ctx.simd);
      continue;
    }
    if (!prepared_w) w_own = pack_input_weights(wd, GH, I, ctx.simd);
    project_inputs(packed_x.get(), rows, I, prepared_w ? prepared->w[d].get() : w_own.get(), GH, dst, ctx.pool,
                   ctx.simd);
  }
  // R^T panels per direction (packed here when R is not a plan constant).
  std::vector<std::shared_ptr<float>> panels_own(static_cast<size_t>(D));
  std::vector<const float*> panels(static_cast<size_t>(D));
  for (int64_t d = 0; d < D; ++d) {
    if (prepared_r) {
      panels[d] = prepared->panels[d].get();
      continue;
    }
    panels_own[d] = pack_panels(R->ptr<float>() + d * GH * H, G, H, H);
    panels[d] = panels_own[d].get();
  }

  // Directions and batch items are independent sequences, so groups of them run whole on
  // separate threads without any per-step synchronisation. Only a lone sequence (one
  // direction, batch 1) splits its steps over hidden units, and only when a step's
  // H_prev * R^T is large (LSTM hidden >= 512): a split step waits for the slowest thread every
  // step, which on a busy machine (a preempted worker) cost more than it saved at hidden 256.
  const int threads = ctx.pool.num_threads();
  const int64_t groups = std::min<int64_t>(B, std::max<int64_t>(1, threads / D));
  const int64_t tasks = D * groups;
  const bool split_steps = tasks == 1 && threads >= 2 && B * GH * H >= (1 << 20);

  // Direction d over batch items [b0, b1); local row i is batch item b0 + i.
  auto run_group = [&](int64_t d, int64_t b0, int64_t b1) {
    const bool reverse = a.reverse || d == 1;
    const int64_t nb = b1 - b0;
    const int64_t group_len = *std::max_element(lens.begin() + b0, lens.begin() + b1);
    const size_t bh = static_cast<size_t>(std::max<int64_t>(1, nb * H));
    std::vector<float> h(bh, 0.0f), c(bh, 0.0f), h_next(bh), c_next(bh);
    std::vector<float> gates(static_cast<size_t>(std::max<int64_t>(1, nb * GH))), scratch(gates.size());
    for (int64_t i = 0; i < nb; ++i) {
      if (H0) std::memcpy(&h[i * H], H0->ptr<float>() + state_at(d, b0 + i), sizeof(float) * H);
      if (C0) std::memcpy(&c[i * H], C0->ptr<float>() + state_at(d, b0 + i), sizeof(float) * H);
    }
    RecurrentStep s{&a, &a.activations[d * a.acts_per_direction], nb, H, ctx.simd, panels[d],
                    nullptr, P ? P->ptr<float>() + d * 3 * H : nullptr, h.data(), c.data(), gates.data(),
                    h_next.data(), c_next.data(), scratch.data()};
    if (cell == CellKind::kGru && a.linear_before_reset && Bias) s.rbias = Bias->ptr<float>() + d * 2 * GH + GH + 2 * H;
    const float* xwd = xw[d].get();
    for (int64_t st = 0; st < group_len; ++st) {
      for (int64_t i = 0; i < nb; ++i) {
        const int64_t b = b0 + i;
        float* g = gates.data() + i * GH;
        if (st >= lens[b]) {  // finished: computed on zeros, never committed
          std::fill(g, g + GH, 0.0f);
          continue;
        }
        const int64_t t = reverse ? lens[b] - 1 - st : st;
        std::memcpy(g, xwd + (a.layout ? b * T + t : t * B + b) * GH, sizeof(float) * GH);
      }
      for (int phase = 0; phase < phases; ++phase) {
        if (!split_steps) {
          step(s, 0, H, phase);
          continue;
        }
        // Unit chunks start on panel boundaries (gate_matmul_acc needs it).
        const int64_t chunks = std::min<int64_t>(threads, H / kRecurrentPanel);
        auto bound = [&](int64_t ci) {
          return ci == chunks ? H : H * ci / chunks / kRecurrentPanel * kRecurrentPanel;
        };
        ctx.pool.parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
          for (int64_t ci = c0; ci < c1; ++ci) step(s, bound(ci), bound(ci + 1), phase);
        }, chunks);
      }
      for (int64_t i = 0; i < nb; ++i) {
        const int64_t b = b0 + i;
        if (st >= lens[b]) continue;
        std::memcpy(&h[i * H], &h_next[i * H], sizeof(float) * H);
        if (cell == CellKind::kLstm) std::memcpy(&c[i * H], &c_next[i * H], sizeof(float) * H);
        if (y) std::memcpy(y_at(reverse ? lens[b] - 1 - st : st, d, b), &h_next[i * H], sizeof(float) * H);
      }
    }
    for (int64_t i = 0; i < nb; ++i) {
      const bool empty = lens[b0 + i] == 0;
      for (size_t o = 1; o < std::min<size_t>(num_out, 3); ++o) {
        float* dst = out[o].ptr<float>() + state_at(d, b0 + i);
        const float* src = o == 1 ? &h[i * H] : &c[i * H];
        if (empty) std::fill(dst, dst + H, 0.0f);
        else std::memcpy(dst, src, sizeof(float) * H);
      }
    }
  };
  if (tasks == 1) return run_group(0, 0, B);
  ctx.pool.parallel_for(tasks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t d = t / groups, gi = t % groups;
      run_group(d, B * gi / groups, B * (gi + 1) / groups);
    }
  }, tasks);
}

namespace {

std::string check_lstm(const NodeInfo& n) { return check_recurrent(n, CellKind::kLstm); }
std::string check_gru(const NodeInfo& n) { return check_recurrent(n, CellKind::kGru); }
std::string check_rnn(const NodeInfo& n) { return check_recurrent(n, CellKind::kRnn); }

void compute_lstm(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  compute_recurrent(ctx, in, out, CellKind::kLstm, lstm_step, 1);
}
void compute_gru(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  // linear_before_reset = 0 multiplies (r . H_prev) by Rh, so the h gate waits for every r.
  const bool two_phases = ctx.node.attr_int("linear_before_reset", 0) == 0;
  compute_recurrent(ctx, in, out, CellKind::kGru, gru_step, two_phases ? 2 : 1);
}
void compute_rnn(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  compute_recurrent(ctx, in, out, CellKind::kRnn, rnn_step, 1);
}

}  // namespace

void register_recurrent(std::vector<Kernel>& k) {
  // Opsets 7, 14 (layout) and 22 (bfloat16 types only) share these semantics for float32.
  k.push_back(Kernel("LSTM").opsets(7, kMaxOpset).types({DType::f32}).check(check_lstm)
              .compute(compute_lstm).prepare(prepare_recurrent));
  k.push_back(Kernel("GRU").opsets(7, kMaxOpset).types({DType::f32}).check(check_gru).compute(compute_gru)
              .prepare(prepare_recurrent));
  k.push_back(Kernel("RNN").opsets(7, kMaxOpset).types({DType::f32}).check(check_rnn).compute(compute_rnn)
              .prepare(prepare_recurrent));
}

}  // namespace xinrt
