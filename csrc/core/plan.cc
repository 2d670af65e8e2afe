#include "core/plan.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/cpu_features.h"

namespace xinrt {

std::string Plan::node_label(const NodeInfo& info) const {
  return "node '" + info.name + "' (" + info.op_type + ")";
}

Plan::Plan(std::vector<NodeSpec> nodes, int num_slots, std::vector<int> input_slots,
           std::vector<int> output_slots, std::map<int, Tensor> constants, int num_threads,
           std::vector<DType> input_dtypes, const std::string& precision)
    : num_slots_(num_slots),
      input_slots_(std::move(input_slots)),
      output_slots_(std::move(output_slots)),
      input_dtypes_(std::move(input_dtypes)),
      constants_(),
      pool_(shared_thread_pool(num_threads)),
      simd_(simd_level()) {
  auto check_slot = [&](int s, const std::string& what) {
    if (s < 0 || s >= num_slots_)
      throw PlanError(what + " slot " + std::to_string(s) + " out of range [0, " +
                      std::to_string(num_slots_) + ")");
  };
  if (precision != "fp32" && precision != "bf16")
    throw PlanError("precision must be fp32 or bf16, got '" + precision + "'");
  if (precision == "bf16" && simd_ < kSimdAvx512Bf16)
    throw PlanError(std::string("precision bf16 needs a CPU with AVX512_BF16; the SIMD path here is ") +
                    simd_name(static_cast<SimdLevel>(simd_)));
  if (!input_dtypes_.empty() && input_dtypes_.size() != input_slots_.size())
    throw PlanError("input_dtypes has " + std::to_string(input_dtypes_.size()) + " entries, expected " +
                    std::to_string(input_slots_.size()));
  // Fusion adds constant slots; reserving keeps NodeInfo::input_constants pointers valid.
  constants_.reserve(static_cast<size_t>(num_slots_) + 2 * nodes.size());
  constants_.resize(num_slots_);
  std::vector<DType> slot_dtype(num_slots_, DType::unknown);
  std::vector<bool> defined(num_slots_, false);
  for (auto& kv : constants) {
    check_slot(kv.first, "constant");
    kv.second.readonly = true;
    slot_dtype[kv.first] = kv.second.dtype;
    constants_[kv.first] = kv.second;
    defined[kv.first] = true;
  }
  for (size_t i = 0; i < input_slots_.size(); ++i) {
    check_slot(input_slots_[i], "input");
    slot_dtype[input_slots_[i]] = input_dtypes_.empty() ? DType::unknown : input_dtypes_[i];
    defined[input_slots_[i]] = true;
  }
  for (int s : output_slots_) check_slot(s, "output");

  for (NodeSpec& spec : nodes) {
    Step step;
    NodeInfo& info = step.info;
    info.op_type = spec.op_type;
    info.domain = spec.domain == "ai.onnx" ? "" : spec.domain;
    info.name = spec.name;
    info.opset = spec.opset;
    info.attrs = std::move(spec.attrs);
    info.num_outputs = static_cast<int>(spec.outputs.size());
    // A node with subgraphs reads outer-scope values and may not terminate (a Loop without trip
    // count), so it is never folded at plan time.
    bool all_constant = true;
    for (const auto& kv : info.attrs) all_constant = all_constant && kv.second.kind != Attribute::kGraph;
    for (int s : spec.inputs) {
      if (s < 0) {
        info.input_dtypes.push_back(DType::none);
        info.input_shapes.emplace_back(std::nullopt);
        info.input_constants.push_back(nullptr);
        continue;
      }
      check_slot(s, node_label(info) + " input");
      if (!defined[s])
        throw PlanError(node_label(info) + ": input slot " + std::to_string(s) +
                        " is not produced by an earlier node, an input or a constant");
      info.input_dtypes.push_back(slot_dtype[s]);
      const Tensor& c = constants_[s];
      bool is_const = c.dtype != DType::none;
      all_constant = all_constant && is_const;
      info.input_shapes.emplace_back(is_const ? std::optional<Shape>(c.shape) : std::nullopt);
      info.input_constants.push_back(is_const ? &c : nullptr);
    }
    std::string reason = check_node(info);
    if (!reason.empty()) throw PlanError(node_label(info) + ": " + reason);
    step.kernel = find_kernel(info.op_type, info.domain);
    step.inputs = spec.inputs;
    step.outputs = spec.outputs;
    std::vector<DType> out_dtypes = infer_output_dtypes(*step.kernel, info);
    for (size_t i = 0; i < spec.outputs.size(); ++i) {
      int s = spec.outputs[i];
      if (s < 0) continue;
      check_slot(s, node_label(info) + " output");
      slot_dtype[s] = i < out_dtypes.size() ? out_dtypes[i] : DType::unknown;
      defined[s] = true;
    }
    // DequantizeLinear on constants stays a step until fuse_qdq_steps has seen it (and folds it).
    if (all_constant && !spec.inputs.empty() && info.op_type != "DequantizeLinear") {
      // Fold at plan time (e.g. ConstantOfShape weights) so later kernels can pre-pack them.
      std::vector<const Tensor*> in(info.input_constants);
      std::vector<Tensor> out(spec.outputs.size());
      try {
        step.kernel->compute_fn(KernelContext{info, nullptr, *pool_, simd_}, in, out);
      } catch (const ModelError&) {
        // An impossible shape (or attribute) from constants alone: left as a step, so that running the model
        // reports it (InvalidModelError naming the node) instead of the backend declining it.
        steps_.push_back(std::move(step));
        continue;
      } catch (const KernelError& e) {
        throw PlanError(node_label(info) + ": " + e.what());
      }
      for (size_t i = 0; i < spec.outputs.size(); ++i) {
        if (spec.outputs[i] < 0) continue;
        out[i].readonly = true;
        constants_[spec.outputs[i]] = out[i];
        slot_dtype[spec.outputs[i]] = out[i].dtype;
      }
      continue;
    }
    steps_.push_back(std::move(step));
  }

  for (int s : output_slots_) output_dtypes_.push_back(slot_dtype[s]);
  fuse_qdq_steps();
  fuse_steps();
  fuse_transformer_steps();
  fuse_quant_steps();
  if (precision == "bf16")
    for (Step& step : steps_)
      if ((step.info.op_type == "Conv" || step.info.op_type == "MatMul") && step.info.domain.empty())
        step.info.attrs[kBf16Attr] = Attribute{};
  for (Step& step : steps_) {
    if (!step.kernel->prepare_fn) continue;
    try {
      step.state = step.kernel->prepare_fn(step.info, simd_);
    } catch (const KernelError& e) {
      throw PlanError(node_label(step.info) + ": " + e.what());
    }
  }

  // Free each intermediate after its last reader (outputs and constants are never freed here).
  std::set<int> keep(output_slots_.begin(), output_slots_.end());
  std::vector<int> last_use(num_slots_, -1);
  for (size_t i = 0; i < steps_.size(); ++i) {
    for (int s : steps_[i].inputs)
      if (s >= 0) last_use[s] = static_cast<int>(i);
    for (int s : steps_[i].outputs)
      if (s >= 0 && last_use[s] < static_cast<int>(i)) last_use[s] = static_cast<int>(i);
  }
  for (int s = 0; s < num_slots_; ++s)
    if (last_use[s] >= 0 && !keep.count(s) && constants_[s].dtype == DType::none)
      steps_[last_use[s]].release.push_back(s);
}

int Plan::add_constant(Tensor t) {
  t.readonly = true;
  constants_.push_back(std::move(t));
  return num_slots_++;
}

void Plan::set_input(Step& step, size_t i, int slot) {
  step.inputs[i] = slot;
  const Tensor& c = constants_[slot];
  step.info.input_dtypes[i] = c.dtype;
  step.info.input_shapes[i] = c.shape;
  step.info.input_constants[i] = &c;
}

// How many steps read each slot; a plan output counts twice more, so it is never fused away.
int64_t Plan::sole_reader(size_t i, const char* op, const std::vector<int>& readers,
                          const std::vector<bool>& removed) const {
  const Step& st = steps_[i];
  if (st.outputs.size() != 1 || st.outputs[0] < 0 || readers[st.outputs[0]] != 1) return -1;
  for (size_t j = i + 1; j < steps_.size(); ++j) {
    if (removed[j] ||
        std::find(steps_[j].inputs.begin(), steps_[j].inputs.end(), st.outputs[0]) == steps_[j].inputs.end())
      continue;
    return steps_[j].info.op_type == op && steps_[j].info.domain.empty() ? static_cast<int64_t>(j) : -1;
  }
  return -1;
}

int Plan::other_input(const Step& step, int slot) {
  if (step.inputs.size() != 2) return -1;
  if (step.inputs[0] == slot && step.inputs[1] != slot) return 1;
  if (step.inputs[1] == slot && step.inputs[0] != slot) return 0;
  return -1;
}

std::vector<int> Plan::count_readers() const {
  std::vector<int> readers(num_slots_, 0);
  for (const Step& st : steps_)
    for (int s : st.inputs)
      if (s >= 0) ++readers[s];
  for (int s : output_slots_) readers[s] += 2;
  return readers;
}

// Folds an inference BatchNormalization into the Conv before it (constant weights and
// statistics) and a Relu after a Conv into its epilogue, as ONNX Runtime's optimizer does.
// Only single-reader intermediates that are not plan outputs are fused away.
void Plan::fuse_steps() {
  std::vector<int> readers = count_readers();
  std::vector<bool> removed(steps_.size(), false);
  // The step that alone reads step i's only output (as its first input), or null.
  auto first_input_reader = [&](size_t i, const char* op) -> Step* {
    int64_t j = sole_reader(i, op, readers, removed);
    return j >= 0 && steps_[j].inputs[0] == steps_[i].outputs[0] ? &steps_[j] : nullptr;
  };
  // The index of the Add/Sum that alone reads step i's only output, taking one other input.
  auto residual_reader = [&](size_t i) -> int64_t {
    const Step& st = steps_[i];
    if (st.outputs.size() != 1 || st.outputs[0] < 0 || readers[st.outputs[0]] != 1) return -1;
    for (size_t j = i + 1; j < steps_.size(); ++j) {
      const Step& r = steps_[j];
      if (removed[j] || std::find(r.inputs.begin(), r.inputs.end(), st.outputs[0]) == r.inputs.end()) continue;
      bool ok = (r.info.op_type == "Add" || r.info.op_type == "Sum") && r.info.domain.empty() &&
                r.inputs.size() == 2 && r.inputs[0] >= 0 && r.inputs[1] >= 0 && r.inputs[0] != r.inputs[1] &&
                r.outputs.size() == 1;
      return ok ? static_cast<int64_t>(j) : -1;
    }
    return -1;
  };
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& conv = steps_[i];
    if (removed[i] || conv.info.op_type != "Conv" || !conv.info.domain.empty()) continue;
    bool has_residual = conv.inputs.size() > 3;
    const Tensor* W = conv.info.input_constants[1];
    const Tensor* B = conv.info.has_input(2) ? conv.info.input_constants[2] : nullptr;
    Step* bn = has_residual ? nullptr : first_input_reader(i, "BatchNormalization");
    bool foldable = bn && W && W->dtype == DType::f32 && W->rank() >= 3 && (!conv.info.has_input(2) || B);
    for (size_t k = 1; foldable && k < 5; ++k) {
      const Tensor* c = bn->info.input_constants[k];
      foldable = c && c->dtype == DType::f32 && c->numel() == W->dim(0);
    }
    if (foldable) {
      const std::vector<const Tensor*>& p = bn->info.input_constants;
      int64_t M = W->dim(0), per = W->numel() / std::max<int64_t>(M, 1);
      float eps = bn->info.attr_float("epsilon", 1e-5f);
      Tensor w2 = Tensor::empty(DType::f32, W->shape), b2 = Tensor::empty(DType::f32, {M});
      for (int64_t m = 0; m < M; ++m) {
        float scale = p[1]->ptr<float>()[m] / std::sqrt(p[4]->ptr<float>()[m] + eps);
        for (int64_t k = 0; k < per; ++k) w2.ptr<float>()[m * per + k] = W->ptr<float>()[m * per + k] * scale;
        b2.ptr<float>()[m] = ((B ? B->ptr<float>()[m] : 0.0f) - p[3]->ptr<float>()[m]) * scale + p[2]->ptr<float>()[m];
      }
      int w_slot = add_constant(std::move(w2)), b_slot = add_constant(std::move(b2));
      readers.resize(num_slots_, 1);
      if (conv.inputs.size() < 3) {
        conv.inputs.resize(3, -1);
        conv.info.input_dtypes.resize(3, DType::none);
        conv.info.input_shapes.resize(3);
        conv.info.input_constants.resize(3, nullptr);
      }
      set_input(conv, 1, w_slot);
      set_input(conv, 2, b_slot);
      conv.outputs = bn->outputs;
      conv.info.name += "+" + bn->info.name;
      removed[bn - steps_.data()] = true;
    }
    if (Step* relu = first_input_reader(i, "Relu")) {
      Attribute a;
      a.kind = Attribute::kString;
      a.s = "Relu";
      conv.info.attrs[kFusedActivationAttr] = a;
      conv.outputs = relu->outputs;
      conv.info.name += "+" + relu->info.name;
      removed[relu - steps_.data()] = true;
      continue;
    }
    // Conv -> Add(other) [-> Relu]: the Conv starts its GEMM from `other` and takes the Add's
    // place in the sequence (where `other` is ready); the loop then meets it again for a Relu.
    int64_t j = has_residual ? -1 : residual_reader(i);
    if (j >= 0 && conv.info.input_dtypes.size() <= 3) {
      Step& add = steps_[j];
      int other = add.inputs[0] == conv.outputs[0] ? add.inputs[1] : add.inputs[0];
      Step fused = std::move(conv);
      fused.inputs.resize(3, -1);
      fused.info.input_dtypes.resize(3, DType::none);
      fused.info.input_shapes.resize(3);
      fused.info.input_constants.resize(3, nullptr);
      fused.inputs.push_back(other);
      fused.info.input_dtypes.push_back(add.info.input_dtypes[add.inputs[0] == other ? 0 : 1]);
      fused.info.input_shapes.emplace_back(std::nullopt);
      fused.info.input_constants.push_back(constants_[other].dtype == DType::none ? nullptr : &constants_[other]);
      fused.outputs = add.outputs;
      fused.info.name += "+" + add.info.name;
      removed[i] = true;
      add = std::move(fused);
    }
  }
  std::vector<Step> kept;
  for (size_t i = 0; i < steps_.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(steps_[i]));
  steps_ = std::move(kept);
}

