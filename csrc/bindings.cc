// The only pybind11 file: converts numpy arrays and Python attributes to core types and back.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/cpu_features.h"
#include "core/plan.h"
#include "core/registry.h"
#include "kernels/conv_winograd.h"

namespace py = pybind11;
using namespace xinrt;

const char* xinrt_build_id();  // build_id.cc, generated on every build (csrc/build_id.cmake)

#ifndef XINRT_VERSION
#define XINRT_VERSION "0.0.0"
#endif

namespace {

// From the dtype's kind and size (str(dtype) runs Python code in numpy: microseconds per input
// per run); the name decides for anything else (byte-swapped, strings ...).
DType array_dtype(const py::array& a) {
  py::dtype d = a.dtype();
  char order = d.byteorder();
  if (order == '=' || order == '|') {
    py::ssize_t size = d.itemsize();
    switch (d.kind()) {
      case 'f':
        if (size == 4) return DType::f32;
        if (size == 8) return DType::f64;
        if (size == 2) return DType::f16;
        break;
      case 'i':
        if (size == 8) return DType::i64;
        if (size == 4) return DType::i32;
        if (size == 1) return DType::i8;
        break;
      case 'u':
        if (size == 1) return DType::u8;
        break;
      case 'b':
        return DType::boolean;
      default:
        break;
    }
  }
  return dtype_from_name(py::str(d).cast<std::string>());
}

// A read-only view of a C-contiguous array; the caller keeps `a` alive.
Tensor view_of(const py::array& a) {
  Tensor t;
  t.dtype = array_dtype(a);
  for (py::ssize_t i = 0; i < a.ndim(); ++i) t.shape.push_back(a.shape(i));
  t.data = const_cast<void*>(a.data());
  t.readonly = true;
  return t;
}

// np.asarray(order="C"), not np.ascontiguousarray: the latter turns 0-d scalars into shape [1].
py::array contiguous(py::handle obj) {
  if (py::isinstance<py::array>(obj)) {  // the usual feed: no call into numpy
    auto a = py::reinterpret_borrow<py::array>(obj);
    if (a.ndim() > 0 && (a.flags() & py::array::c_style)) return a;
  }
  return py::module_::import("numpy").attr("asarray")(obj, py::arg("order") = "C").cast<py::array>();
}

Tensor copy_of(py::handle obj) { return view_of(contiguous(obj)).clone(); }

// A read-only view that keeps the array alive itself: plan constants (model weights) are not
// copied, so a session holds its weights once beside the kernels' packed forms.
Tensor borrow(py::handle obj) {
  py::array array = contiguous(obj);
  Tensor t = view_of(array);
  auto* owner = new py::object(std::move(array));
  t.storage = std::shared_ptr<void>(owner, [](void* p) {
    py::gil_scoped_acquire gil;  // the last owner may be a thread that released the GIL
    delete static_cast<py::object*>(p);
  });
  return t;
}

// Hands the tensor's storage to numpy without copying.
py::array to_numpy(const Tensor& t) {
  auto* owner = new std::shared_ptr<void>(t.storage);
  py::capsule cap(owner, [](void* p) { delete static_cast<std::shared_ptr<void>*>(p); });
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  return py::array(py::dtype(dtype_name(t.dtype)), shape, t.data, cap);
}

Attribute to_attribute(const std::string& name, py::handle v) {
  py::module_ np = py::module_::import("numpy");
  Attribute a;
  if (py::isinstance<Plan>(v)) {  // a subgraph the Python side compiled (If/Loop/Scan)
    a.kind = Attribute::kGraph;
    a.graph = v.cast<std::shared_ptr<Plan>>();
    return a;
  }
  if (py::isinstance(v, np.attr("ndarray"))) {
    a.kind = Attribute::kTensor;
    try {
      a.t = copy_of(v);
    } catch (const std::invalid_argument& e) {
      throw py::type_error("tensor attribute '" + name + "': " + e.what());
    }
    return a;
  }
  if (py::isinstance(v, np.attr("generic"))) v = v.attr("item")();
  if (py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v)) {
    a.kind = Attribute::kInt;
    a.i = v.cast<int64_t>();
  } else if (py::isinstance<py::float_>(v)) {
    a.kind = Attribute::kFloat;
    a.f = v.cast<double>();
  } else if (py::isinstance<py::str>(v)) {
    a.kind = Attribute::kString;
    a.s = v.cast<std::string>();
  } else if (py::isinstance<py::bytes>(v)) {
    a.kind = Attribute::kString;
    a.s = std::string(v.cast<py::bytes>());
  } else if (py::isinstance<py::sequence>(v)) {
    py::sequence seq = v.cast<py::sequence>();
    a.kind = Attribute::kInts;
    for (py::handle item : seq) {
      if (py::isinstance(item, np.attr("generic"))) item = item.attr("item")();
      if (py::isinstance<py::float_>(item)) a.kind = Attribute::kFloats;
      if (py::isinstance<py::str>(item) || py::isinstance<py::bytes>(item)) a.kind = Attribute::kStrings;
    }
    for (py::handle item : seq) {
      if (a.kind == Attribute::kStrings) {
        a.strings.push_back(py::isinstance<py::bytes>(item) ? std::string(item.cast<py::bytes>())
                                                              : item.cast<std::string>());
      } else if (a.kind == Attribute::kFloats) {
        a.floats.push_back(py::float_(item.attr("__float__")()).cast<double>());
      } else {
        a.ints.push_back(py::int_(item.attr("__index__")()).cast<int64_t>());
      }
    }
  } else {
    throw py::type_error("attribute '" + name + "': unsupported Python type " +
                         py::str(v.get_type()).cast<std::string>());
  }
  return a;
}

