// Output sizes and pads of sliding-window ops (Conv, MaxPool, AveragePool) per the ONNX spec.
#pragma once

#include <string>
#include <vector>

#include "core/registry.h"

namespace xinrt {

struct WindowGeometry {
  int spatial = 0;  // 1 or 2 (1-D ops are computed as H = 1)
  int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t k_h = 1, k_w = 1, s_h = 1, s_w = 1, d_h = 1, d_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

// Reads kernel/strides/dilations/pads/auto_pad (and ceil_mode when `ceil_mode_allowed`) for an
// input of spatial dims `in`; throws KernelError on invalid attributes.
WindowGeometry window_geometry(const NodeInfo& node, const std::vector<int64_t>& in,
                               const std::vector<int64_t>& kernel, bool ceil_mode_allowed);

}  // namespace xinrt
