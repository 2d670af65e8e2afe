// The recurrent ops' input projection X * W^T for every time step at once, on the SGEMM
// micro-kernels with W^T packed once (at plan time when W is a constant): packing W per call
// would read it transposed, element by element, on every run.
#include <algorithm>

#include "kernels/recurrent.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

}  // namespace

std::shared_ptr<float> pack_input_rows(const float* x, int64_t rows, int64_t input, int simd) {
  // A(m, k) = x[m, k] in MR-row panels per KC block: block pc at pc * Mpad, panel i at i * kc.
  const int mr = sgemm_micro(simd).mr;
  const int64_t mpad = round_up(std::max<int64_t>(rows, 1), mr);
  std::shared_ptr<float> out = alloc_floats(static_cast<size_t>(mpad * std::max<int64_t>(input, 1)));
  for (int64_t pc = 0; pc < input; pc += kGemmKC) {
    const int64_t kc = std::min<int64_t>(kGemmKC, input - pc);
    for (int64_t i = 0; i < mpad; i += mr) {
      float* dst = out.get() + pc * mpad + i * kc;
      for (int r = 0; r < mr; ++r) {
        if (i + r >= rows) {  // padding rows of the last panel
          for (int64_t k = 0; k < kc; ++k) dst[k * mr + r] = 0.0f;
          continue;
        }
        const float* src = x + (i + r) * input + pc;
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + r] = src[k];
      }
    }
  }
  return out;
}

std::shared_ptr<float> pack_input_weights(const float* w, int64_t gh, int64_t input, int simd) {
  // B(k, n) = W[n, k] in NR-column panels per KC block: block pc at pc * Npad, panel j at j * kc.
  const int nr = sgemm_micro(simd).nr;
  const int64_t npad = round_up(std::max<int64_t>(gh, 1), nr);
  std::shared_ptr<float> out = alloc_floats(static_cast<size_t>(npad * std::max<int64_t>(input, 1)));
  for (int64_t pc = 0; pc < input; pc += kGemmKC) {
    const int64_t kc = std::min<int64_t>(kGemmKC, input - pc);
    for (int64_t j = 0; j < npad; j += nr) {
      float* dst = out.get() + pc * npad + j * kc;
      for (int t = 0; t < nr; ++t) {
        const int64_t n = j + t;
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + t] = n < gh ? w[n * input + pc + k] : 0.0f;
      }
    }
  }
  return out;
}

void project_inputs(const float* packed_x, int64_t rows, int64_t input, const float* packed_w, int64_t gh,
                    float* out, ThreadPool& pool, int simd) {
  if (rows <= 0 || input <= 0 || gh <= 0) return;
  const SgemmMicro mk = sgemm_micro(simd);
  const int64_t mpad = round_up(rows, mk.mr), npad = round_up(gh, mk.nr);
  // Tasks of 8 row panels: their packed X stays in L2 while each W panel streams from L1.
  const int64_t panels = mpad / mk.mr, per_task = 8, tasks = (panels + per_task - 1) / per_task;
  // A chunk of at least 2^23 multiply-adds (~0.2 ms): waking a sleeping worker costs tens of
  // microseconds, more on a busy machine, so a short sequence's projection stays on one thread.
  const int64_t task_work = per_task * mk.mr * gh * input;
  const int64_t grain = std::max<int64_t>(1, ((int64_t{1} << 23) + task_work - 1) / task_work);
  pool.parallel_for(tasks, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i0 = t * per_task * mk.mr, i1 = std::min(mpad, i0 + per_task * mk.mr);
      for (int64_t pc = 0; pc < input; pc += kGemmKC) {
        const int64_t kc = std::min<int64_t>(kGemmKC, input - pc);
        for (int64_t j = 0; j < npad; j += mk.nr) {
          const float* b = packed_w + pc * npad + j * kc;
          const int nr = static_cast<int>(std::min<int64_t>(mk.nr, gh - j));
          for (int64_t i = i0; i < i1; i += mk.mr) {
            const int mr = static_cast<int>(std::min<int64_t>(mk.mr, rows - i));
            mk.kernel(kc, packed_x + pc * mpad + i * kc, b, out + i * gh + j, gh, mr, nr, true);
          }
        }
      }
    }
  });
}

}  // namespace xinrt
