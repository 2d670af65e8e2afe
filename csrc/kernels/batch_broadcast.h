// Batched matrix products with numpy broadcasting (MatMul, MatMulInteger): where each batch
// item's A and B matrices start.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace xinrt {

struct BatchOffsets {
  std::vector<int64_t> a, b;  // per item of `batch`, in elements: 0 strides on broadcast dims
};

// batch = broadcast(batch_a, batch_b); a_matrix / b_matrix = elements of one A / B matrix.
inline BatchOffsets batch_offsets(const Shape& batch, const Shape& batch_a, const Shape& batch_b,
                                  int64_t a_matrix, int64_t b_matrix) {
  const size_t r = batch.size();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  int64_t acc_a = a_matrix, acc_b = b_matrix;
  for (size_t k = 0; k < r; ++k) {
    const size_t i = r - 1 - k;
    const int64_t da = k < batch_a.size() ? batch_a[batch_a.size() - 1 - k] : 1;
    const int64_t db = k < batch_b.size() ? batch_b[batch_b.size() - 1 - k] : 1;
    sa[i] = da == 1 ? 0 : acc_a;
    sb[i] = db == 1 ? 0 : acc_b;
    acc_a *= da;
    acc_b *= db;
  }
  BatchOffsets out;
  const int64_t items = shape_numel(batch);
  out.a.resize(static_cast<size_t>(items));
  out.b.resize(static_cast<size_t>(items));
  for (int64_t t = 0; t < items; ++t) {
    int64_t oa = 0, ob = 0, rem = t;
    for (int64_t d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      oa += idx * sa[d];
      ob += idx * sb[d];
    }
    out.a[static_cast<size_t>(t)] = oa;
    out.b[static_cast<size_t>(t)] = ob;
  }
  return out;
}

}  // namespace xinrt
