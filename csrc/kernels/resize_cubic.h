// Cubic Resize (pad_resize.cc works out the source coordinates and delegates here).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace xinrt {

// Y (float32, already allocated with the output shape) from X by separable cubic convolution:
// coord[d][o] is output index o's source coordinate along axis d; a = cubic_coeff_a; taps
// outside the input take the edge value, or drop out (weights renormalised) with
// exclude_outside, as onnx.reference does.
void resize_cubic(const Tensor& X, const std::vector<std::vector<double>>& coord, double a, bool exclude_outside,
                  Tensor& Y, ThreadPool& pool);

}  // namespace xinrt
