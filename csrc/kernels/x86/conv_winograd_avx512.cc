// Winograd F(2x2, 3x3) tile loops (kernels/conv_winograd_tiles.h) compiled for AVX-512F.
#include "kernels/conv_winograd_tiles.h"

namespace xinrt {

void winograd_input_tiles_avx512(const float* const rows[4], int64_t ix0, int64_t in_w, int64_t count, float* phases,
                          float* out, int64_t ld) {
  winograd_input_tiles(rows, ix0, in_w, count, phases, out, ld);
}

void winograd_inverse_tile_avx512(const float* m, int64_t ld, int64_t M, float* o) { winograd_inverse_tile(m, ld, M, o); }

}  // namespace xinrt