std::vector<std::string> Plan::step_names() const {
  std::vector<std::string> names;
  for (const Step& s : steps_) names.push_back(s.info.name + " (" + s.info.op_type + ")");
  return names;
}

int Plan::bf16_steps() const {
  int count = 0;
  for (const Step& s : steps_) count += s.info.has_attr(kBf16Attr) && s.state != nullptr;  // weights packed bf16
  return count;
}

std::vector<Tensor> Plan::run(const std::vector<Tensor>& inputs, const RunControl* control) const {
  if (!control) control = current_run_control();
  ScopedRunControl scope(control);
  if (inputs.size() != input_slots_.size())
    throw InputTypeError("expected " + std::to_string(input_slots_.size()) + " inputs, got " +
                         std::to_string(inputs.size()));
  std::vector<Tensor> values(constants_);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!input_dtypes_.empty() && input_dtypes_[i] != DType::unknown && inputs[i].dtype != input_dtypes_[i])
      throw InputTypeError("input " + std::to_string(i) + " (slot " + std::to_string(input_slots_[i]) +
                           "): expected dtype " + dtype_name(input_dtypes_[i]) + ", got " +
                           dtype_name(inputs[i].dtype));
    values[input_slots_[i]] = inputs[i];
    values[input_slots_[i]].readonly = true;
  }
  std::vector<const Tensor*> in;
  std::vector<Tensor> out;
  for (const Step& step : steps_) {
    in.clear();
    for (size_t j = 0; j < step.inputs.size(); ++j) {
      int s = step.inputs[j];
      if (s < 0) {
        in.push_back(nullptr);
        continue;
      }
      const Tensor& t = values[s];
      if (t.dtype == DType::none)
        throw RunError(node_label(step.info) + ": input slot " + std::to_string(s) + " was never produced");
      if (step.kernel->typed_input == static_cast<int>(j) && step.info.input_dtypes[j] == DType::unknown) {
        bool ok = false;
        for (DType d : step.kernel->dtypes) ok = ok || d == t.dtype;
        if (!ok)
          throw InputTypeError(node_label(step.info) + ": input slot " + std::to_string(s) + " has dtype " +
                               dtype_name(t.dtype) + "; supported: " + dtype_list(step.kernel->dtypes));
      }
      in.push_back(&t);
    }
    out.assign(step.outputs.size(), Tensor());
    if (control) control->check();
    try {
      step.kernel->compute_fn(KernelContext{step.info, step.state.get(), *pool_, simd_}, in, out);
      // A parallel_for stopped mid-way left garbage: never hand it on (an atomic load only).
      if (control && control->stopped()) control->check();
    } catch (const ModelError& e) {
      throw ModelError(node_label(step.info) + ": " + e.what());
    } catch (const KernelError& e) {
      throw RunError(node_label(step.info) + ": " + e.what());
    } catch (const std::bad_alloc&) {
      throw RunError(node_label(step.info) + ": out of memory");
    }
    for (size_t j = 0; j < step.outputs.size(); ++j)
      if (step.outputs[j] >= 0) values[step.outputs[j]] = std::move(out[j]);
    for (int s : step.release) values[s] = Tensor();
  }
  std::vector<Tensor> results;
  results.reserve(output_slots_.size());
  std::vector<const void*> handed;  // few outputs: a vector beats a set (subgraph plans run per iteration)
  for (int s : output_slots_) {
    const Tensor& t = values[s];
    if (t.dtype == DType::none)
      throw RunError("output slot " + std::to_string(s) + " was never produced");
    // Caller inputs, constants and bytes already handed out must not be shared with numpy.
    bool fresh = !t.readonly && t.data == t.storage.get() &&
                 std::find(handed.begin(), handed.end(), t.storage.get()) == handed.end();
    if (fresh) handed.push_back(t.storage.get());
    results.push_back(fresh ? t : t.clone());
  }
  return results;
}

}  // namespace xinrt
