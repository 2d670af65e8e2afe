// Dynamic-quantization fusion at plan build, as ONNX Runtime's DynamicQuantizeMatMul fusion does.
// onnxruntime.quantization.quantize_dynamic writes each MatMul with a constant weight as
//
//   (xq, xs, xz) = DynamicQuantizeLinear(X)
//   S = Mul(xs, w_scale)                       w_scale: constant, scalar or one per column
//   Y = Mul(Cast<float>(MatMulInteger(xq, Wq, xz, w_zero)), S) [-> Add(bias)]
//
// which becomes one com.microsoft DynamicQuantizeMatMul step (X, Wq, w_scale, w_zero, bias): it
// quantizes X with the same arithmetic, runs qgemm on the weight packed at plan time and applies
// acc * (xs * w_scale) [+ bias] in the GEMM's output stage. Where several MatMulIntegers read one
// DynamicQuantizeLinear (Q, K, V), it stays and each becomes a MatMulIntegerToFloat step
// (xq, Wq, xs, w_scale, xz, w_zero, bias), so X is quantized once. The integer part is identical; the
// float part equals Cast -> Mul -> Add up to float rounding (the output stage may use an FMA).
// DynamicQuantizeLinear and the scale Mul go away when no other step reads them.
#include <algorithm>
#include <functional>
#include <optional>

#include "core/plan.h"

