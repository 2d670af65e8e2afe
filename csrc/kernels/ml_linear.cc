// ai.onnx.ml linear models and feature transforms, with ONNX Runtime's semantics: LinearClassifier,
// LinearRegressor, Scaler, Normalizer, Binarizer, Imputer, ArrayFeatureExtractor, FeatureVectorizer.
// Inputs are [N, C] (or [C], one row); what ORT computes differently per case is declined.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/registry.h"
#include "kernels/ml_common.h"

namespace xinrt {
namespace {

// Rows and columns of a 1-D/2-D input (1-D is one row).
void rows_cols(const Tensor& x, int64_t* rows, int64_t* cols) {
  if (x.rank() < 1 || x.rank() > 2) throw KernelError("input must be 1-D or 2-D, got " + shape_str(x.shape));
  *rows = x.rank() == 1 ? 1 : x.dim(0);
  *cols = x.dim(-1);
}

std::string rank_at_most_2(const NodeInfo& n) {
  return n.input_rank(0) > 2 ? n.op_type + ": input of rank > 2 not supported" : "";
}

template <class F>
std::string checked(const NodeInfo& n, F body) {
  std::string r = rank_at_most_2(n);
  if (!r.empty()) return r;
  try {
    return body();
  } catch (const KernelError& e) {
    return n.op_type + ": " + e.what();
  }
}

// ---- LinearClassifier / LinearRegressor ------------------------------------------------------

// scores[r, t] = x[r] . coef[t] + intercept[t]
void linear_scores(ThreadPool& pool, const float* x, int64_t rows, int64_t cols, const std::vector<float>& coef,
                   const std::vector<float>& intercepts, int64_t targets, float* out) {
  pool.parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, cols * targets)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (int64_t t = 0; t < targets; ++t) {
        const float* w = coef.data() + t * cols;
        const float* xr = x + r * cols;
        float s = 0.f;
        for (int64_t c = 0; c < cols; ++c) s += xr[c] * w[c];
        out[r * targets + t] = s + (intercepts.empty() ? 0.f : intercepts[t]);
      }
  });
}

std::string check_linear_classifier(const NodeInfo& n) {
  return checked(n, [&]() -> std::string {
    if (n.has_attr("classlabels_strings"))
      return "LinearClassifier: string class labels (classlabels_strings) not supported; int64 labels only";
    std::vector<float> intercepts = attr_floats(n, "intercepts"), coef = attr_floats(n, "coefficients");
    size_t classes = intercepts.size();
    if (classes < 2)
      return "LinearClassifier: one score column (binary with a single weight vector) not supported";
    if (coef.empty() || coef.size() % classes) return "LinearClassifier: coefficients do not split into classes";
    if (n.attr_ints("classlabels_ints").size() != classes)
      return "LinearClassifier: classlabels_ints must have one label per intercept";
    parse_post_transform(n.attr_string("post_transform", "NONE"));
    return "";
  });
}

void compute_linear_classifier(const KernelContext& ctx, const std::vector<const Tensor*>& in,
                               std::vector<Tensor>& out) {
  const NodeInfo& n = ctx.node;
  std::vector<float> intercepts = attr_floats(n, "intercepts"), coef = attr_floats(n, "coefficients");
  std::vector<int64_t> labels = n.attr_ints("classlabels_ints");
  PostTransform t = parse_post_transform(n.attr_string("post_transform", "NONE"));
  int64_t classes = static_cast<int64_t>(intercepts.size()), rows, cols;
  rows_cols(*in[0], &rows, &cols);
  if (static_cast<int64_t>(coef.size()) != classes * cols)
    throw KernelError("coefficients hold " + std::to_string(coef.size() / classes) + " features per class but the input has " +
                      std::to_string(cols));
  out[0] = Tensor::empty(DType::i64, {rows});
  out[1] = Tensor::empty(DType::f32, {rows, classes});
  float* z = out[1].ptr<float>();
  int64_t* y = out[0].ptr<int64_t>();
  linear_scores(ctx.pool, in[0]->ptr<float>(), rows, cols, coef, intercepts, classes, z);
  for (int64_t r = 0; r < rows; ++r) {
    float* s = z + r * classes;
    int64_t best = 0;
    for (int64_t k = 1; k < classes; ++k)
      if (s[k] > s[best]) best = k;
    y[r] = labels[static_cast<size_t>(best)];
    apply_post_transform(t, s, classes, s);
  }
}

