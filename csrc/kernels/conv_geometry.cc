#include "kernels/conv_geometry.h"

namespace xinrt {

WindowGeometry window_geometry(const NodeInfo& node, const std::vector<int64_t>& in,
                               const std::vector<int64_t>& kernel, bool ceil_mode_allowed) {
  size_t n = in.size();
  if (n < 1 || n > 2) throw KernelError("only 1-D and 2-D windows are supported");
  if (kernel.size() != n) throw KernelError("kernel_shape has " + std::to_string(kernel.size()) +
                                            " dims, input has " + std::to_string(n) + " spatial dims");
  std::vector<int64_t> strides = node.attr_ints("strides", std::vector<int64_t>(n, 1));
  std::vector<int64_t> dil = node.attr_ints("dilations", std::vector<int64_t>(n, 1));
  std::vector<int64_t> pads = node.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  bool ceil_mode = ceil_mode_allowed && node.attr_int("ceil_mode", 0) == 1;
  if (strides.size() != n || dil.size() != n || pads.size() != 2 * n)
    throw KernelError("strides/dilations/pads lengths do not match " + std::to_string(n) + " spatial dims");
  std::vector<int64_t> out(n), begin(n), end(n);
  for (size_t i = 0; i < n; ++i) {
    if (strides[i] < 1 || dil[i] < 1 || kernel[i] < 1 || pads[i] < 0 || pads[i + n] < 0)
      throw KernelError("invalid kernel_shape/strides/dilations/pads");
    // Checked: kernel_shape, dilations and pads come from the model, so any of them may be ~2**63.
    const char* what = "window geometry";
    int64_t window = checked_add(checked_mul(kernel[i] - 1, dil[i], what), 1, what);
    if (auto_pad == "NOTSET") {
      begin[i] = pads[i];
      end[i] = pads[i + n];
      int64_t padded = checked_add(checked_add(in[i], begin[i], what), end[i], what);
      int64_t span = padded - window;
      if (span < 0) throw KernelError("window larger than padded input");
      out[i] = (ceil_mode ? span / strides[i] + (span % strides[i] != 0) : span / strides[i]) + 1;
      // The last window must start inside the input or the left padding.
      if (ceil_mode && (out[i] - 1) * strides[i] >= in[i] + begin[i]) --out[i];
    } else if (auto_pad == "VALID") {
      begin[i] = end[i] = 0;
      if (in[i] < window) throw KernelError("window larger than input");
      out[i] = (in[i] - window) / strides[i] + 1;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out[i] = in[i] / strides[i] + (in[i] % strides[i] != 0);
      int64_t total = std::max<int64_t>(0, checked_add((out[i] - 1) * strides[i], window, what) - in[i]);
      begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end[i] = total - begin[i];
    } else {
      throw KernelError("unknown auto_pad '" + auto_pad + "'");
    }
    // One output position: the stride never applies. Kernels size scratch by the stride (im2col's
    // column phases), so a stride of 2**62 here must not reach them (found by tests/fuzz).
    if (out[i] == 1) strides[i] = 1;
  }
  WindowGeometry g;
  g.spatial = static_cast<int>(n);
  size_t w = n - 1;  // the last spatial dim is W; a 1-D op keeps H = 1
  g.in_w = in[w];
  g.out_w = out[w];
  g.k_w = kernel[w];
  g.s_w = strides[w];
  g.d_w = dil[w];
  g.pad_left = begin[w];
  g.pad_right = end[w];
  if (n == 2) {
    g.in_h = in[0];
    g.out_h = out[0];
    g.k_h = kernel[0];
    g.s_h = strides[0];
    g.d_h = dil[0];
    g.pad_top = begin[0];
    g.pad_bottom = end[0];
  }
  return g;
}

}  // namespace xinrt
