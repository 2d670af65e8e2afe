// If, Loop and Scan. Each subgraph arrives compiled into its own Plan (a kGraph attribute the
// Python side builds) and runs per branch or iteration on the parent's shared thread pool, so
// no Python runs inside the loop. The node's inputs are its ONNX inputs followed by the
// outer-scope values its subgraphs read (kOuterInputsAttr counts them); every subgraph plan
// takes its formal inputs followed by those same values (constants are baked into the plans).
#include <algorithm>
#include <cstring>
#include <limits>

#include "core/plan.h"

namespace xinrt {
namespace {

const Plan* graph_attr(const NodeInfo& node, const char* name) {
  auto it = node.attrs.find(name);
  return it == node.attrs.end() || it->second.kind != Attribute::kGraph ? nullptr : it->second.graph.get();
}

size_t outer_inputs(const NodeInfo& node) {
  int64_t n = node.attr_int(kOuterInputsAttr, 0);
  if (n < 0 || static_cast<size_t>(n) > node.input_dtypes.size())
    throw KernelError(std::string(kOuterInputsAttr) + " = " + std::to_string(n) + " out of range");
  return static_cast<size_t>(n);
}

// The node's own ONNX inputs (without the outer-scope ones).
size_t own_inputs(const NodeInfo& node) { return node.input_dtypes.size() - outer_inputs(node); }

// "" when subgraph `g` takes `formals` formal inputs and gives `outputs` outputs.
std::string check_graph(const NodeInfo& node, const char* name, size_t formals, size_t outputs) {
  const Plan* g = graph_attr(node, name);
  if (!g) return "";  // capability time: the Python side checks the subgraph's nodes
  std::string where = node.op_type + ": " + name;
  if (g->num_inputs() != formals + outer_inputs(node))
    return where + " takes " + std::to_string(g->num_inputs() - outer_inputs(node)) +
           " formal inputs, expected " + std::to_string(formals);
  if (g->num_outputs() != outputs)
    return where + " has " + std::to_string(g->num_outputs()) + " outputs, expected " + std::to_string(outputs);
  return "";
}

std::string check_scalar_input(const NodeInfo& node, size_t i, DType dtype, const char* what) {
  std::string r = require_dtype(node, i, {dtype});
  if (!r.empty()) return r;
  const std::optional<Shape>& shape = node.input_shapes.size() > i ? node.input_shapes[i] : std::nullopt;
  bool known = shape && std::all_of(shape->begin(), shape->end(), [](int64_t d) { return d >= 0; });
  if (known && known_numel(*shape) != 1)
    return node.op_type + ": " + what + " must hold one element, got shape " + shape_str(*node.input_shapes[i]);
  return "";
}

bool read_bool(const Tensor* t, const char* what) {
  if (t->dtype != DType::boolean || t->numel() != 1)
    throw KernelError(std::string(what) + ": expected a one-element bool tensor, got " + dtype_name(t->dtype) +
                      " " + shape_str(t->shape));
  return *t->ptr<uint8_t>() != 0;
}

// Runs subgraph `g` on `formals` followed by the node's outer-scope inputs.
std::vector<Tensor> run_graph(const NodeInfo& node, const char* name, const Plan& g, std::vector<Tensor> formals,
                              const std::vector<const Tensor*>& in) {
  size_t own = own_inputs(node);
  formals.reserve(formals.size() + in.size() - own);
  for (size_t i = own; i < in.size(); ++i) formals.push_back(*in[i]);
  try {
    return g.run(formals);  // polls the run's control (current_run_control()) between steps
  } catch (const RunCancelled&) {
    throw;
  } catch (const ModelError& e) {
    throw ModelError(std::string(name) + ": " + e.what());
  } catch (const std::exception& e) {  // the inner plan names the inner node
    throw KernelError(std::string(name) + ": " + e.what());
  }
}

Tensor scalar_tensor_i64(int64_t v) {
  Tensor t = Tensor::empty(DType::i64, {});
  *t.ptr<int64_t>() = v;
  return t;
}

Tensor scalar_tensor_bool(bool v) {
  Tensor t = Tensor::empty(DType::boolean, {});
  *t.ptr<uint8_t>() = v ? 1 : 0;
  return t;
}

// Slice `idx` of x along `axis` (that axis removed): a view when it is contiguous, else a copy.
Tensor slice_along(const Tensor& x, int64_t axis, int64_t idx) {
  Shape shape = x.shape;
  shape.erase(shape.begin() + axis);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  size_t inner = static_cast<size_t>(shape_numel(Shape(x.shape.begin() + axis + 1, x.shape.end()))) *
                 dtype_size(x.dtype);
  const char* src = static_cast<const char*>(x.data) + static_cast<size_t>(idx) * inner;
  if (outer == 1) {
    Tensor v = x;
    v.shape = shape;
    v.data = const_cast<char*>(src);
    v.readonly = true;
    return v;
  }
  Tensor t = Tensor::empty(x.dtype, shape);
  size_t stride = inner * static_cast<size_t>(x.shape[axis]);
  for (int64_t o = 0; o < outer; ++o)
    if (inner) std::memcpy(t.ptr<char>() + o * inner, src + o * stride, inner);
  return t;
}

// Stacks per-iteration values along a new `axis`; iteration t lands at position t, or
// count-1-t when `reverse`.
Tensor stack_along(const std::vector<Tensor>& parts, int64_t axis, bool reverse, const char* what) {
  const Tensor& first = parts[0];
  for (const Tensor& p : parts)
    if (p.dtype != first.dtype || p.shape != first.shape)
      throw KernelError(std::string(what) + ": iterations gave different shapes or dtypes (" +
                        dtype_name(first.dtype) + " " + shape_str(first.shape) + " vs " + dtype_name(p.dtype) +
                        " " + shape_str(p.shape) + ")");
  int64_t rank = first.rank() + 1;
  if (axis < -rank || axis >= rank)
    throw KernelError(std::string(what) + ": axis " + std::to_string(axis) + " out of range for rank " +
                      std::to_string(rank));
  if (axis < 0) axis += rank;
  int64_t count = static_cast<int64_t>(parts.size());
  Shape shape = first.shape;
  shape.insert(shape.begin() + axis, count);
  Tensor out = Tensor::empty(first.dtype, shape);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= first.shape[d];
  size_t inner = outer ? first.nbytes() / static_cast<size_t>(outer) : 0;
  for (int64_t t = 0; t < count; ++t) {
    int64_t pos = reverse ? count - 1 - t : t;
    for (int64_t o = 0; o < outer; ++o)
      if (inner) std::memcpy(out.ptr<char>() + (o * count + pos) * inner, parts[t].ptr<char>() + o * inner, inner);
  }
  return out;
}

// ---- If ----

std::string check_if(const NodeInfo& n) {
  if (own_inputs(n) != 1) return "If: expected 1 input (cond), got " + std::to_string(own_inputs(n));
  std::string r = check_scalar_input(n, 0, DType::boolean, "cond");
  if (r.empty()) r = check_graph(n, "then_branch", 0, static_cast<size_t>(n.num_outputs));
  if (r.empty()) r = check_graph(n, "else_branch", 0, static_cast<size_t>(n.num_outputs));
  return r;
}

std::vector<DType> if_dtypes(const NodeInfo& n) {
  std::vector<DType> d(n.num_outputs, DType::unknown);
  const Plan* branches[] = {graph_attr(n, "then_branch"), graph_attr(n, "else_branch")};
  for (const Plan* g : branches)
    for (size_t i = 0; g && i < d.size() && i < g->output_dtypes().size(); ++i)
      if (d[i] == DType::unknown) d[i] = g->output_dtypes()[i];
  return d;
}

void compute_if(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  bool cond = read_bool(in[0], "If cond");
  const char* name = cond ? "then_branch" : "else_branch";
  const Plan* g = graph_attr(ctx.node, name);
  if (!g) throw KernelError(std::string("If: ") + name + " was not compiled");
  std::vector<Tensor> results = run_graph(ctx.node, name, *g, {}, in);
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::move(results[i]);
}

// ---- Loop ----

constexpr const char* kScanShapesAttr = "__xinrt_scan_output_shapes";

std::string check_loop(const NodeInfo& n) {
  size_t own = own_inputs(n);
  if (own < 2) return "Loop: expected at least 2 inputs (M, cond), got " + std::to_string(own);
  std::string r = check_scalar_input(n, 0, DType::i64, "M");
  if (r.empty()) r = check_scalar_input(n, 1, DType::boolean, "cond");
  if (!r.empty()) return r;
  size_t carried = own - 2;
  for (size_t i = 2; i < own; ++i)
    if (!n.has_input(i)) return "Loop: absent loop-carried input " + std::to_string(i) + " not supported";
  if (static_cast<size_t>(n.num_outputs) < carried)
    return "Loop: " + std::to_string(n.num_outputs) + " outputs for " + std::to_string(carried) +
           " loop-carried values";
  r = check_graph(n, "body", 2 + carried, 1 + static_cast<size_t>(n.num_outputs));
  if (!r.empty()) return r;
  // Zero iterations still give each scan output a dtype: the body must tell it at plan time.
  if (const Plan* body = graph_attr(n, "body"))
    for (size_t k = 1 + carried; k < body->output_dtypes().size(); ++k)
      if (body->output_dtypes()[k] == DType::unknown)
        return "Loop: dtype of scan output " + std::to_string(k - 1 - carried) + " unknown at plan time";
  return "";
}

std::vector<DType> loop_dtypes(const NodeInfo& n) {
  std::vector<DType> d(n.num_outputs, DType::unknown);
  const Plan* body = graph_attr(n, "body");
  size_t carried = own_inputs(n) - 2;
  for (size_t i = 0; i < d.size(); ++i) {
    if (body && i + 1 < body->output_dtypes().size()) d[i] = body->output_dtypes()[i + 1];
    if (d[i] == DType::unknown && i < carried) d[i] = n.input_dtypes[2 + i];
  }
  return d;
}

// ONNX Runtime's behaviour, which the tests check: the body's cond output ends the loop even
// when the node's cond input is absent (the spec's pseudo-code calls it ignored there).
void compute_loop(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const NodeInfo& n = ctx.node;
  const Plan* body = graph_attr(n, "body");
  if (!body) throw KernelError("Loop: body was not compiled");
  size_t carried = own_inputs(n) - 2, scans = out.size() - carried;
  int64_t max_trips = std::numeric_limits<int64_t>::max();
  if (in[0]) {
    if (in[0]->dtype != DType::i64 || in[0]->numel() != 1)
      throw KernelError("Loop M: expected a one-element int64 tensor, got " + std::string(dtype_name(in[0]->dtype)) +
                        " " + shape_str(in[0]->shape));
    max_trips = *in[0]->ptr<int64_t>();
  }
  bool cond = in[1] ? read_bool(in[1], "Loop cond") : true;
  std::vector<Tensor> state;
  for (size_t i = 0; i < carried; ++i) state.push_back(*in[2 + i]);
  std::vector<std::vector<Tensor>> per_iteration(scans);
  // One iteration-number and one cond tensor, rewritten per iteration: the body's plan sees them
  // read-only and clones any output that aliases them, so no result keeps them.
  Tensor trip_tensor = scalar_tensor_i64(0), cond_tensor = scalar_tensor_bool(true);
  int64_t trip = 0;
  const RunControl* control = current_run_control();
  for (; trip < max_trips && cond; ++trip) {
    if (control) control->check();  // even a body with no steps (Identity only) stops
    *trip_tensor.ptr<int64_t>() = trip;
    *cond_tensor.ptr<uint8_t>() = cond ? 1 : 0;
    std::vector<Tensor> formals;
    formals.reserve(in.size());
    formals.push_back(trip_tensor);
    formals.push_back(cond_tensor);
    formals.insert(formals.end(), state.begin(), state.end());
    std::vector<Tensor> results = run_graph(n, "body", *body, std::move(formals), in);
    cond = read_bool(&results[0], "Loop body cond output");
    for (size_t i = 0; i < carried; ++i) state[i] = std::move(results[1 + i]);
    for (size_t k = 0; k < scans; ++k) per_iteration[k].push_back(std::move(results[1 + carried + k]));
  }
  for (size_t i = 0; i < carried; ++i) out[i] = std::move(state[i]);
  // With no iteration, a scan output is empty: [0] + the body's static output shape where the
  // Python side passed one (rank then value dims, -1 rank when unknown), else [0] (as ORT does).
  std::vector<int64_t> empty_shapes = n.attr_ints(kScanShapesAttr);
  size_t pos = 0;
  for (size_t k = 0; k < scans; ++k) {
    Shape empty{0};
    if (pos < empty_shapes.size()) {
      int64_t rank = empty_shapes[pos++];
      for (int64_t d = 0; d < rank && pos < empty_shapes.size(); ++d) empty.push_back(empty_shapes[pos++]);
    }
    out[carried + k] = trip == 0 ? Tensor::empty(body->output_dtypes()[1 + carried + k], empty)
                                 : stack_along(per_iteration[k], 0, false, "Loop scan output");
  }
}

// ---- Scan (opset 9+: no batch axis) ----

struct ScanAttrs {
  int64_t scan_inputs;
  std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
};

ScanAttrs scan_attrs(const NodeInfo& n, size_t states) {
  ScanAttrs a;
  a.scan_inputs = n.attr_int("num_scan_inputs", -1);
  size_t m = a.scan_inputs > 0 ? static_cast<size_t>(a.scan_inputs) : 0;
  size_t k = static_cast<size_t>(n.num_outputs) > states ? n.num_outputs - states : 0;
  a.in_axes = n.attr_ints("scan_input_axes", std::vector<int64_t>(m, 0));
  a.in_dirs = n.attr_ints("scan_input_directions", std::vector<int64_t>(m, 0));
  a.out_axes = n.attr_ints("scan_output_axes", std::vector<int64_t>(k, 0));
  a.out_dirs = n.attr_ints("scan_output_directions", std::vector<int64_t>(k, 0));
  return a;
}

std::string check_scan(const NodeInfo& n) {
  size_t own = own_inputs(n);
  int64_t m = n.attr_int("num_scan_inputs", -1);
  if (m < 1 || static_cast<size_t>(m) > own)
    return "Scan: num_scan_inputs " + std::to_string(m) + " not in [1, " + std::to_string(own) + "]";
  size_t states = own - static_cast<size_t>(m);
  if (static_cast<size_t>(n.num_outputs) < states)
    return "Scan: " + std::to_string(n.num_outputs) + " outputs for " + std::to_string(states) + " state values";
  for (size_t i = 0; i < own; ++i)
    if (!n.has_input(i)) return "Scan: absent input " + std::to_string(i) + " not supported";
  ScanAttrs a = scan_attrs(n, states);
  size_t k = n.num_outputs - states;
  if (a.in_axes.size() != static_cast<size_t>(m) || a.in_dirs.size() != static_cast<size_t>(m))
    return "Scan: scan_input_axes/directions must have num_scan_inputs entries";
  if (a.out_axes.size() != k || a.out_dirs.size() != k)
    return "Scan: scan_output_axes/directions must have one entry per scan output";
  for (const auto* dirs : {&a.in_dirs, &a.out_dirs})
    for (int64_t d : *dirs)
      if (d != 0 && d != 1) return "Scan: direction " + std::to_string(d) + " is not 0 or 1";
  if (n.opset < 11)  // negative axes came with opset 11
    for (const auto* axes : {&a.in_axes, &a.out_axes})
      for (int64_t ax : *axes)
        if (ax < 0) return "Scan: negative axis " + std::to_string(ax) + " needs opset 11";
  for (size_t j = 0; j < static_cast<size_t>(m); ++j) {
    int64_t rank = n.input_rank(states + j);
    if (rank >= 0 && (a.in_axes[j] < -rank || a.in_axes[j] >= rank))
      return "Scan: scan_input_axes[" + std::to_string(j) + "] = " + std::to_string(a.in_axes[j]) +
             " out of range for rank " + std::to_string(rank);
  }
  return check_graph(n, "body", own, static_cast<size_t>(n.num_outputs));
}

std::vector<DType> scan_dtypes(const NodeInfo& n) {
  std::vector<DType> d(n.num_outputs, DType::unknown);
  const Plan* body = graph_attr(n, "body");
  size_t states = own_inputs(n) - static_cast<size_t>(n.attr_int("num_scan_inputs", 0));
  for (size_t i = 0; i < d.size(); ++i) {
    if (body && i < body->output_dtypes().size()) d[i] = body->output_dtypes()[i];
    if (d[i] == DType::unknown && i < states) d[i] = n.input_dtypes[i];
  }
  return d;
}

void compute_scan(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const NodeInfo& n = ctx.node;
  const Plan* body = graph_attr(n, "body");
  if (!body) throw KernelError("Scan: body was not compiled");
  size_t m = static_cast<size_t>(n.attr_int("num_scan_inputs", 0));
  size_t states = own_inputs(n) - m, scans = out.size() - states;
  ScanAttrs a = scan_attrs(n, states);
  int64_t length = -1;
  std::vector<int64_t> axes(m);
  for (size_t j = 0; j < m; ++j) {
    const Tensor& x = *in[states + j];
    int64_t ax = a.in_axes[j] < 0 ? a.in_axes[j] + x.rank() : a.in_axes[j];
    if (ax < 0 || ax >= x.rank())
      throw KernelError("Scan: scan_input_axes[" + std::to_string(j) + "] = " + std::to_string(a.in_axes[j]) +
                        " out of range for input shape " + shape_str(x.shape));
    axes[j] = ax;
    if (length >= 0 && x.shape[ax] != length)
      throw KernelError("Scan: scan inputs have different sequence lengths (" + std::to_string(length) + " vs " +
                        std::to_string(x.shape[ax]) + ")");
    length = x.shape[ax];
  }
  if (length == 0) throw KernelError("Scan: sequence length 0 (ONNX Runtime rejects it too)");
  std::vector<Tensor> state;
  for (size_t i = 0; i < states; ++i) state.push_back(*in[i]);
  std::vector<std::vector<Tensor>> per_iteration(scans);
  const RunControl* control = current_run_control();
  for (int64_t t = 0; t < length; ++t) {
    if (control) control->check();
    std::vector<Tensor> formals;
    formals.reserve(in.size());
    formals.insert(formals.end(), state.begin(), state.end());
    for (size_t j = 0; j < m; ++j)
      formals.push_back(slice_along(*in[states + j], axes[j], a.in_dirs[j] ? length - 1 - t : t));
    std::vector<Tensor> results = run_graph(n, "body", *body, std::move(formals), in);
    for (size_t i = 0; i < states; ++i) state[i] = std::move(results[i]);
    for (size_t k = 0; k < scans; ++k) per_iteration[k].push_back(std::move(results[states + k]));
  }
  for (size_t i = 0; i < states; ++i) out[i] = std::move(state[i]);
  for (size_t k = 0; k < scans; ++k)
    out[states + k] = stack_along(per_iteration[k], a.out_axes[k], a.out_dirs[k] != 0, "Scan output");
}

}  // namespace

void register_control_flow(std::vector<Kernel>& k) {
  // typed_input -1: the checks handle dtypes (cond/M) themselves; values are any native dtype.
  k.push_back(Kernel("If").opsets(1, kMaxOpset).types({DType::boolean}, kDTypesInCheck).check(check_if)
              .outputs(if_dtypes).compute(compute_if));
  k.push_back(Kernel("Loop").opsets(1, kMaxOpset).types({}, kDTypesInCheck).check(check_loop)
              .outputs(loop_dtypes).compute(compute_loop));
  k.push_back(Kernel("Scan").opsets(9, kMaxOpset).types({}, kDTypesInCheck).check(check_scan)
              .outputs(scan_dtypes).compute(compute_scan));
}

}  // namespace xinrt
