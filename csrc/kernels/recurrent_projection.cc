// The recurrent ops' input projection X * W^T for every time step at once, on the SGEMM
// micro-kernels with W^T packed once (at plan time when W is a constant): packing W per call
// would read it transposed, element by element, on every run.
#include <algorithm>

#include "kernels/recurrent.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// The rows x cols row-major m in panels of `width` rows per KC block, each panel column-major
// (block pc at pc * padded rows, panel i at i * kc), rows past the last zero: the SGEMM's packed
// A when width is its MR, and its packed B of m^T when width is its NR.
std::shared_ptr<float> pack_row_panels(const float* m, int64_t rows, int64_t cols, int width) {
  const int64_t padded = round_up(std::max<int64_t>(rows, 1), width);
  std::shared_ptr<float> out = alloc_floats(static_cast<size_t>(padded * std::max<int64_t>(cols, 1)));
  for (int64_t pc = 0; pc < cols; pc += kGemmKC) {
    const int64_t kc = std::min<int64_t>(kGemmKC, cols - pc);
    for (int64_t i = 0; i < padded; i += width) {
      float* dst = out.get() + pc * padded + i * kc;
      for (int r = 0; r < width; ++r) {
        if (i + r >= rows) {  // padding rows of the last panel
          for (int64_t k = 0; k < kc; ++k) dst[k * width + r] = 0.0f;
          continue;
        }
        const float* src = m + (i + r) * cols + pc;
        for (int64_t k = 0; k < kc; ++k) dst[k * width + r] = src[k];
      }
    }
  }
  return out;
}

}  // namespace

std::shared_ptr<float> pack_input_rows(const float* x, int64_t rows, int64_t input, int simd) {
  return pack_row_panels(x, rows, input, sgemm_micro(simd).mr);  // A(m, k) = x[m, k]
}

std::shared_ptr<float> pack_input_weights(const float* w, int64_t gh, int64_t input, int simd) {
  return pack_row_panels(w, gh, input, sgemm_micro(simd).nr);  // B(k, n) = W[n, k]
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
