// Object-detection ops: NonMaxSuppression (ONNX Runtime's greedy algorithm, as onnx.reference
// also follows it: per batch and class, highest score first with ties to the lower box index,
// IoU in float32) and RoiAlign (avg and max, ONNX Runtime's sampling; float32 throughout).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/registry.h"

namespace xinrt {
namespace {

std::string check_nms(const NodeInfo& n) {
  if (n.input_dtypes.size() < 2) return "NonMaxSuppression: needs boxes and scores";
  for (size_t i : {size_t{0}, size_t{1}, size_t{3}, size_t{4}}) {
    std::string r = require_dtype(n, i, {DType::f32});
    if (!r.empty()) return r;
  }
  int64_t c = n.attr_int("center_point_box", 0);
  if (c != 0 && c != 1) return "NonMaxSuppression: center_point_box must be 0 or 1";
  return require_dtype(n, 2, {DType::i64});
}

std::vector<DType> i64_output(const NodeInfo&) { return {DType::i64}; }

struct Box {
  float x0, y0, x1, y1;
};

Box box_at(const float* p, bool center) {
  if (center) {
    float hw = p[2] / 2, hh = p[3] / 2;
    return {p[0] - hw, p[1] - hh, p[0] + hw, p[1] + hh};
  }
  return {std::min(p[1], p[3]), std::min(p[0], p[2]), std::max(p[1], p[3]), std::max(p[0], p[2])};
}

bool suppresses(const Box& a, const Box& b, float iou_threshold) {
  float ix0 = std::max(a.x0, b.x0), ix1 = std::min(a.x1, b.x1);
  if (ix1 <= ix0) return false;
  float iy0 = std::max(a.y0, b.y0), iy1 = std::min(a.y1, b.y1);
  if (iy1 <= iy0) return false;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  if (inter <= 0) return false;
  float area_a = (a.x1 - a.x0) * (a.y1 - a.y0), area_b = (b.x1 - b.x0) * (b.y1 - b.y0);
  float uni = area_a + area_b - inter;
  if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou_threshold;
}

const Tensor* optional_scalar(const std::vector<const Tensor*>& in, size_t i) {
  return i < in.size() && in[i] && in[i]->numel() > 0 ? in[i] : nullptr;
}

void compute_nms(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& B = *in[0];
  const Tensor& S = *in[1];
  if (B.rank() != 3 || B.shape[2] != 4 || S.rank() != 3 || S.shape[0] != B.shape[0] || S.shape[2] != B.shape[1])
    throw KernelError("NonMaxSuppression: boxes " + shape_str(B.shape) + " and scores " + shape_str(S.shape) +
                      " should be [batch, boxes, 4] and [batch, classes, boxes]");
  const Tensor* max_t = optional_scalar(in, 2);
  const Tensor* iou_t = optional_scalar(in, 3);
  const Tensor* score_t = optional_scalar(in, 4);
  int64_t max_out = max_t ? std::max<int64_t>(*max_t->ptr<int64_t>(), 0) : 0;
  float iou = iou_t ? *iou_t->ptr<float>() : 0.0f;
  bool center = ctx.node.attr_int("center_point_box", 0) == 1;
  int64_t batches = B.shape[0], boxes = B.shape[1], classes = S.shape[1];
  std::vector<int64_t> selected;  // (batch, class, box) triples
  std::vector<Box> all(static_cast<size_t>(boxes));
  std::vector<int64_t> order;
  std::vector<int64_t> kept;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t i = 0; i < boxes; ++i) all[i] = box_at(B.ptr<float>() + (b * boxes + i) * 4, center);
    for (int64_t c = 0; c < classes; ++c) {
      const float* sc = S.ptr<float>() + (b * classes + c) * boxes;
      order.clear();
      for (int64_t i = 0; i < boxes; ++i)
        if (!score_t || sc[i] > *score_t->ptr<float>()) order.push_back(i);
      std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return sc[x] > sc[y]; });
      kept.clear();
      for (int64_t i : order) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool keep = true;
        for (int64_t k : kept)
          if (suppresses(all[i], all[k], iou)) {
            keep = false;
            break;
          }
        if (!keep) continue;
        kept.push_back(i);
        selected.insert(selected.end(), {b, c, i});
      }
    }
  }
  int64_t n = static_cast<int64_t>(selected.size() / 3);
  out[0] = Tensor::empty(DType::i64, {n, 3});
  std::copy(selected.begin(), selected.end(), out[0].ptr<int64_t>());
}

// ---- RoiAlign ----

std::string check_roi_align(const NodeInfo& n) {
  if (n.input_dtypes.size() != 3) return "RoiAlign: expects 3 inputs";
  if (n.input_rank(0) >= 0 && n.input_rank(0) != 4) return "RoiAlign: 4-D input only";
  std::string mode = n.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max") return "RoiAlign: mode '" + mode + "' not in the spec";
  std::string ct = n.attr_string("coordinate_transformation_mode", "half_pixel");
  if (ct != "half_pixel" && ct != "output_half_pixel")
    return "RoiAlign: coordinate_transformation_mode '" + ct + "' not in the spec";
  if (n.attr_int("output_height", 1) < 1 || n.attr_int("output_width", 1) < 1)
    return "RoiAlign: output_height and output_width must be positive";
  std::string r = require_dtype(n, 1, {DType::f32});
  return r.empty() ? require_dtype(n, 2, {DType::i64}) : r;
}

