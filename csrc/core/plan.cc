#include "core/plan.h"

#include <set>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "core/cpu_features.h"

namespace xinrt {
static int64_t ctx_group(const NodeInfo& n) { return n.attr_int("group", 1); }

std::string Plan::node_label(const NodeInfo& info) const {
  return "node '" + info.name + "' (" + info.op_type + ")";
}

Plan::Plan(std::vector<NodeSpec> nodes, int num_slots, std::vector<int> input_slots,
           std::vector<int> output_slots, std::map<int, Tensor> constants, int num_threads,
           std::vector<DType> input_dtypes)
    : num_slots_(num_slots),
      input_slots_(std::move(input_slots)),
      output_slots_(std::move(output_slots)),
      input_dtypes_(std::move(input_dtypes)),
      constants_(num_slots),
      pool_(new ThreadPool(num_threads)),
      simd_(simd_level()) {
  auto check_slot = [&](int s, const std::string& what) {
    if (s < 0 || s >= num_slots_)
      throw PlanError(what + " slot " + std::to_string(s) + " out of range [0, " +
                      std::to_string(num_slots_) + ")");
  };
  if (!input_dtypes_.empty() && input_dtypes_.size() != input_slots_.size())
    throw PlanError("input_dtypes has " + std::to_string(input_dtypes_.size()) + " entries, expected " +
                    std::to_string(input_slots_.size()));
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
    bool all_constant = true;
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
    if (all_constant && !spec.inputs.empty()) {
      // Fold at plan time (e.g. ConstantOfShape weights) so later kernels can pre-pack them.
      std::vector<const Tensor*> in(info.input_constants);
      std::vector<Tensor> out(spec.outputs.size());
      try {
        step.kernel->compute(KernelContext{info, nullptr, *pool_, simd_}, in, out);
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
    if (step.kernel->prepare) {
      try {
        step.state = step.kernel->prepare(info, simd_);
      } catch (const KernelError& e) {
        throw PlanError(node_label(info) + ": " + e.what());
      }
    }
    steps_.push_back(std::move(step));
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

std::vector<Tensor> Plan::run(const std::vector<Tensor>& inputs) const {
  if (inputs.size() != input_slots_.size())
    throw InputTypeError("expected " + std::to_string(input_slots_.size()) + " inputs, got " +
                         std::to_string(inputs.size()));
  std::vector<Tensor> values(constants_);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!input_dtypes_.empty() && inputs[i].dtype != input_dtypes_[i])
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
    static bool prof = std::getenv("XINRT_PROFILE_TMP") != nullptr;
    auto t0 = std::chrono::steady_clock::now();
    struct P { ~P() { if (prof) for (auto& kv : m) std::fprintf(stderr, "%-20s %8.2f ms\n", kv.first.c_str(), kv.second); } std::map<std::string,double> m; };
    static P profile;
    try {
      step.kernel->compute(KernelContext{step.info, step.state.get(), *pool_, simd_}, in, out);
    } catch (const KernelError& e) {
      throw RunError(node_label(step.info) + ": " + e.what());
    } catch (const std::bad_alloc&) {
      throw RunError(node_label(step.info) + ": out of memory");
    }
    if (prof) { std::string key = step.info.op_type; if (key == "Conv") { const Tensor* w = in[1]; key += w->dim(2) == 1 ? "1x1" : "kxk"; if (w->dim(1) == 1) key += "dw"; else if (ctx_group(step.info) > 1) key += "grp"; } profile.m[key] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(); }
    for (size_t j = 0; j < step.outputs.size(); ++j)
      if (step.outputs[j] >= 0) values[step.outputs[j]] = std::move(out[j]);
    for (int s : step.release) values[s] = Tensor();
  }
  std::vector<Tensor> results;
  std::set<const void*> handed;
  for (int s : output_slots_) {
    const Tensor& t = values[s];
    if (t.dtype == DType::none)
      throw RunError("output slot " + std::to_string(s) + " was never produced");
    // Caller inputs, constants and bytes already handed out must not be shared with numpy.
    bool fresh = !t.readonly && t.data == t.storage.get() && handed.insert(t.storage.get()).second;
    results.push_back(fresh ? t : t.clone());
  }
  return results;
}

}  // namespace xinrt
