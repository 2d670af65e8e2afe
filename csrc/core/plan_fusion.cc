// Transformer fusions at plan build, as ONNX Runtime's optimizer does them:
//   MatMul(X, W) -> Add(bias)                 => MatMul with a fused per-column bias
//   Div(x, a) -> Erf -> Add(b) -> Mul(x) -> Mul(c) => one xinrt GeluErf step
// Only single-reader intermediates that are not plan outputs are fused away; the fused steps
// compute the same float operations in the same order (the bias joins the GEMM's first tile).
#include <algorithm>

#include "core/plan.h"

namespace xinrt {

namespace {

// The value of a 0-d float32 constant input (which never changes the other operand's shape).
bool scalar_constant(const NodeInfo& info, size_t i, float* value) {
  const Tensor* t = i < info.input_constants.size() ? info.input_constants[i] : nullptr;
  if (!t || t->dtype != DType::f32 || t->rank() != 0) return false;
  *value = *t->ptr<float>();
  return true;
}

Attribute float_attr(float v) {
  Attribute a;
  a.kind = Attribute::kFloat;
  a.f = v;
  return a;
}

}  // namespace

void Plan::fuse_transformer_steps() {
  std::vector<int> readers = count_readers();
  std::vector<bool> removed(steps_.size(), false);
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& st = steps_[i];
    if (removed[i] || !st.info.domain.empty()) continue;
    if (st.info.op_type == "MatMul" && st.inputs.size() == 2) {
      const Tensor* W = st.info.input_constants[1];
      int64_t j = sole_reader(i, "Add", readers, removed);
      if (!W || W->dtype != DType::f32 || W->rank() != 2 || j < 0) continue;
      Step& add = steps_[j];
      int o = other_input(add, st.outputs[0]);
      const Tensor* bias = o >= 0 ? add.info.input_constants[o] : nullptr;
      // A [N] bias broadcasts along the rows and leaves the MatMul's shape as is.
      if (!bias || bias->dtype != DType::f32 || bias->rank() != 1 || bias->numel() != W->dim(1))
        continue;
      st.inputs.push_back(add.inputs[o]);
      st.info.input_dtypes.push_back(DType::f32);
      st.info.input_shapes.emplace_back(bias->shape);
      st.info.input_constants.push_back(bias);
      Attribute a;
      a.kind = Attribute::kInt;
      a.i = 1;
      st.info.attrs[kFusedBiasAttr] = a;
      st.outputs = add.outputs;
      st.info.name += "+" + add.info.name;
      removed[j] = true;
      continue;
    }
    if (st.info.op_type == "Div" && st.inputs.size() == 2) {
      float div = 0, add_c = 0, mul_c = 0;
      // A float32 divisor means x is float32 too (Div takes one dtype).
      if (!scalar_constant(st.info, 1, &div)) continue;
      int x = st.inputs[0];
      int64_t e = sole_reader(i, "Erf", readers, removed);
      int64_t a = e >= 0 ? sole_reader(e, "Add", readers, removed) : -1;
      int oa = a >= 0 ? other_input(steps_[a], steps_[e].outputs[0]) : -1;
      if (oa < 0 || !scalar_constant(steps_[a].info, oa, &add_c)) continue;
      int64_t m = sole_reader(a, "Mul", readers, removed);
      int om = m >= 0 ? other_input(steps_[m], steps_[a].outputs[0]) : -1;
      if (om < 0 || steps_[m].inputs[om] != x) continue;
      int64_t m2 = sole_reader(m, "Mul", readers, removed);
      int om2 = m2 >= 0 ? other_input(steps_[m2], steps_[m].outputs[0]) : -1;
      if (om2 < 0 || !scalar_constant(steps_[m2].info, om2, &mul_c)) continue;
      const Kernel* gelu = find_kernel("GeluErf", "xinrt");
      if (!gelu) continue;
      st.kernel = gelu;
      st.info.op_type = "GeluErf";
      st.info.domain = "xinrt";
      st.inputs.resize(1);
      st.info.input_dtypes.resize(1);
      st.info.input_shapes.resize(1);
      st.info.input_constants.resize(1);
      st.info.attrs.clear();
      st.info.attrs["div"] = float_attr(div);
      st.info.attrs["add"] = float_attr(add_c);
      st.info.attrs["mul"] = float_attr(mul_c);
      for (int64_t k : {e, a, m, m2}) {
        st.info.name += "+" + steps_[k].info.name;
        removed[k] = true;
      }
      st.outputs = steps_[m2].outputs;
    }
  }
  std::vector<Step> kept;
  for (size_t i = 0; i < steps_.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(steps_[i]));
  steps_ = std::move(kept);
}

}  // namespace xinrt