// One bilinear sample: four flat positions and weights (all zero outside the map).
struct Sample {
  int64_t pos[4];
  float w[4];
};

Sample bilinear_sample(float y, float x, int64_t height, int64_t width) {
  Sample s{{0, 0, 0, 0}, {0, 0, 0, 0}};
  if (y < -1.0f || y > static_cast<float>(height) || x < -1.0f || x > static_cast<float>(width)) return s;
  y = std::max(y, 0.0f);
  x = std::max(x, 0.0f);
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
  if (y0 >= height - 1) {
    y1 = y0 = height - 1;
    y = static_cast<float>(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= width - 1) {
    x1 = x0 = width - 1;
    x = static_cast<float>(x0);
  } else {
    x1 = x0 + 1;
  }
  float ly = y - static_cast<float>(y0), lx = x - static_cast<float>(x0), hy = 1.0f - ly, hx = 1.0f - lx;
  s.pos[0] = y0 * width + x0;
  s.pos[1] = y0 * width + x1;
  s.pos[2] = y1 * width + x0;
  s.pos[3] = y1 * width + x1;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

void compute_roi_align(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const Tensor& R = *in[1];
  const Tensor& I = *in[2];
  const NodeInfo& node = ctx.node;
  if (X.dtype != DType::f32 || X.rank() != 4) throw KernelError("RoiAlign: 4-D float32 input only, got " + shape_str(X.shape));
  if (R.rank() != 2 || R.shape[1] != 4 || I.rank() != 1 || I.shape[0] != R.shape[0])
    throw KernelError("RoiAlign: rois " + shape_str(R.shape) + " and batch_indices " + shape_str(I.shape) +
                      " should be [num_rois, 4] and [num_rois]");
  int64_t rois = R.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
  int64_t ph = node.attr_int("output_height", 1), pw = node.attr_int("output_width", 1);
  int64_t ratio = node.attr_int("sampling_ratio", 0);
  float scale = node.attr_float("spatial_scale", 1.0f);
  bool avg = node.attr_string("mode", "avg") == "avg";
  // Opset 10 has no attribute and behaves as output_half_pixel.
  bool half_pixel = node.opset >= 16 && node.attr_string("coordinate_transformation_mode", "half_pixel") == "half_pixel";
  out[0] = Tensor::empty(DType::f32, {rois, C, ph, pw});
  float* y = out[0].ptr<float>();
  const float* x = X.ptr<float>();
  for (int64_t n = 0; n < rois; ++n) {
    int64_t b = I.ptr<int64_t>()[n];
    if (b < 0 || b >= X.shape[0]) throw KernelError("RoiAlign: batch index " + std::to_string(b) + " out of range");
    const float* roi = R.ptr<float>() + n * 4;
    float offset = half_pixel ? 0.5f : 0.0f;
    float sw = roi[0] * scale - offset, sh = roi[1] * scale - offset;
    float rw = roi[2] * scale - offset - sw, rh = roi[3] * scale - offset - sh;
    if (!half_pixel) {
      rw = std::max(rw, 1.0f);
      rh = std::max(rh, 1.0f);
    }
    float bh = rh / static_cast<float>(ph), bw = rw / static_cast<float>(pw);
    int64_t gh = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(rh / static_cast<float>(ph)));
    int64_t gw = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(rw / static_cast<float>(pw)));
    float count = static_cast<float>(std::max<int64_t>(gh * gw, 1));
    std::vector<Sample> samples;
    for (int64_t i = 0; i < ph; ++i)
      for (int64_t j = 0; j < pw; ++j)
        for (int64_t iy = 0; iy < gh; ++iy) {
          float yy = sh + static_cast<float>(i) * bh + (static_cast<float>(iy) + 0.5f) * bh / static_cast<float>(gh);
          for (int64_t ix = 0; ix < gw; ++ix) {
            float xx = sw + static_cast<float>(j) * bw + (static_cast<float>(ix) + 0.5f) * bw / static_cast<float>(gw);
            samples.push_back(bilinear_sample(yy, xx, H, W));
          }
        }
    ctx.pool.parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const float* map = x + (b * C + c) * H * W;
        size_t k = 0;
        for (int64_t i = 0; i < ph * pw; ++i) {
          float v = 0.0f;
          bool first = true;
          for (int64_t g = 0; g < gh * gw; ++g, ++k) {
            const Sample& s = samples[k];
            if (avg) {
              v += s.w[0] * map[s.pos[0]] + s.w[1] * map[s.pos[1]] + s.w[2] * map[s.pos[2]] + s.w[3] * map[s.pos[3]];
            } else {
              float m = std::max(std::max(s.w[0] * map[s.pos[0]], s.w[1] * map[s.pos[1]]),
                                 std::max(s.w[2] * map[s.pos[2]], s.w[3] * map[s.pos[3]]));
              v = first ? m : std::max(v, m);
              first = false;
            }
          }
          y[((n * C + c) * ph) * pw + i] = avg ? v / count : v;
        }
      }
    });
  }
}

}  // namespace

void register_detection(std::vector<Kernel>& k) {
  k.push_back(Kernel("NonMaxSuppression").opsets(10, kMaxOpset).types({DType::f32}).check(check_nms)
              .outputs(i64_output).compute(compute_nms));
  k.push_back(Kernel("RoiAlign").opsets(10, kMaxOpset).types({DType::f32}).check(check_roi_align)
              .compute(compute_roi_align));
}

}  // namespace xinrt