std::string check_linear_regressor(const NodeInfo& n) {
  return checked(n, [&]() -> std::string {
    if (parse_post_transform(n.attr_string("post_transform", "NONE")) != PostTransform::kNone)
      return "LinearRegressor: post_transform other than NONE not supported";
    int64_t targets = n.attr_int("targets", 1);
    std::vector<float> coef = attr_floats(n, "coefficients"), intercepts = attr_floats(n, "intercepts");
    if (targets < 1 || coef.empty() || coef.size() % static_cast<size_t>(targets))
      return "LinearRegressor: coefficients do not split into targets";
    if (!intercepts.empty() && intercepts.size() != static_cast<size_t>(targets))
      return "LinearRegressor: intercepts must have one value per target";
    return "";
  });
}

void compute_linear_regressor(const KernelContext& ctx, const std::vector<const Tensor*>& in,
                              std::vector<Tensor>& out) {
  const NodeInfo& n = ctx.node;
  int64_t targets = n.attr_int("targets", 1), rows, cols;
  std::vector<float> coef = attr_floats(n, "coefficients"), intercepts = attr_floats(n, "intercepts");
  rows_cols(*in[0], &rows, &cols);
  if (static_cast<int64_t>(coef.size()) != targets * cols)
    throw KernelError("coefficients do not match the input's " + std::to_string(cols) + " columns");
  out[0] = Tensor::empty(DType::f32, {rows, targets});
  linear_scores(ctx.pool, in[0]->ptr<float>(), rows, cols, coef, intercepts, targets, out[0].ptr<float>());
}

// ---- Scaler / Normalizer / Binarizer / Imputer -------------------------------------------------

std::string check_scaler(const NodeInfo& n) {
  return checked(n, [&]() -> std::string {
    std::vector<float> scale = attr_floats(n, "scale"), offset = attr_floats(n, "offset");
    if (scale.empty() || offset.empty()) return "Scaler: needs both scale and offset";
    return "";
  });
}

template <class T>
void scale_rows(const T* x, int64_t rows, int64_t cols, const std::vector<float>& scale,
                const std::vector<float>& offset, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float o = offset.size() == 1 ? offset[0] : offset[c], s = scale.size() == 1 ? scale[0] : scale[c];
      y[r * cols + c] = static_cast<float>((x[r * cols + c] - o) * s);
    }
}

void compute_scaler(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::vector<float> scale = attr_floats(ctx.node, "scale"), offset = attr_floats(ctx.node, "offset");
  const Tensor& x = *in[0];
  int64_t rows, cols;
  rows_cols(x, &rows, &cols);
  for (const std::vector<float>* v : {&scale, &offset})
    if (v->size() != 1 && static_cast<int64_t>(v->size()) != cols)
      throw KernelError("scale/offset have " + std::to_string(v->size()) + " values for " + std::to_string(cols) +
                        " columns");
  out[0] = Tensor::empty(DType::f32, x.shape);
  float* y = out[0].ptr<float>();
  switch (x.dtype) {
    case DType::f32: scale_rows(x.ptr<float>(), rows, cols, scale, offset, y); break;
    case DType::f64: scale_rows(x.ptr<double>(), rows, cols, scale, offset, y); break;
    case DType::i64: scale_rows(x.ptr<int64_t>(), rows, cols, scale, offset, y); break;
    case DType::i32: scale_rows(x.ptr<int32_t>(), rows, cols, scale, offset, y); break;
    default: throw KernelError("unsupported dtype");
  }
}

std::string check_normalizer(const NodeInfo& n) {
  return checked(n, [&]() -> std::string {
    std::string norm = n.attr_string("norm", "MAX");
    if (norm != "MAX" && norm != "L1" && norm != "L2") return "Normalizer: unknown norm '" + norm + "'";
    return "";
  });
}

