// The Plan: a checked, topologically ordered kernel sequence run entirely in C++.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/run_control.h"
#include "core/thread_pool.h"

namespace xinrt {

// A node the caller can never run here (unsupported op/dtype/attribute): maps to ValueError.
struct PlanError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// An input of the wrong dtype: maps to TypeError.
struct InputTypeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// A failure while running a node (shapes that cannot broadcast...): maps to ValueError.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NodeSpec {
  std::string op_type, domain;
  int opset = 0;
  std::vector<int> inputs, outputs;  // slots; -1 = absent
  Attributes attrs;
  std::string name;
};

class Plan {
 public:
  // input_dtypes (in input_slots order) may be empty: graph input dtypes are then learned per run
  // (as for any entry that is DType::unknown). precision "bf16" runs the kernels that have a bf16
  // path (kBf16Attr) in bf16 with fp32 sums; it needs a CPU with AVX512_BF16 (PlanError if not).
  Plan(std::vector<NodeSpec> nodes, int num_slots, std::vector<int> input_slots,
       std::vector<int> output_slots, std::map<int, Tensor> constants, int num_threads,
       std::vector<DType> input_dtypes, const std::string& precision = "fp32");

  // Inputs are read-only views in input_slots order. Thread-safe: all run state is per call.
  // `control` is polled between steps (RunCancelled when stopped); null: the control of the run
  // this thread is already in (a subgraph plan), if any.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const RunControl* control = nullptr) const;
  int num_threads() const { return pool_->num_threads(); }
  size_t num_inputs() const { return input_slots_.size(); }
  size_t num_outputs() const { return output_slots_.size(); }
  // Output dtypes known at plan build (DType::unknown where they depend on run-time inputs).
  const std::vector<DType>& output_dtypes() const { return output_dtypes_; }
  // "name (op_type)" of each kernel run() executes, after constant folding and fusion
  // (a fused step's name joins its nodes' names with '+').
  std::vector<std::string> step_names() const;
  // How many steps compute in bf16 (precision "bf16": Conv and MatMul with constant weights).
  int bf16_steps() const;

 private:
  friend class QdqFusion;  // plan_qdq_fusion.cc: the QDQ fusion pass and its matchers
  struct Step {
    NodeInfo info;
    const Kernel* kernel;
    std::vector<int> inputs, outputs;
    std::vector<int> release;  // slots whose last use is this step
    std::shared_ptr<void> state;
  };
  std::string node_label(const NodeInfo& info) const;
  int add_constant(Tensor t);  // a new constant slot
  void set_input(Step& step, size_t i, int constant_slot);
  std::vector<int> count_readers() const;  // per slot; plan outputs count as extra readers
  // For the fusion passes: the index of the step after `i` reading step i's single output when
  // it is that output's only reader (readers from count_readers()) and an ai.onnx `op`; steps
  // marked in `removed` are skipped. Else -1.
  int64_t sole_reader(size_t i, const char* op, const std::vector<int>& readers,
                      const std::vector<bool>& removed) const;
  // Input index of a binary `step` other than the one reading `slot`, or -1.
  static int other_input(const Step& step, int slot);
  void fuse_steps();
  void fuse_transformer_steps();  // plan_fusion.cc
  void fuse_quant_steps();  // plan_quant_fusion.cc
  void fuse_qdq_steps();  // plan_qdq_fusion.cc
  void choose_nhwc_layouts();  // plan_qdq_fusion.cc

  int num_slots_;
  std::vector<int> input_slots_, output_slots_;
  std::vector<DType> input_dtypes_, output_dtypes_;
  std::vector<Tensor> constants_;  // indexed by slot; empty dtype none where not constant
  std::vector<Step> steps_;
  std::shared_ptr<ThreadPool> pool_;
  int simd_;
};

}  // namespace xinrt
