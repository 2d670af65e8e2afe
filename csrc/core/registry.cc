#include "core/registry.h"

#include <sstream>

namespace xinrt {

int64_t NodeInfo::attr_int(const std::string& n, int64_t def) const {
  auto it = attrs.find(n);
  if (it == attrs.end()) return def;
  if (it->second.kind == Attribute::kInt) return it->second.i;
  throw KernelError("attribute '" + n + "' must be an int");
}

float NodeInfo::attr_float(const std::string& n, float def) const {
  auto it = attrs.find(n);
  if (it == attrs.end()) return def;
  if (it->second.kind == Attribute::kFloat) return static_cast<float>(it->second.f);
  if (it->second.kind == Attribute::kInt) return static_cast<float>(it->second.i);
  throw KernelError("attribute '" + n + "' must be a float");
}

std::string NodeInfo::attr_string(const std::string& n, const std::string& def) const {
  auto it = attrs.find(n);
  if (it == attrs.end()) return def;
  if (it->second.kind == Attribute::kString) return it->second.s;
  throw KernelError("attribute '" + n + "' must be a string");
}

std::vector<int64_t> NodeInfo::attr_ints(const std::string& n, const std::vector<int64_t>& def) const {
  auto it = attrs.find(n);
  if (it == attrs.end()) return def;
  if (it->second.kind == Attribute::kInts) return it->second.ints;
  if (it->second.kind == Attribute::kInt) return {it->second.i};
  throw KernelError("attribute '" + n + "' must be a list of ints");
}

int64_t NodeInfo::input_rank(size_t i) const {
  if (i >= input_shapes.size() || !input_shapes[i]) return -1;
  return static_cast<int64_t>(input_shapes[i]->size());
}

const std::vector<Kernel>& all_kernels() {
  static const std::vector<Kernel> kernels = [] {
    std::vector<Kernel> k;
#define XINRT_REGISTER_KERNEL_FAMILY(family) register_##family(k);
    XINRT_KERNEL_FAMILIES(XINRT_REGISTER_KERNEL_FAMILY)
#undef XINRT_REGISTER_KERNEL_FAMILY
    return k;
  }();
  return kernels;
}

const Kernel* find_kernel(const std::string& op_type, const std::string& domain) {
  std::string d = domain == "ai.onnx" ? "" : domain;
  for (const Kernel& k : all_kernels())
    if (k.op_type == op_type && k.domain == d) return &k;
  return nullptr;
}

std::string dtype_list(const std::vector<DType>& dtypes) {
  std::string s;
  for (size_t i = 0; i < dtypes.size(); ++i) s += (i ? ", " : "") + std::string(dtype_name(dtypes[i]));
  return s;
}

std::string require_dtype(const NodeInfo& node, size_t input, const std::vector<DType>& allowed) {
  if (input >= node.input_dtypes.size()) return "";
  DType d = node.input_dtypes[input];
  if (d == DType::none || d == DType::unknown) return "";
  for (DType a : allowed)
    if (a == d) return "";
  std::ostringstream os;
  os << node.op_type << ": dtype " << dtype_name(d) << " of input " << input << " not supported ("
     << dtype_list(allowed) << " only)";
  return os.str();
}

std::string check_node(const NodeInfo& node) {
  const Kernel* k = find_kernel(node.op_type, node.domain);
  if (!k) {
    std::string dom = node.domain.empty() || node.domain == "ai.onnx" ? "" : " (domain " + node.domain + ")";
    return "no native kernel for " + node.op_type + dom;
  }
  if (node.opset < k->since_opset || node.opset > k->max_opset) {
    std::ostringstream os;
    os << node.op_type << ": opset " << node.opset << " not supported (opsets " << k->since_opset
       << "-" << k->max_opset << " only)";
    return os.str();
  }
  if (k->typed_input >= 0) {
    std::string r = require_dtype(node, static_cast<size_t>(k->typed_input), k->dtypes);
    if (!r.empty()) return r;
  }
  try {
    return k->check_fn ? k->check_fn(node) : "";
  } catch (const KernelError& e) {  // malformed attribute
    return node.op_type + ": " + e.what();
  }
}

std::vector<DType> infer_output_dtypes(const Kernel& kernel, const NodeInfo& node) {
  if (kernel.output_dtypes_fn) return kernel.output_dtypes_fn(node);
  DType d = kernel.typed_input >= 0 && static_cast<size_t>(kernel.typed_input) < node.input_dtypes.size()
                ? node.input_dtypes[kernel.typed_input]
                : DType::unknown;
  return std::vector<DType>(node.num_outputs, d);
}

}  // namespace xinrt