void compute_normalizer(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::string norm = ctx.node.attr_string("norm", "MAX");
  const Tensor& x = *in[0];
  int64_t rows, cols;
  rows_cols(x, &rows, &cols);
  out[0] = Tensor::empty(DType::f32, x.shape);
  const float* xs = x.ptr<float>();
  float* ys = out[0].ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = xs + r * cols;
    float* b = ys + r * cols;
    if (norm == "MAX") {
      float mx = std::numeric_limits<float>::lowest();
      for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, a[c]);
      for (int64_t c = 0; c < cols; ++c) b[c] = mx != 0.f ? a[c] / mx : a[c];
    } else if (norm == "L1") {
      float sum = 0.f;
      for (int64_t c = 0; c < cols; ++c) sum += std::abs(a[c]);
      for (int64_t c = 0; c < cols; ++c) b[c] = sum != 0.f ? a[c] / sum : a[c];
    } else {  // L2, as ORT computes it: sign(x) * sqrt(x^2 / sum of squares)
      float sum = 0.f;
      for (int64_t c = 0; c < cols; ++c) sum += a[c] * a[c];
      for (int64_t c = 0; c < cols; ++c) {
        float q = std::sqrt(a[c] * a[c] / sum);
        b[c] = sum != 0.f ? (a[c] < 0 ? -q : q) : a[c];
      }
    }
  }
}

void compute_binarizer(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  float th = ctx.node.attr_float("threshold", 0.f);
  const Tensor& x = *in[0];
  out[0] = Tensor::empty(DType::f32, x.shape);
  const float* a = x.ptr<float>();
  float* b = out[0].ptr<float>();
  for (int64_t i = 0; i < x.numel(); ++i) b[i] = a[i] > th ? 1.f : 0.f;
}

std::string check_imputer(const NodeInfo& n) {
  return checked(n, [&]() -> std::string {
    bool f32 = n.input_dtypes.empty() || n.input_dtypes[0] != DType::i64;
    if (f32 && attr_floats(n, "imputed_value_floats").empty()) return "Imputer: float input needs imputed_value_floats";
    if (!f32 && n.attr_ints("imputed_value_int64s").empty()) return "Imputer: int64 input needs imputed_value_int64s";
    return "";
  });
}

void compute_imputer(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const NodeInfo& n = ctx.node;
  const Tensor& x = *in[0];
  int64_t rows, cols;
  rows_cols(x, &rows, &cols);
  out[0] = Tensor::empty(x.dtype, x.shape);
  if (x.dtype == DType::f32) {
    std::vector<float> imp = attr_floats(n, "imputed_value_floats");
    float rep = n.attr_float("replaced_value_float", 0.f);
    if (imp.size() != 1 && static_cast<int64_t>(imp.size()) != cols)
      throw KernelError("imputed_value_floats has " + std::to_string(imp.size()) + " values for " +
                        std::to_string(cols) + " columns");
    const float* a = x.ptr<float>();
    float* b = out[0].ptr<float>();
    bool nan = std::isnan(rep);
    for (int64_t i = 0; i < rows * cols; ++i) {
      bool hit = nan ? std::isnan(a[i]) : a[i] == rep;
      b[i] = hit ? imp[imp.size() == 1 ? 0 : static_cast<size_t>(i % cols)] : a[i];
    }
    return;
  }
  std::vector<int64_t> imp = n.attr_ints("imputed_value_int64s");
  int64_t rep = n.attr_int("replaced_value_int64", 0);
  if (imp.size() != 1 && static_cast<int64_t>(imp.size()) != cols)
    throw KernelError("imputed_value_int64s does not match the input's columns");
  const int64_t* a = x.ptr<int64_t>();
  int64_t* b = out[0].ptr<int64_t>();
  for (int64_t i = 0; i < rows * cols; ++i)
    b[i] = a[i] == rep ? imp[imp.size() == 1 ? 0 : static_cast<size_t>(i % cols)] : a[i];
}

// ---- ArrayFeatureExtractor / FeatureVectorizer ---------------------------------------------------

std::string check_afe(const NodeInfo& n) { return require_dtype(n, 1, {DType::i64}); }

void compute_afe(const KernelContext&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const Tensor& idx = *in[1];
  if (x.rank() < 1) throw KernelError("input must have rank >= 1");
  int64_t stride = x.dim(-1), k = idx.numel();
  if (k == 0) throw KernelError("the index input is empty");
  const int64_t* ids = idx.ptr<int64_t>();
  for (int64_t j = 0; j < k; ++j)
    if (ids[j] < 0 || ids[j] >= stride)
      throw KernelError("index " + std::to_string(ids[j]) + " out of range for last dimension " + std::to_string(stride));
  Shape shape = x.shape;
  if (x.rank() == 1) shape = {1, k};
  else shape.back() = k;
  out[0] = Tensor::empty(x.dtype, shape);
  size_t es = dtype_size(x.dtype);
  int64_t rows = stride ? x.numel() / stride : 0;
  const char* a = static_cast<const char*>(x.data);
  char* b = static_cast<char*>(out[0].data);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j) std::memcpy(b + (r * k + j) * es, a + (r * stride + ids[j]) * es, es);
}

