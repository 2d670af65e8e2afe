// What a whole-plane pooling loop needs (kernels/pool.cc computes it once per node).
#pragma once

#include <cstdint>

#include "kernels/conv_geometry.h"

namespace xinrt {

struct PoolPlane {
  const WindowGeometry* g = nullptr;
  const int64_t* kh_lo = nullptr;  // per output row: window rows [kh_lo, kh_hi) inside the input
  const int64_t* kh_hi = nullptr;
  const int64_t* col_lo = nullptr;  // per kernel column kj: output columns whose tap kj is inside
  const int64_t* col_hi = nullptr;
  const float* rows = nullptr;       // AveragePool: per output row, the divisor's row count
  const float* col_count = nullptr;  // AveragePool: per output column, the divisor's column count
  bool is_max = false;
};

// Column stride 1 or 2, AVX-512 (kernels/x86/pool_avx512.cc): `planes` consecutive planes of x
// into those of y.
void pool_planes_avx512(const float* x, float* y, int64_t planes, const PoolPlane& p);

}  // namespace xinrt