namespace xinrt {

namespace {

constexpr int64_t kOnnxFloat = 1;

bool is_op(const NodeInfo& info, const char* op) { return info.op_type == op && info.domain.empty(); }

bool q8(const Tensor* t) { return t && (t->dtype == DType::u8 || t->dtype == DType::i8); }

}  // namespace

void Plan::fuse_quant_steps() {
  const Kernel* dynamic_kernel = find_kernel("DynamicQuantizeMatMul", "com.microsoft");
  const Kernel* to_float_kernel = find_kernel("MatMulIntegerToFloat", "com.microsoft");
  if (!dynamic_kernel || !to_float_kernel) return;
  std::vector<int> readers = count_readers();
  std::vector<bool> removed(steps_.size(), false);
  std::vector<int64_t> producer(num_slots_, -1);
  for (size_t i = 0; i < steps_.size(); ++i)
    for (int s : steps_[i].outputs)
      if (s >= 0) producer[s] = static_cast<int64_t>(i);
  std::vector<size_t> candidates;  // DynamicQuantizeLinear and scale Mul steps a fusion read
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& mm = steps_[i];
    if (removed[i] || !is_op(mm.info, "MatMulInteger") || mm.inputs.size() < 3 || mm.inputs[2] < 0) continue;
    const Tensor* W = mm.info.input_constants[1];
    const Tensor* WZ = mm.inputs.size() > 3 && mm.inputs[3] >= 0 ? mm.info.input_constants[3] : nullptr;
    if (!q8(W) || W->rank() != 2) continue;
    if (mm.inputs.size() > 3 && mm.inputs[3] >= 0 && (!q8(WZ) || WZ->rank() > 1)) continue;
    const int64_t N = W->dim(1);
    int64_t d = producer[mm.inputs[0]];
    if (d < 0 || !is_op(steps_[d].info, "DynamicQuantizeLinear") || steps_[d].outputs.size() != 3 ||
        steps_[d].outputs[0] != mm.inputs[0] || steps_[d].outputs[2] != mm.inputs[2])
      continue;
    int64_t c = sole_reader(i, "Cast", readers, removed);
    if (c < 0 || steps_[c].info.attr_int("to", 0) != kOnnxFloat) continue;
    int64_t mu = sole_reader(c, "Mul", readers, removed);
    int om = mu >= 0 ? other_input(steps_[mu], steps_[c].outputs[0]) : -1;
    if (om < 0) continue;
    // S = Mul(xs, w_scale) with a constant float w_scale of one value or one per column.
    int64_t sm = producer[steps_[mu].inputs[om]];
    if (sm < 0 || !is_op(steps_[sm].info, "Mul")) continue;
    int os = other_input(steps_[sm], steps_[d].outputs[1]);
    const Tensor* WS = os >= 0 ? steps_[sm].info.input_constants[os] : nullptr;
    if (!WS || WS->dtype != DType::f32 || WS->rank() > 1 || (WS->numel() != 1 && WS->numel() != N)) continue;
    // An optional Add of a constant [N] float bias.
    int64_t add = sole_reader(mu, "Add", readers, removed);
    int ob = add >= 0 ? other_input(steps_[add], steps_[mu].outputs[0]) : -1;
    const Tensor* bias = ob >= 0 ? steps_[add].info.input_constants[ob] : nullptr;
    if (!bias || bias->dtype != DType::f32 || bias->rank() != 1 || bias->numel() != N) add = -1;

    // One reader of the quantized X: quantize inside the GEMM step. Several (Q, K and V read
    // one hidden state): keep DynamicQuantizeLinear and let each GEMM read its outputs.
    const Step& dq = steps_[d];
    const bool shared = readers[dq.outputs[0]] > 1;
    Step fused;
    fused.kernel = shared ? to_float_kernel : dynamic_kernel;
    NodeInfo& info = fused.info;
    info.op_type = shared ? "MatMulIntegerToFloat" : "DynamicQuantizeMatMul";
    info.domain = "com.microsoft";
    info.opset = 1;
    info.name = mm.info.name + "+" + steps_[c].info.name + "+" + steps_[mu].info.name;
    auto push = [&](int slot, DType dt, std::optional<Shape> shape, const Tensor* constant) {
      fused.inputs.push_back(slot);
      info.input_dtypes.push_back(slot < 0 ? DType::none : dt);
      info.input_shapes.push_back(slot < 0 ? std::nullopt : shape);
      info.input_constants.push_back(slot < 0 ? nullptr : constant);
    };
    auto push_w_zero = [&] {
      push(WZ ? mm.inputs[3] : -1, WZ ? WZ->dtype : DType::none, WZ ? std::optional<Shape>(WZ->shape) : std::nullopt,
           WZ);
    };
    if (shared) {  // MatMulIntegerToFloat(xq, W, xs, w_scale, xz, w_zero, bias)
      push(dq.outputs[0], DType::u8, std::nullopt, nullptr);
      push(mm.inputs[1], W->dtype, W->shape, W);
      push(dq.outputs[1], DType::f32, std::nullopt, nullptr);
      push(steps_[sm].inputs[os], DType::f32, WS->shape, WS);
      push(dq.outputs[2], DType::u8, std::nullopt, nullptr);
      push_w_zero();
    } else {  // DynamicQuantizeMatMul(X, W, w_scale, w_zero, bias)
      push(dq.inputs[0], dq.info.input_dtypes[0], dq.info.input_shapes[0], dq.info.input_constants[0]);
      push(mm.inputs[1], W->dtype, W->shape, W);
      push(steps_[sm].inputs[os], DType::f32, WS->shape, WS);
      push_w_zero();
    }
    push(add >= 0 ? steps_[add].inputs[ob] : -1, DType::f32, bias ? std::optional<Shape>(bias->shape) : std::nullopt,
         add >= 0 ? bias : nullptr);
    if (!check_node(info).empty()) continue;
    fused.outputs = add >= 0 ? steps_[add].outputs : steps_[mu].outputs;
    if (add >= 0) info.name += "+" + steps_[add].info.name;
    for (int64_t k : {c, mu, add})
      if (k >= 0) removed[k] = true;
    candidates.push_back(static_cast<size_t>(d));
    candidates.push_back(static_cast<size_t>(sm));
    mm = std::move(fused);
  }
  // Drop the DynamicQuantizeLinear and scale Mul steps nothing reads any more.
  std::vector<int> live(num_slots_, 0);
  for (size_t i = 0; i < steps_.size(); ++i)
    if (!removed[i])
      for (int s : steps_[i].inputs)
        if (s >= 0) ++live[s];
  for (int s : output_slots_) ++live[s];
  std::sort(candidates.begin(), candidates.end(), std::greater<size_t>());  // readers (Mul) first
  for (size_t k : candidates) {
    if (removed[k]) continue;
    bool read = false;
    for (int s : steps_[k].outputs) read = read || (s >= 0 && live[s] > 0);
    if (read) continue;
    removed[k] = true;
    for (int s : steps_[k].inputs)
      if (s >= 0) --live[s];
  }
  std::vector<Step> kept;
  for (size_t i = 0; i < steps_.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(steps_[i]));
  steps_ = std::move(kept);
}

}  // namespace xinrt