std::string check_fv(const NodeInfo& n) {
  std::vector<int64_t> dims = n.attr_ints("inputdimensions");
  if (dims.size() != n.input_dtypes.size())
    return "FeatureVectorizer: inputdimensions must have one entry per input";
  for (size_t i = 0; i < n.input_dtypes.size(); ++i) {
    std::string r = require_dtype(n, i, {DType::f32, DType::f64, DType::i64, DType::i32});
    if (!r.empty()) return r;
    if (dims[i] < 0) return "FeatureVectorizer: negative inputdimensions";
  }
  return "";
}

template <class T>
void vectorize(const T* a, int64_t rows, int64_t stride, int64_t width, int64_t total, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < width; ++c) y[r * total + c] = c < stride ? static_cast<float>(a[r * stride + c]) : 0.f;
}

void compute_fv(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::vector<int64_t> dims = ctx.node.attr_ints("inputdimensions");
  int64_t total = 0;
  for (int64_t d : dims) total += d;
  const Tensor& x0 = *in[0];
  int64_t rows = x0.rank() <= 1 ? 1 : x0.dim(0);
  out[0] = Tensor::empty(DType::f32, {rows, total});
  float* y = out[0].ptr<float>();
  int64_t col = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const Tensor& x = *in[i];
    if (rows && x.numel() % rows) throw KernelError("input " + std::to_string(i) + " does not split into the batch's rows");
    int64_t stride = rows ? x.numel() / rows : 0;
    switch (x.dtype) {
      case DType::f32: vectorize(x.ptr<float>(), rows, stride, dims[i], total, y + col); break;
      case DType::f64: vectorize(x.ptr<double>(), rows, stride, dims[i], total, y + col); break;
      case DType::i64: vectorize(x.ptr<int64_t>(), rows, stride, dims[i], total, y + col); break;
      case DType::i32: vectorize(x.ptr<int32_t>(), rows, stride, dims[i], total, y + col); break;
      default: throw KernelError("unsupported dtype");
    }
    col += dims[i];
  }
}

std::vector<DType> label_and_scores(const NodeInfo&) { return {DType::i64, DType::f32}; }
std::vector<DType> floats_out(const NodeInfo&) { return {DType::f32}; }

}  // namespace

void register_ml_linear(std::vector<Kernel>& k) {
  const char* ml = "ai.onnx.ml";
  k.push_back(Kernel("LinearClassifier", ml).opsets(1, 5).types({DType::f32}).check(check_linear_classifier)
              .outputs(label_and_scores).compute(compute_linear_classifier));
  k.push_back(Kernel("LinearRegressor", ml).opsets(1, 5).types({DType::f32}).check(check_linear_regressor)
              .outputs(floats_out).compute(compute_linear_regressor));
  k.push_back(Kernel("Scaler", ml).opsets(1, 5).types({DType::f32, DType::f64, DType::i64, DType::i32})
              .check(check_scaler).outputs(floats_out).compute(compute_scaler));
  k.push_back(Kernel("Normalizer", ml).opsets(1, 5).types({DType::f32}).check(check_normalizer)
              .outputs(floats_out).compute(compute_normalizer));
  k.push_back(Kernel("Binarizer", ml).opsets(1, 5).types({DType::f32}).compute(compute_binarizer));
  k.push_back(Kernel("Imputer", ml).opsets(1, 5).types({DType::f32, DType::i64}).check(check_imputer)
              .compute(compute_imputer));
  k.push_back(Kernel("ArrayFeatureExtractor", ml).opsets(1, 5)
              .types({DType::f32, DType::f64, DType::i64, DType::i32}).check(check_afe).compute(compute_afe));
  k.push_back(Kernel("FeatureVectorizer", ml).opsets(1, 5).types({}, kDTypesInCheck).check(check_fv)
              .outputs(floats_out).compute(compute_fv));
}

void register_ml(std::vector<Kernel>& k) {
  register_ml_tree(k);
  register_ml_linear(k);
  register_ml_svm(k);
  register_ml_encoders(k);
}

}  // namespace xinrt
