// The GRU cell (ONNX gate order z, r, h), run by the recurrent driver (recurrent.cc) over a
// range of hidden units. linear_before_reset = 0 needs (r . H_prev) * Rh^T, so it runs in two
// phases: z, r and r . H_prev for every unit first, then the h gate.
#include "kernels/recurrent.h"

namespace xinrt {

void gru_step(const RecurrentStep& s, int64_t u0, int64_t u1, int phase) {
  const int64_t H = s.hidden, GH = 3 * H, n = u1 - u0;
  const RecurrentAttrs& a = *s.attrs;
  // scratch: r . H_prev in [b * GH, b * GH + H) (linear_before_reset = 0), or
  // H_prev * Rh^T + Rbh in [b * GH + 2H, b * GH + 3H) (linear_before_reset = 1).
  if (phase == 0) {
    gate_matmul_acc(s, s.h, H, 0, 2, u0, u1, s.gates, GH);
    if (a.linear_before_reset) {
      for (int64_t b = 0; b < s.batch; ++b) {
        float* hr = s.scratch + b * GH + 2 * H + u0;
        for (int64_t j = 0; j < n; ++j) hr[j] = s.rbias ? s.rbias[u0 + j] : 0.0f;
      }
      gate_matmul_acc(s, s.h, H, 2, 3, u0, u1, s.scratch, GH);
    }
    for (int64_t b = 0; b < s.batch; ++b) {
      float* gz = s.gates + b * GH + u0;
      float* gr = gz + H;
      clip_inplace(a, gz, n);
      clip_inplace(a, gr, n);
      apply_recurrent_activation(s.act[0], gz, gz, n, s.simd);
      apply_recurrent_activation(s.act[0], gr, gr, n, s.simd);
      if (!a.linear_before_reset) {
        const float* hp = s.h + b * H + u0;
        float* rh = s.scratch + b * GH + u0;
        for (int64_t j = 0; j < n; ++j) rh[j] = gr[j] * hp[j];
      }
    }
    if (!a.linear_before_reset) return;  // phase 1 finishes the step
  } else {
    gate_matmul_acc(s, s.scratch, GH, 2, 3, u0, u1, s.gates, GH);
  }
  for (int64_t b = 0; b < s.batch; ++b) {
    const float* gz = s.gates + b * GH + u0;
    const float* gr = gz + H;
    float* gh = s.gates + b * GH + 2 * H + u0;
    if (a.linear_before_reset) {
      const float* hr = s.scratch + b * GH + 2 * H + u0;
      for (int64_t j = 0; j < n; ++j) gh[j] += gr[j] * hr[j];
    }
    clip_inplace(a, gh, n);
    apply_recurrent_activation(s.act[1], gh, gh, n, s.simd);
    const float* hp = s.h + b * H + u0;
    float* hn = s.h_next + b * H + u0;
    for (int64_t j = 0; j < n; ++j) hn[j] = (1.0f - gz[j]) * gh[j] + gz[j] * hp[j];
  }
}

}  // namespace xinrt