Attributes to_attributes(const py::dict& d) {
  Attributes attrs;
  for (auto kv : d) {
    std::string name = kv.first.cast<std::string>();
    attrs[name] = to_attribute(name, kv.second);
  }
  return attrs;
}

std::string py_check_node(const std::string& op_type, const std::string& domain, int opset,
                          const std::vector<std::string>& input_dtypes, const py::list& input_shapes,
                          const py::dict& attributes, int num_outputs) {
  NodeInfo info;
  info.op_type = op_type;
  info.domain = domain == "ai.onnx" ? "" : domain;
  info.opset = opset;
  info.num_outputs = num_outputs;
  for (const std::string& d : input_dtypes) {
    try {
      info.input_dtypes.push_back(d == "unknown" ? DType::unknown : dtype_from_name(d));
    } catch (const std::invalid_argument&) {
      return op_type + ": dtype " + d + " not supported by the native CPU backend";
    }
  }
  for (size_t i = 0; i < info.input_dtypes.size(); ++i) {
    std::optional<Shape> shape;
    if (i < input_shapes.size() && !input_shapes[i].is_none()) shape = input_shapes[i].cast<Shape>();
    info.input_shapes.push_back(shape);
    info.input_constants.push_back(nullptr);
  }
  try {
    info.attrs = to_attributes(attributes);
  } catch (const py::type_error& e) {
    return op_type + ": " + e.what();
  }
  return check_node(info);
}

std::shared_ptr<Plan> make_plan(const py::list& nodes, int num_slots, std::vector<int> input_slots,
                                std::vector<int> output_slots, const py::dict& constants,
                                int num_threads, const py::object& input_dtypes, const std::string& precision) {
  std::vector<NodeSpec> specs;
  for (py::handle h : nodes) {
    py::tuple t = h.cast<py::tuple>();
    if (t.size() != 7)
      throw py::value_error("each node must be (op_type, domain, opset, inputs, outputs, attributes, name)");
    NodeSpec s;
    s.op_type = t[0].cast<std::string>();
    s.domain = t[1].cast<std::string>();
    s.opset = t[2].cast<int>();
    s.inputs = t[3].cast<std::vector<int>>();
    s.outputs = t[4].cast<std::vector<int>>();
    s.name = t[6].cast<std::string>();
    try {
      s.attrs = to_attributes(t[5].cast<py::dict>());
    } catch (const py::type_error& e) {
      throw PlanError("node '" + s.name + "' (" + s.op_type + "): " + e.what());
    }
    specs.push_back(std::move(s));
  }
  std::map<int, Tensor> consts;
  for (auto kv : constants) consts[kv.first.cast<int>()] = borrow(kv.second);
  std::vector<DType> dtypes;
  if (!input_dtypes.is_none())
    for (py::handle d : input_dtypes) {
      std::string name = py::str(d).cast<std::string>();  // "": not known before the run
      dtypes.push_back(name.empty() ? DType::unknown : dtype_from_name(name));
    }
  return std::make_shared<Plan>(std::move(specs), num_slots, std::move(input_slots),
                                std::move(output_slots), std::move(consts), num_threads, std::move(dtypes),
                                precision);
}

// Python's thread ident of the main thread (the only one signal handlers run on).
unsigned long main_thread_ident = 0;

// While a run is going on the main thread, Ctrl-C must stop it: the plan polls this (at most
// every 50 ms, from the running thread only), which takes the GIL and runs Python's signal
// handlers; an exception they raise (KeyboardInterrupt) is kept and re-raised after the run.
class SignalPoll {
 public:
  explicit SignalPoll(RunControl& control) : control_(control) {
    if (PyThread_get_thread_ident() != main_thread_ident) return;
    control_.set_signal_poll([this] {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() == 0) return false;
      error_ = std::make_unique<py::error_already_set>();
      return true;
    });
  }
  ~SignalPoll() { control_.set_signal_poll(nullptr); }
  // Re-raises what a signal handler raised during the run, if anything (GIL held).
  void rethrow() {
    if (error_) {
      py::error_already_set e = std::move(*error_);
      error_.reset();
      throw e;
    }
  }

 private:
  RunControl& control_;
  std::unique_ptr<py::error_already_set> error_;
};

