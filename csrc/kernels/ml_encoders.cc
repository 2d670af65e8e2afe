// ai.onnx.ml OneHotEncoder and LabelEncoder with ONNX Runtime's semantics (onehotencoder.cc,
// label_encoder.h/.cc there), for numeric tensors: the native backend has no string tensors, so
// string categories, keys or values are declined.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/registry.h"
#include "kernels/ml_common.h"

namespace xinrt {
namespace {

// ---- OneHotEncoder -------------------------------------------------------------------------------

struct OneHot {
  std::unordered_map<int64_t, int64_t> index;  // category -> column (the last duplicate wins, as ORT)
  int64_t categories = 0;
  bool zeros = true;
};

std::shared_ptr<OneHot> build_one_hot(const NodeInfo& n) {
  if (n.has_attr("cats_strings") && !attr_strings(n, "cats_strings").empty())
    throw KernelError("string categories (cats_strings) not supported: no string tensors natively");
  auto h = std::make_shared<OneHot>();
  std::vector<int64_t> cats = n.attr_ints("cats_int64s");
  if (cats.empty()) throw KernelError("cats_int64s is empty");
  h->categories = static_cast<int64_t>(cats.size());
  for (size_t i = 0; i < cats.size(); ++i) h->index[cats[i]] = static_cast<int64_t>(i);
  h->zeros = n.attr_int("zeros", 1) != 0;
  return h;
}

// float -> int64 as x86's truncating conversion does it (what ORT's static_cast compiles to):
// NaN and out-of-range values become INT64_MIN.
template <class T>
int64_t category_of(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!(v >= static_cast<T>(-9.2233720368547758e18) && v < static_cast<T>(9.2233720368547758e18)))
      return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(v);
}

template <class T>
void one_hot_rows(const OneHot& h, const T* x, int64_t count, float* y) {
  std::memset(y, 0, static_cast<size_t>(count * h.categories) * sizeof(float));
  for (int64_t i = 0; i < count; ++i) {
    auto it = h.index.find(category_of(x[i]));
    if (it != h.index.end()) y[i * h.categories + it->second] = 1.f;
    else if (!h.zeros) throw KernelError("input value at position " + std::to_string(i) + " is not a category and zeros = 0");
  }
}

std::string check_one_hot(const NodeInfo& n) {
  std::string r = require_dtype(n, 0, {DType::i64, DType::f32, DType::f64});
  if (!r.empty()) return r;
  if (n.input_rank(0) > 2) return "OneHotEncoder: input of rank > 2 (ONNX Runtime refuses it)";
  try {
    build_one_hot(n);
  } catch (const KernelError& e) {
    return std::string("OneHotEncoder: ") + e.what();
  }
  return "";
}

std::shared_ptr<void> prepare_one_hot(const NodeInfo& n, int) { return build_one_hot(n); }

void compute_one_hot(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const OneHot& h = *static_cast<const OneHot*>(ctx.state);
  const Tensor& x = *in[0];
  if (x.rank() > 2) throw KernelError("input must have rank <= 2, got " + shape_str(x.shape));
  Shape shape = x.shape;
  shape.push_back(h.categories);
  out[0] = Tensor::empty(DType::f32, shape);
  float* y = out[0].ptr<float>();
  switch (x.dtype) {
    case DType::i64: one_hot_rows(h, x.ptr<int64_t>(), x.numel(), y); break;
    case DType::f32: one_hot_rows(h, x.ptr<float>(), x.numel(), y); break;
    case DType::f64: one_hot_rows(h, x.ptr<double>(), x.numel(), y); break;
    default: throw KernelError(std::string("unsupported input dtype ") + dtype_name(x.dtype));
  }
}

std::vector<DType> floats_out(const NodeInfo&) { return {DType::f32}; }

// ---- LabelEncoder ------------------------------------------------------------------------------

// One numeric list: an int64 or float attribute, or (opset 4) a tensor attribute.
struct Values {
  DType dtype = DType::none;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  size_t size() const { return dtype == DType::i64 ? ints.size() : floats.size(); }
};

Values read_values(const NodeInfo& n, const std::string& prefix, int opset) {
  Values v;
  if (n.has_attr(prefix + "_strings") && !attr_strings(n, prefix + "_strings").empty())
    throw KernelError("string " + prefix + " not supported: no string tensors natively");
  if (n.has_attr(prefix + "_int64s")) {
    v.dtype = DType::i64;
    v.ints = n.attr_ints(prefix + "_int64s");
  } else if (n.has_attr(prefix + "_floats")) {
    v.dtype = DType::f32;
    v.floats = attr_floats(n, prefix + "_floats");
  } else if (opset >= 4 && n.has_attr(prefix + "_tensor")) {
    const Attribute& a = n.attrs.at(prefix + "_tensor");
    if (a.kind != Attribute::kTensor) throw KernelError(prefix + "_tensor must be a tensor");
    v.dtype = a.t.dtype;
    int64_t count = a.t.numel();
    if (v.dtype == DType::i64) v.ints.assign(a.t.ptr<int64_t>(), a.t.ptr<int64_t>() + count);
    else if (v.dtype == DType::f32) v.floats.assign(a.t.ptr<float>(), a.t.ptr<float>() + count);
    else throw KernelError(prefix + "_tensor of " + dtype_name(v.dtype) + " not supported (int64 and float only)");
  } else {
    throw KernelError("no numeric " + prefix + " attribute (" + prefix + "_int64s / " + prefix + "_floats)");
  }
  return v;
}

// Float keys compare as ORT's hash map does: 0.0 == -0.0; NaN matches a NaN key from opset 4.
uint32_t float_key(float f) {
  if (f == 0.f) f = 0.f;
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

struct LabelMap {
  DType key = DType::none, value = DType::none;
  std::unordered_map<uint64_t, int64_t> slot;  // key bits -> index into values (first wins)
  Values values;
  bool has_nan_key = false;  // opset 4: NaN inputs map to the first NaN key's value
  int64_t nan_slot = 0;
  int64_t default_int = -1;
  float default_float = -0.f;
};

std::shared_ptr<LabelMap> build_label_map(const NodeInfo& n) {
  if (n.opset < 2) throw KernelError("opset 1 maps strings to int64 and back: no string tensors natively");
  auto m = std::make_shared<LabelMap>();
  Values keys = read_values(n, "keys", n.opset);
  m->values = read_values(n, "values", n.opset);
  if (keys.size() != m->values.size()) throw KernelError("keys and values differ in length");
  m->key = keys.dtype;
  m->value = m->values.dtype;
  for (size_t i = 0; i < keys.size(); ++i) {
    int64_t at = static_cast<int64_t>(i);
    if (m->key == DType::i64) {
      m->slot.emplace(static_cast<uint64_t>(keys.ints[i]), at);
    } else if (std::isnan(keys.floats[i])) {
      if (n.opset >= 4 && !m->has_nan_key) {
        m->has_nan_key = true;
        m->nan_slot = at;
      }
    } else {
      m->slot.emplace(float_key(keys.floats[i]), at);
    }
  }
  if (n.opset >= 4 && n.has_attr("default_tensor")) {
    const Attribute& a = n.attrs.at("default_tensor");
    if (a.kind != Attribute::kTensor || a.t.dtype != m->value || a.t.numel() < 1)
      throw KernelError("default_tensor must hold one value of the values' dtype");
    if (m->value == DType::i64) m->default_int = a.t.ptr<int64_t>()[0];
    else m->default_float = a.t.ptr<float>()[0];
    return m;
  }
  m->default_int = n.attr_int("default_int64", -1);
  // ORT's fallback: -0.0, except 0.0 for int64 -> float from opset 4.
  float fallback = n.opset >= 4 && m->key == DType::i64 ? 0.f : -0.f;
  m->default_float = n.has_attr("default_float") ? n.attr_float("default_float", 0.f) : fallback;
  return m;
}

std::string check_label_encoder(const NodeInfo& n) {
  std::string r = require_dtype(n, 0, {DType::i64, DType::f32});
  if (!r.empty()) return r;
  try {
    auto m = build_label_map(n);
    if (!n.input_dtypes.empty() && n.input_dtypes[0] != DType::unknown && n.input_dtypes[0] != m->key)
      return std::string("LabelEncoder: keys are ") + dtype_name(m->key) + " but the input is " +
             dtype_name(n.input_dtypes[0]);
  } catch (const KernelError& e) {
    return std::string("LabelEncoder: ") + e.what();
  }
  return "";
}

std::shared_ptr<void> prepare_label_encoder(const NodeInfo& n, int) { return build_label_map(n); }

std::vector<DType> label_encoder_dtypes(const NodeInfo& n) {
  try {
    return {build_label_map(n)->value};
  } catch (const KernelError&) {
    return {DType::unknown};
  }
}

template <class V>
void encode(const LabelMap& m, const Tensor& x, const std::vector<V>& values, V fallback, V* y) {
  int64_t count = x.numel();
  for (int64_t i = 0; i < count; ++i) {
    int64_t at = -1;
    if (m.key == DType::i64) {
      auto it = m.slot.find(static_cast<uint64_t>(x.ptr<int64_t>()[i]));
      if (it != m.slot.end()) at = it->second;
    } else {
      float f = x.ptr<float>()[i];
      if (std::isnan(f)) {
        if (m.has_nan_key) at = m.nan_slot;
      } else {
        auto it = m.slot.find(float_key(f));
        if (it != m.slot.end()) at = it->second;
      }
    }
    y[i] = at < 0 ? fallback : values[static_cast<size_t>(at)];
  }
}

void compute_label_encoder(const KernelContext& ctx, const std::vector<const Tensor*>& in,
                           std::vector<Tensor>& out) {
  const LabelMap& m = *static_cast<const LabelMap*>(ctx.state);
  const Tensor& x = *in[0];
  if (x.dtype != m.key)
    throw KernelError(std::string("the keys are ") + dtype_name(m.key) + " but the input is " + dtype_name(x.dtype));
  out[0] = Tensor::empty(m.value, x.shape);
  if (m.value == DType::i64) encode(m, x, m.values.ints, m.default_int, out[0].ptr<int64_t>());
  else encode(m, x, m.values.floats, m.default_float, out[0].ptr<float>());
}

}  // namespace

void register_ml_encoders(std::vector<Kernel>& k) {
  const char* ml = "ai.onnx.ml";
  k.push_back(Kernel("OneHotEncoder", ml).opsets(1, 5).types({DType::i64, DType::f32, DType::f64})
              .check(check_one_hot).outputs(floats_out).compute(compute_one_hot).prepare(prepare_one_hot));
  k.push_back(Kernel("LabelEncoder", ml).opsets(1, 5).types({DType::i64, DType::f32})
              .check(check_label_encoder).outputs(label_encoder_dtypes).compute(compute_label_encoder)
              .prepare(prepare_label_encoder));
}

}  // namespace xinrt
