// The kernel registry: the one list of native ops, their constraints and compute functions.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace xinrt {

class Plan;

struct Attribute {
  enum Kind { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor, kGraph } kind = kInt;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  Tensor t;
  // kGraph: a subgraph (If branch, Loop/Scan body) compiled into its own Plan, whose inputs are
  // the subgraph's formal inputs followed by the node's outer-scope inputs (kOuterInputsAttr).
  std::shared_ptr<const Plan> graph;
};
using Attributes = std::map<std::string, Attribute>;

// What is known about a node before it runs. Dtypes may be DType::unknown and shapes nullopt
// (or hold -1 dims); checks then decide on what is known and kernels re-check at run time.
struct NodeInfo {
  std::string op_type, domain, name;
  int opset = 0;
  std::vector<DType> input_dtypes;  // DType::none = absent optional input
  std::vector<std::optional<Shape>> input_shapes;
  std::vector<const Tensor*> input_constants;  // non-null where the input is a plan constant
  Attributes attrs;
  int num_outputs = 1;

  bool has_input(size_t i) const { return i < input_dtypes.size() && input_dtypes[i] != DType::none; }
  bool has_attr(const std::string& n) const { return attrs.count(n) != 0; }
  int64_t attr_int(const std::string& n, int64_t def) const;
  float attr_float(const std::string& n, float def) const;
  std::string attr_string(const std::string& n, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& n, const std::vector<int64_t>& def = {}) const;
  // Known rank of input i, or -1.
  int64_t input_rank(size_t i) const;
};

// Attribute the Plan sets on a Conv whose following Relu it fused (value "Relu").
constexpr const char* kFusedActivationAttr = "__xinrt_fused_activation";
// Attribute the QDQ fusion sets on int8 steps that keep tensors NHWC ([N, H, W, C]) between them:
// bit 0 = input 0 is NHWC, bit 1 = the output is, bit 2 = QLinearAdd's second operand is.
constexpr const char* kNhwcAttr = "__xinrt_nhwc";
// Attribute the Plan sets on a MatMul whose bias Add it fused (the bias is then input 2).
constexpr const char* kFusedBiasAttr = "__xinrt_fused_bias";

// Int attribute on a node with subgraphs: how many of its inputs (the last ones) are outer-scope
// values its subgraphs read; every subgraph plan takes them after its formal inputs.
constexpr const char* kOuterInputsAttr = "__xinrt_outer_inputs";

struct KernelContext {
  const NodeInfo& node;
  const void* state;  // what the kernel's prepare() returned (pre-packed weights ...), or null
  ThreadPool& pool;
  int simd;  // SimdLevel the plan was built for (cpu_features.h)
};

using CheckFn = std::string (*)(const NodeInfo&);
// Plan-time work on constant inputs (pre-packed weights for the plan's SimdLevel).
using PrepareFn = std::shared_ptr<void> (*)(const NodeInfo&, int simd);
// Output dtypes from input dtypes (some may be unknown).
using OutputDTypesFn = std::vector<DType> (*)(const NodeInfo&);
// Computes outputs from inputs (absent optional inputs are null); allocates the outputs itself.
using ComputeFn = void (*)(const KernelContext&, const std::vector<const Tensor*>&, std::vector<Tensor>&);

struct Kernel {
  std::string op_type;
  std::string domain;  // "" = ai.onnx
  int since_opset = 1;
  int max_opset = 0;  // newest opset whose semantics were checked
  std::vector<DType> dtypes;  // supported dtypes of the input `typed_input` (for registered_ops)
  int typed_input = 0;        // -1: the kernel's check handles dtypes itself
  CheckFn check = nullptr;    // extra constraints (attributes, other inputs); may be null
  OutputDTypesFn output_dtypes = nullptr;  // null: every output has the typed input's dtype
  ComputeFn compute = nullptr;
  PrepareFn prepare = nullptr;  // optional plan-time work on constant inputs
};

// Newest ai.onnx opset whose op versions were checked against these kernels (onnx 1.23).
constexpr int kMaxOpset = 28;

const std::vector<Kernel>& all_kernels();
const Kernel* find_kernel(const std::string& op_type, const std::string& domain);
// "" when a registered kernel computes this node exactly as the ONNX spec does; else a reason.
std::string check_node(const NodeInfo& node);
std::vector<DType> infer_output_dtypes(const Kernel& kernel, const NodeInfo& node);

// Helpers kernels use in their checks.
std::string dtype_list(const std::vector<DType>& dtypes);
std::string require_dtype(const NodeInfo& node, size_t input, const std::vector<DType>& allowed);

// Registration, one function per kernel file (called in registry.cc's one list).
void register_elementwise(std::vector<Kernel>& out);
void register_matmul(std::vector<Kernel>& out);
void register_softmax(std::vector<Kernel>& out);
void register_gemm(std::vector<Kernel>& out);
void register_conv(std::vector<Kernel>& out);
void register_pool(std::vector<Kernel>& out);
void register_norm(std::vector<Kernel>& out);
void register_shape_ops(std::vector<Kernel>& out);
void register_compare(std::vector<Kernel>& out);
void register_cast(std::vector<Kernel>& out);
void register_reduce(std::vector<Kernel>& out);
void register_indexing(std::vector<Kernel>& out);
void register_pad_resize(std::vector<Kernel>& out);
void register_conv_transpose(std::vector<Kernel>& out);
void register_control_flow(std::vector<Kernel>& out);
void register_quantize(std::vector<Kernel>& out);
void register_qmatmul(std::vector<Kernel>& out);
void register_recurrent(std::vector<Kernel>& out);
void register_qconv(std::vector<Kernel>& out);
void register_unary(std::vector<Kernel>& out);
void register_logical(std::vector<Kernel>& out);
void register_minmax_mod(std::vector<Kernel>& out);
void register_reduce_ops(std::vector<Kernel>& out);
void register_sequence_ops(std::vector<Kernel>& out);
void register_topk(std::vector<Kernel>& out);
void register_gather_scatter(std::vector<Kernel>& out);
void register_einsum(std::vector<Kernel>& out);
void register_layout_ops(std::vector<Kernel>& out);
void register_softmax_variants(std::vector<Kernel>& out);
void register_norm_extra(std::vector<Kernel>& out);
void register_detection(std::vector<Kernel>& out);
void register_select_ops(std::vector<Kernel>& out);
void register_dynamic_quantize_lstm(std::vector<Kernel>& out);
void register_ml(std::vector<Kernel>& out);  // ai.onnx.ml (ml_linear.cc, ml_tree.cc)

}  // namespace xinrt