py::list run_plan(const Plan& plan, const py::list& inputs, RunControl* control) {
  RunControl local;  // Ctrl-C works for callers that pass no control too
  if (!control) control = &local;
  std::vector<py::array> arrays;
  std::vector<Tensor> views;
  for (size_t i = 0; i < inputs.size(); ++i) {
    arrays.push_back(contiguous(inputs[i]));
    try {
      views.push_back(view_of(arrays.back()));
    } catch (const std::invalid_argument&) {
      throw py::type_error("input " + std::to_string(i) + ": dtype " +
                           py::str(arrays.back().dtype()).cast<std::string>() +
                           " not supported by the native CPU backend");
    }
  }
  std::vector<Tensor> outputs;
  SignalPoll signals(*control);
  try {
    py::gil_scoped_release release;
    outputs = plan.run(views, control);
  } catch (const RunCancelled&) {
    signals.rethrow();
    throw;
  }
  py::list result;
  for (const Tensor& t : outputs) result.append(to_numpy(t));
  return result;
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "xinrt native CPU engine";
  py::register_exception<InputTypeError>(m, "InputTypeError", PyExc_TypeError);
  py::register_exception<PlanError>(m, "PlanError", PyExc_ValueError);
  py::register_exception<RunError>(m, "RunError", PyExc_ValueError);
  py::register_exception<ModelError>(m, "ModelError", PyExc_ValueError);
  py::register_exception<RunCancelled>(m, "RunCancelled", PyExc_RuntimeError);
  main_thread_ident =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();

  py::class_<RunControl>(m, "RunControl",
                         "Stops a Plan.run from outside: terminate() from any thread, or a timeout. "
                         "One per run.")
      .def(py::init([](py::object timeout_s) {
             if (timeout_s.is_none()) return std::make_unique<RunControl>();
             double s = timeout_s.cast<double>();
             int64_t ns = s > 0 ? static_cast<int64_t>(std::min(s, 1e9) * 1e9) : 0;
             return std::make_unique<RunControl>(RunControl::steady_now_ns() + std::max<int64_t>(ns, 1));
           }),
           py::arg("timeout_s") = py::none())
      .def("terminate", &RunControl::terminate, "The run stops at its next poll (any thread).")
      .def_property_readonly("stopped", &RunControl::stopped);

  m.def("build_info", [] {
    py::dict d;
    d["version"] = XINRT_VERSION;
    d["build_id"] = xinrt_build_id();
    d["compiler"] = std::string("gcc-compatible ") + __VERSION__;
    d["simd"] = simd_paths();
    d["simd_selected"] = simd_name(simd_level());
    d["cpu_features"] = cpu_feature_names();
    d["baseline_forced"] = baseline_forced();
    d["bf16"] = std::string(simd_name(simd_level())) == "avx512_bf16";  // precision bf16 runs here
    return d;
  }, "Version, build id, compiler and the SIMD paths usable on this CPU.");
  m.def("conv_winograd_runs", &conv_winograd_runs,
        "How many Conv runs in this process took the Winograd path (kernels/conv_winograd.h).");
  m.def("check_node", &py_check_node, py::arg("op_type"), py::arg("domain"), py::arg("opset"),
        py::arg("input_dtypes"), py::arg("input_shapes"), py::arg("attributes"), py::arg("num_outputs"),
        "'' if a native kernel computes this node as the ONNX spec does, else a one-line reason.");
  m.def("registered_ops", [] {
    py::list ops;
    for (const Kernel& k : all_kernels()) {
      py::dict d;
      d["op_type"] = k.op_type;
      d["domain"] = k.domain;
      d["since_opset"] = k.since_opset;
      d["max_opset"] = k.max_opset;
      std::vector<std::string> names;
      for (DType t : k.dtypes) names.push_back(dtype_name(t));
      d["dtypes"] = names;
      ops.append(d);
    }
    return ops;
  }, "Every registered native kernel with its opset range and dtypes.");

  // shared_ptr holder: a Plan passed as a node attribute (a subgraph) is shared with C++.
  py::class_<Plan, std::shared_ptr<Plan>>(m, "Plan", "A compiled sequence of native kernels; run() releases the GIL.")
      .def(py::init(&make_plan), py::arg("nodes"), py::arg("num_slots"), py::arg("input_slots"),
           py::arg("output_slots"), py::arg("constants"), py::arg("num_threads") = 0,
           py::arg("input_dtypes") = py::none(), py::arg("precision") = "fp32")
      .def("run", &run_plan, py::arg("inputs"), py::arg("control") = nullptr,
           "Runs the plan on numpy inputs (input_slots order); `control` (a RunControl) can stop it.")
      .def_property_readonly("num_threads", &Plan::num_threads)
      .def_property_readonly("bf16_steps", &Plan::bf16_steps,
                             "How many steps compute in bf16 (precision bf16: Conv and MatMul with constant weights).")
      .def_property_readonly("output_dtypes", [](const Plan& p) {
        std::vector<std::string> names;
        for (DType d : p.output_dtypes()) names.push_back(dtype_name(d));
        return names;
      }, "Output dtypes known at plan build ('unknown' where they depend on the inputs).")
      .def_property_readonly("steps", &Plan::step_names,
                             "Kernels run() executes after constant folding and fusion, as 'name (op_type)'.");
}
