// Shared machinery of the recurrent kernels (LSTM, GRU, RNN; recurrent*.cc).
//
// Every op runs the same way: one GEMM projects all time steps at once (X * W^T + bias ->
// [rows, gates * hidden], on the SGEMM micro-kernels, or the panel kernels for a few rows), then
// each step adds H_prev * R^T (R^T stored as 16-column panels, at plan time when R is a
// constant) and applies the cell's gate math. Directions and groups of batch items are
// independent sequences and run on separate threads. A cell's step function computes units
// [u0, u1) of every batch row, so a lone large sequence may split its steps over threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"
#include "kernels/recurrent_simd.h"

namespace xinrt {

// An activation the spec lists for the recurrent ops, with its alpha/beta.
struct RecurrentActivation {
  enum Kind { kSigmoid, kTanh, kRelu, kHardSigmoid, kLeakyRelu, kScaledTanh, kAffine, kThresholdedRelu,
              kElu, kSoftsign, kSoftplus } kind = kSigmoid;
  float alpha = 0.0f, beta = 0.0f;
};

// y[i] = act(x[i]); x == y is allowed.
void apply_recurrent_activation(const RecurrentActivation& act, const float* x, float* y, int64_t n, int simd);

enum class CellKind { kRnn, kGru, kLstm };

struct RecurrentAttrs {
  CellKind cell = CellKind::kLstm;
  int gates = 4;           // weight rows per hidden unit: RNN 1, GRU 3, LSTM 4
  int num_directions = 1;
  bool reverse = false;    // direction == "reverse"
  int64_t hidden = -1;     // hidden_size attribute, or -1
  int layout = 0;
  bool has_clip = false;
  float clip = 0.0f;
  bool input_forget = false;         // LSTM
  bool linear_before_reset = false;  // GRU
  std::vector<RecurrentActivation> activations;  // acts_per_direction per direction
  int acts_per_direction = 1;
};

// "" and *out filled, or the reason the node's attributes are unsupported.
std::string parse_recurrent_attrs(const NodeInfo& node, CellKind cell, RecurrentAttrs* out);
std::string check_recurrent(const NodeInfo& node, CellKind cell);

// One direction's step, as a cell sees it. Row b of a step holds batch item b.
struct RecurrentStep {
  const RecurrentAttrs* attrs;
  const RecurrentActivation* act;  // this direction's activations (acts_per_direction of them)
  int64_t batch, hidden;
  int simd;
  const float* panels;    // R^T as kRecurrentPanel-column panels per gate
  const float* rbias;     // GRU with linear_before_reset: Rb of the h gate [hidden]; else null
  const float* peephole;  // LSTM P [3 * hidden] (i, o, f), or null
  const float* h;         // H_prev [batch, hidden]
  const float* c;         // LSTM C_prev [batch, hidden]
  float* gates;           // [batch, gates * hidden]: X * W^T + bias on entry
  float* h_next;          // [batch, hidden]
  float* c_next;          // LSTM [batch, hidden]
  float* scratch;         // [batch, gates * hidden]
};

// A cell's step over hidden units [u0, u1): phase 0, then (if the cell has two) phase 1 once
// every unit's phase 0 is done.
using CellStepFn = void (*)(const RecurrentStep& s, int64_t u0, int64_t u1, int phase);

// out[b * ldo + g * hidden + u] += sum_k a[b * lda + k] * M[g * hidden + u, k] for b < rows and
// u in [u0, u1) (u0 a multiple of kRecurrentPanel), M [gates * hidden, K] stored as panels
// (recurrent.cc's pack_panels): gate g's share of A * M^T.
void panels_matmul_acc(const float* a, int64_t lda, int64_t rows, int64_t K, const float* panels, int64_t hidden,
                       int g, int64_t u0, int64_t u1, float* out, int64_t ldo, int simd);
// The same for one step: A * R^T into the columns of gates [g0, g1), units [u0, u1).
inline void gate_matmul_acc(const RecurrentStep& s, const float* a, int64_t lda, int g0, int g1, int64_t u0,
                            int64_t u1, float* out, int64_t ldo) {
  const int64_t H = s.hidden;
  if (u0 == 0 && u1 == H && H % kRecurrentPanel == 0) {
    // Whole gates of whole panels sit side by side in memory and in out: one call, so the
    // kernel sees enough panels for several accumulator chains.
    panels_matmul_acc(a, lda, s.batch, H, s.panels, H, g0, 0, (g1 - g0) * H, out, ldo, s.simd);
    return;
  }
  for (int g = g0; g < g1; ++g) panels_matmul_acc(a, lda, s.batch, H, s.panels, H, g, u0, u1, out, ldo, s.simd);
}

// W [gh, input] of one direction packed as the SGEMM's B = W^T for this SimdLevel
// (recurrent_projection.cc).
std::shared_ptr<float> pack_input_weights(const float* w, int64_t gh, int64_t input, int simd);
// X [rows, input] packed as the SGEMM's A for this SimdLevel.
std::shared_ptr<float> pack_input_rows(const float* x, int64_t rows, int64_t input, int simd);
// out[r, :] += x[r, :] * W^T for r < rows; packed_x and packed_w for the same SimdLevel.
void project_inputs(const float* packed_x, int64_t rows, int64_t input, const float* packed_w, int64_t gh,
                    float* out, ThreadPool& pool, int simd);

// y[i] = clamp(x[i], -clip, clip) when the node has a clip attribute.
inline void clip_inplace(const RecurrentAttrs& a, float* x, int64_t n) {
  if (!a.has_clip) return;
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] < -a.clip ? -a.clip : (x[i] > a.clip ? a.clip : x[i]);
}

// Runs a whole recurrent node: checks inputs, projects, steps every direction, writes outputs.
void compute_recurrent(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out,
                       CellKind cell, CellStepFn step, int phases);
std::shared_ptr<void> prepare_recurrent(const NodeInfo& node, int simd);

void lstm_step(const RecurrentStep& s, int64_t u0, int64_t u1, int phase);
void gru_step(const RecurrentStep& s, int64_t u0, int64_t u1, int phase);

}  // namespace xinrt
