// The kernel registry: the one list of native ops, their constraints and compute functions.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/kernel_families.h"
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

// Attribute the Plan sets on the steps whose kernels have a bf16 path (Conv, MatMul; used where
// the weights are constant) when it is built at precision bf16 on a CPU with AVX512_BF16
// (kernels/sbgemm.h).
constexpr const char* kBf16Attr = "__xinrt_bf16";

// Attribute the Plan sets on a Conv whose weights it folded from a DequantizeLinear: the float
// Conv ORT leaves unfused in a QDQ model, whose sums must round as MLAS's SGEMM does (sgemm.h),
// so it keeps the GEMM path (no Winograd).
constexpr const char* kDequantizedWeightsAttr = "__xinrt_dequantized_weights";

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

// `typed_input` value meaning: the kernel's check handles every input's dtype itself (the dtype
// list then only feeds registered_ops()).
constexpr int kDTypesInCheck = -1;

// One registered kernel, declared with a small builder in its family's register_<family>():
//   k.push_back(Kernel("Conv").opsets(1, kMaxOpset).types({DType::f32}).check(check_conv)
//               .compute(compute_conv).prepare(prepare_conv));
struct Kernel {
  std::string op_type;
  std::string domain;  // "" = ai.onnx
  int since_opset = 1;
  int max_opset = 0;  // newest opset whose semantics were checked
  std::vector<DType> dtypes;  // supported dtypes of the input `typed_input` (for registered_ops)
  int typed_input = 0;        // kDTypesInCheck: the kernel's check handles dtypes itself
  CheckFn check_fn = nullptr;    // extra constraints (attributes, other inputs); may be null
  OutputDTypesFn output_dtypes_fn = nullptr;  // null: every output has the typed input's dtype
  ComputeFn compute_fn = nullptr;
  PrepareFn prepare_fn = nullptr;  // optional plan-time work on constant inputs

  explicit Kernel(std::string op, std::string op_domain = "")
      : op_type(std::move(op)), domain(std::move(op_domain)) {}
  Kernel& opsets(int since, int newest) {
    since_opset = since;
    max_opset = newest;
    return *this;
  }
  Kernel& types(std::vector<DType> supported, int input = 0) {
    dtypes = std::move(supported);
    typed_input = input;
    return *this;
  }
  Kernel& check(CheckFn f) { check_fn = f; return *this; }
  Kernel& outputs(OutputDTypesFn f) { output_dtypes_fn = f; return *this; }
  Kernel& compute(ComputeFn f) { compute_fn = f; return *this; }
  Kernel& prepare(PrepareFn f) { prepare_fn = f; return *this; }
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

// Registration: one function per kernel family, register_<family>(), declared from the one list.
#define XINRT_DECLARE_KERNEL_FAMILY(family) void register_##family(std::vector<Kernel>& out);
XINRT_KERNEL_FAMILIES(XINRT_DECLARE_KERNEL_FAMILY)
#undef XINRT_DECLARE_KERNEL_FAMILY

}  // namespace xinrt
