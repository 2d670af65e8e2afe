// The LSTM cell (ONNX gate order i, o, f, c; peepholes P in order i, o, f), run by the
// recurrent driver (recurrent.cc) over a range of hidden units.
#include "core/simd_level.h"
#include "kernels/recurrent.h"

namespace xinrt {

void lstm_step(const RecurrentStep& s, int64_t u0, int64_t u1, int) {
  const int64_t H = s.hidden, GH = 4 * H, n = u1 - u0;
  const RecurrentAttrs& a = *s.attrs;
  gate_matmul_acc(s, s.h, H, 0, 4, u0, u1, s.gates, GH);
  const float* pi = s.peephole ? s.peephole + u0 : nullptr;
  const float* po = s.peephole ? s.peephole + H + u0 : nullptr;
  const float* pf = s.peephole ? s.peephole + 2 * H + u0 : nullptr;
#if XINRT_HAVE_X86
  // The default activations in one pass per row (the general path's vector sigmoid/tanh).
  const bool defaults = s.act[0].kind == RecurrentActivation::kSigmoid && s.act[1].kind == RecurrentActivation::kTanh &&
                        s.act[2].kind == RecurrentActivation::kTanh;
  if (s.simd >= kSimdAvx2Fma && defaults) {
    for (int64_t b = 0; b < s.batch; ++b) {
      const float* gi = s.gates + b * GH + u0;
      auto gates_fn = s.simd >= kSimdAvx512 ? lstm_gates_avx512 : lstm_gates_avx2;
      gates_fn(n, gi, gi + H, gi + 2 * H, gi + 3 * H, s.c + b * H + u0, pi, po, pf, a.has_clip ? a.clip : 0.0f,
               a.input_forget, s.c_next + b * H + u0, s.h_next + b * H + u0);
    }
    return;
  }
#endif
  for (int64_t b = 0; b < s.batch; ++b) {
    float* gi = s.gates + b * GH + u0;
    float* go = gi + H;
    float* gf = gi + 2 * H;
    float* gc = gi + 3 * H;
    const float* cp = s.c + b * H + u0;
    float* cn = s.c_next + b * H + u0;
    float* hn = s.h_next + b * H + u0;
    float* tmp = s.scratch + b * GH + u0;
    if (pi)
      for (int64_t j = 0; j < n; ++j) gi[j] += pi[j] * cp[j];
    clip_inplace(a, gi, n);
    apply_recurrent_activation(s.act[0], gi, gi, n, s.simd);
    if (a.input_forget) {  // coupled gates, as ONNX Runtime computes them: f = 1 - i
      for (int64_t j = 0; j < n; ++j) gf[j] = 1.0f - gi[j];
    } else {
      if (pf)
        for (int64_t j = 0; j < n; ++j) gf[j] += pf[j] * cp[j];
      clip_inplace(a, gf, n);
      apply_recurrent_activation(s.act[0], gf, gf, n, s.simd);
    }
    clip_inplace(a, gc, n);
    apply_recurrent_activation(s.act[1], gc, gc, n, s.simd);
    for (int64_t j = 0; j < n; ++j) cn[j] = gf[j] * cp[j] + gi[j] * gc[j];
    if (po)
      for (int64_t j = 0; j < n; ++j) go[j] += po[j] * cn[j];
    clip_inplace(a, go, n);
    apply_recurrent_activation(s.act[0], go, go, n, s.simd);
    // h(C) reads C unclipped, as ONNX Runtime computes it (clip bounds the gate inputs only).
    apply_recurrent_activation(s.act[2], cn, tmp, n, s.simd);
    for (int64_t j = 0; j < n; ++j) hn[j] = go[j] * tmp[j];
  }
}

}  // namespace xinrt
