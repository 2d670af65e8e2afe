// ai.onnx.ml SVMClassifier / SVMRegressor with ONNX Runtime's semantics (svmclassifier.cc,
// svmregressor.cc there): LINEAR/POLY/RBF/SIGMOID kernels, one-vs-one votes in double precision,
// Platt scaling (prob_a/prob_b) with libsvm's pairwise coupling, ORT's binary special cases and
// post-transforms. With no support vectors the model is liblinear-style (coefficients per class).
// What ORT leaves undefined (PROBIT on a one-score binary, post_transform on the regressor) is
// declined rather than guessed.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"
#include "kernels/ml_common.h"
#include "kernels/sgemm.h"

namespace xinrt {
namespace {

enum class SvmKernel { kLinear, kPoly, kRbf, kSigmoid };

struct Svm {
  SvmKernel kernel = SvmKernel::kLinear;
  float gamma = 0.f, coef0 = 0.f, degree = 0.f;
  bool svc = false;  // support vectors present (libsvm); else liblinear coefficients
  int64_t features = 0, vectors = 0;
  std::vector<float> support, coef, rho, prob_a, prob_b;
  // Classifier only.
  std::vector<int64_t> per_class, start, labels;
  int64_t classes = 0;
  PostTransform transform = PostTransform::kNone;
  bool all_positive = true;
  // Regressor only.
  bool one_class = false;
};

SvmKernel parse_kernel(const std::string& s) {
  if (s == "LINEAR") return SvmKernel::kLinear;
  if (s == "POLY") return SvmKernel::kPoly;
  if (s == "RBF") return SvmKernel::kRbf;
  if (s == "SIGMOID") return SvmKernel::kSigmoid;
  throw KernelError("unknown kernel_type '" + s + "'");
}

// kernel_type and kernel_params (ORT requires the attribute; it reads gamma, coef0, degree).
void read_kernel(const NodeInfo& n, Svm* s) {
  s->kernel = parse_kernel(n.attr_string("kernel_type", "LINEAR"));
  if (!n.has_attr("kernel_params")) throw KernelError("kernel_params missing (ONNX Runtime requires it)");
  std::vector<float> p = attr_floats(n, "kernel_params");
  if (!p.empty()) {
    if (p.size() != 3) throw KernelError("kernel_params must hold gamma, coef0 and degree");
    s->gamma = p[0];
    s->coef0 = p[1];
    s->degree = p[2];
  }
  s->rho = attr_floats(n, "rho");
  s->coef = attr_floats(n, "coefficients");
  s->support = attr_floats(n, "support_vectors");
  if (s->rho.empty()) throw KernelError("rho is empty");
  if (s->coef.empty()) throw KernelError("coefficients are empty");
}

std::shared_ptr<Svm> build_classifier(const NodeInfo& n) {
  auto s = std::make_shared<Svm>();
  read_kernel(n, s.get());
  if (n.has_attr("classlabels_strings"))
    throw KernelError("string class labels (classlabels_strings) not supported; int64 labels only");
  s->labels = n.attr_ints("classlabels_ints");
  s->classes = static_cast<int64_t>(s->labels.size());
  if (s->classes < 2) throw KernelError("needs at least 2 classlabels_ints");
  s->transform = parse_post_transform(n.attr_string("post_transform", "NONE"));
  s->prob_a = attr_floats(n, "prob_a");
  s->prob_b = attr_floats(n, "prob_b");
  if (s->prob_a.size() != s->prob_b.size()) throw KernelError("prob_a and prob_b differ in length");
  s->per_class = n.attr_ints("vectors_per_class");
  for (int64_t v : s->per_class) {
    if (v < 0) throw KernelError("negative vectors_per_class");
    s->start.push_back(s->vectors);
    s->vectors += v;
  }
  int64_t pairs = s->classes * (s->classes - 1) / 2;
  s->svc = s->vectors > 0;
  if (s->svc) {
    if (static_cast<int64_t>(s->per_class.size()) != s->classes)
      throw KernelError("vectors_per_class must have one entry per class label");
    if (s->support.size() % static_cast<size_t>(s->vectors))
      throw KernelError("support_vectors do not split into vectors_per_class vectors");
    s->features = static_cast<int64_t>(s->support.size()) / s->vectors;
    if (static_cast<int64_t>(s->coef.size()) != (s->classes - 1) * s->vectors)
      throw KernelError("coefficients must hold (classes - 1) x support vectors values");
    if (static_cast<int64_t>(s->rho.size()) < pairs) throw KernelError("rho needs one value per class pair");
    if (!s->prob_a.empty() && static_cast<int64_t>(s->prob_a.size()) < pairs)
      throw KernelError("prob_a/prob_b need one value per class pair");
    if (s->prob_a.empty() && s->classes == 2 && s->transform == PostTransform::kProbit)
      throw KernelError("PROBIT on a binary model without probabilities leaves ONNX Runtime's second "
                        "score column unset");
  } else {
    if (s->coef.size() % static_cast<size_t>(s->classes))
      throw KernelError("coefficients do not split into classes");
    s->features = static_cast<int64_t>(s->coef.size()) / s->classes;
    s->kernel = SvmKernel::kLinear;  // as ORT: liblinear mode ignores kernel_type
    if (!s->prob_a.empty()) throw KernelError("prob_a/prob_b without support vectors not supported");
  }
  s->all_positive = std::all_of(s->coef.begin(), s->coef.end(), [](float v) { return v >= 0.f; });
  return s;
}

std::shared_ptr<Svm> build_regressor(const NodeInfo& n) {
  auto s = std::make_shared<Svm>();
  read_kernel(n, s.get());
  if (parse_post_transform(n.attr_string("post_transform", "NONE")) != PostTransform::kNone)
    throw KernelError("post_transform other than NONE (ONNX Runtime ignores it) not supported");
  s->vectors = n.attr_int("n_supports", 0);
  s->one_class = n.attr_int("one_class", 0) != 0;
  if (s->vectors < 0) throw KernelError("negative n_supports");
  s->svc = s->vectors > 0;
  if (s->svc) {
    if (s->support.size() % static_cast<size_t>(s->vectors))
      throw KernelError("support_vectors do not split into n_supports vectors");
    s->features = static_cast<int64_t>(s->support.size()) / s->vectors;
    if (static_cast<int64_t>(s->coef.size()) != s->vectors)
      throw KernelError("coefficients must hold one value per support vector");
  } else {
    s->features = static_cast<int64_t>(s->coef.size());
    s->kernel = SvmKernel::kLinear;
  }
  return s;
}

// out[r, j] = K(x[r], b[j]) for rows x [rows, k] and b [n, k], as ORT's batched_kernel_dot:
// RBF exp(-gamma |x - b|^2); else (alpha x.b + c) with alpha = gamma, c = coef0 for POLY and
// SIGMOID (then raised to degree / tanh), alpha = 1, c = bias for LINEAR.
void kernel_dot(const Svm& s, const KernelContext& ctx, const float* x, int64_t rows, const float* b, int64_t n,
                float bias, float* out) {
  int64_t k = s.features;
  int simd = ctx.simd;
  float alpha = s.kernel == SvmKernel::kLinear ? 1.f : s.gamma;
  float c = s.kernel == SvmKernel::kLinear ? bias : s.coef0;
  ctx.pool.parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n * k)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * k;
      float* o = out + r * n;
      for (int64_t j = 0; j < n; ++j) {
        const float* bj = b + j * k;
        if (s.kernel == SvmKernel::kRbf) {
          float sum = 0.f;
          for (int64_t f = 0; f < k; ++f) {
            float d = xr[f] - bj[f];
            sum += d * d;
          }
          o[j] = std::exp(-s.gamma * sum);
          continue;
        }
        float v = alpha * dot_f32(xr, bj, k, simd) + c;
        if (s.kernel == SvmKernel::kPoly) {
          if (s.degree == 2.f) v = v * v;
          else if (s.degree == 3.f) v = v * v * v;
          else v = std::pow(v, s.degree);
        } else if (s.kernel == SvmKernel::kSigmoid) {
          v = std::tanh(v);
        }
        o[j] = v;
      }
    }
  });
}

// libsvm's pairwise coupling as ORT computes it (multiclass_probability, float arithmetic).
void multiclass_probability(int64_t k, const float* r, float* p) {
  size_t n = static_cast<size_t>(k);
  std::vector<float> q(n * n, 0.f), qp(n, 0.f);
  float eps = 0.005f / static_cast<float>(k);
  for (size_t i = 0; i < n; ++i) {
    p[i] = 1.f / static_cast<float>(k);
    for (size_t j = 0; j < i; ++j) {
      q[i * n + i] += r[j * n + i] * r[j * n + i];
      q[i * n + j] = q[j * n + i];
    }
    for (size_t j = i + 1; j < n; ++j) {
      q[i * n + i] += r[j * n + i] * r[j * n + i];
      q[i * n + j] = -r[j * n + i] * r[i * n + j];
    }
  }
  for (int loop = 0; loop < 100; ++loop) {
    float pqp = 0.f;
    for (size_t i = 0; i < n; ++i) {
      qp[i] = 0.f;
      for (size_t j = 0; j < n; ++j) qp[i] += q[i * n + j] * p[j];
      pqp += p[i] * qp[i];
    }
    float max_error = 0.f;
    for (size_t i = 0; i < n; ++i) max_error = std::max(max_error, std::fabs(qp[i] - pqp));
    if (max_error < eps) break;
    for (size_t i = 0; i < n; ++i) {
      float diff = (-qp[i] + pqp) / q[i * n + i];
      p[i] += diff;
      pqp = (pqp + diff * (diff * q[i * n + i] + 2 * qp[i])) / (1 + diff) / (1 + diff);
      for (size_t j = 0; j < n; ++j) {
        qp[j] = (qp[j] + diff * q[i * n + j]) / (1 + diff);
        p[j] /= (1 + diff);
      }
    }
  }
}

// The input as float32 (ORT casts double/int inputs the same way); `keep` owns a converted copy.
const float* as_floats(const Tensor& x, std::vector<float>& keep) {
  if (x.dtype == DType::f32) return x.ptr<float>();
  int64_t count = x.numel();
  keep.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    switch (x.dtype) {
      case DType::f64: keep[i] = static_cast<float>(x.ptr<double>()[i]); break;
      case DType::i64: keep[i] = static_cast<float>(x.ptr<int64_t>()[i]); break;
      case DType::i32: keep[i] = static_cast<float>(x.ptr<int32_t>()[i]); break;
      default: throw KernelError(std::string("unsupported input dtype ") + dtype_name(x.dtype));
    }
  }
  return keep.data();
}

int64_t rows_of(const Tensor& x, int64_t features) {
  if (x.rank() < 1 || x.rank() > 2) throw KernelError("input must be 1-D or 2-D, got " + shape_str(x.shape));
  if (x.dim(-1) != features)
    throw KernelError("the model has " + std::to_string(features) + " features but the input has " +
                      std::to_string(x.dim(-1)) + " columns");
  return x.rank() == 1 ? 1 : x.dim(0);
}

// One row of a libsvm classifier: pairwise scores (double sums, as ORT) into `pair_scores`, votes.
void one_vs_one(const Svm& s, const float* kernels, float* pair_scores, int64_t* votes) {
  size_t idx = 0;
  for (int64_t i = 0; i + 1 < s.classes; ++i) {
    for (int64_t j = i + 1; j < s.classes; ++j) {
      double sum = 0;
      const float* c1 = s.coef.data() + s.vectors * (j - 1) + s.start[i];
      const float* k1 = kernels + s.start[i];
      for (int64_t m = 0; m < s.per_class[i]; ++m) sum += c1[m] * k1[m];
      const float* c2 = s.coef.data() + s.vectors * i + s.start[j];
      const float* k2 = kernels + s.start[j];
      for (int64_t m = 0; m < s.per_class[j]; ++m) sum += c2[m] * k2[m];
      sum += s.rho[idx];
      pair_scores[idx++] = static_cast<float>(sum);
      ++votes[sum > 0 ? i : j];
    }
  }
}

void compute_svm_classifier(const KernelContext& ctx, const std::vector<const Tensor*>& in,
                            std::vector<Tensor>& out) {
  const Svm& s = *static_cast<const Svm*>(ctx.state);
  const Tensor& X = *in[0];
  int64_t rows = rows_of(X, s.features);
  std::vector<float> converted;
  const float* x = as_floats(X, converted);
  int64_t nc = s.classes, pairs = nc * (nc - 1) / 2;
  bool proba = !s.prob_a.empty();
  // Scores per row: one per class, except a libsvm model without probabilities (one per pair,
  // and two for a binary model, the second derived from the first).
  int64_t width = nc;
  if (s.svc && !proba) width = nc > 2 ? pairs : 2;
  out[0] = Tensor::empty(DType::i64, {rows});
  out[1] = Tensor::empty(DType::f32, {rows, width});
  int64_t* y = out[0].ptr<int64_t>();
  float* z = out[1].ptr<float>();
  if (!s.svc) {
    kernel_dot(s, ctx, x, rows, s.coef.data(), nc, s.rho[0], z);
  }
  std::vector<float> kernels;
  if (s.svc) {
    kernels.resize(static_cast<size_t>(rows * s.vectors));
    kernel_dot(s, ctx, x, rows, s.support.data(), s.vectors, 0.f, kernels.data());
  }
  ctx.pool.parallel_for(rows, 64, [&](int64_t r0, int64_t r1) {
    std::vector<float> pair_scores(static_cast<size_t>(pairs)), coupled(static_cast<size_t>(nc * nc));
    std::vector<int64_t> votes(static_cast<size_t>(nc));
    for (int64_t r = r0; r < r1; ++r) {
      float* zr = z + r * width;
      int64_t best = 0;
      float max_weight = 0.f;
      if (s.svc) {
        std::fill(votes.begin(), votes.end(), 0);
        float* scores = proba ? pair_scores.data() : zr;
        one_vs_one(s, kernels.data() + r * s.vectors, scores, votes.data());
        if (proba) {
          std::fill(coupled.begin(), coupled.end(), 0.f);
          size_t idx = 0;
          for (int64_t i = 0; i + 1 < nc; ++i)
            for (int64_t j = i + 1; j < nc; ++j, ++idx) {
              float p = 1.f - compute_logistic(scores[idx] * s.prob_a[idx] + s.prob_b[idx]);
              p = std::min(std::max(p, 1.0e-7f), 1 - 1.0e-7f);
              coupled[i * nc + j] = p;
              coupled[j * nc + i] = 1 - p;
            }
          multiclass_probability(nc, coupled.data(), zr);
        }
        best = std::max_element(votes.begin(), votes.end()) - votes.begin();
      } else {
        best = std::max_element(zr, zr + nc) - zr;
        max_weight = zr[best];
      }
      // ORT's ChooseClass: a binary model without probabilities picks by weight sign rules.
      int64_t label = s.labels[static_cast<size_t>(best)];
      if (pairs == 1 && !proba) {
        if ((s.all_positive && max_weight >= 0.5f) || (max_weight > 0 && !s.all_positive)) label = s.labels[1];
      }
      y[r] = label;
      // ORT's batched_update_scores_inplace over this row's scores.
      int64_t n_scores = s.svc && !proba ? pairs : nc;
      if (n_scores > 1) {
        apply_post_transform(s.transform, zr, n_scores, zr);
      } else if (s.transform == PostTransform::kNone) {
        float v = zr[0];
        zr[0] = -v;
        zr[1] = v;
      } else {  // ORT 1.32 writes [1 - v, v], v the score, through the logistic for LOGISTIC
        float v = s.transform == PostTransform::kLogistic ? compute_logistic(zr[0]) : zr[0];
        zr[0] = 1.f - v;
        zr[1] = v;
      }
    }
  });
}

void compute_svm_regressor(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Svm& s = *static_cast<const Svm*>(ctx.state);
  const Tensor& X = *in[0];
  int64_t rows = rows_of(X, s.features);
  out[0] = Tensor::empty(DType::f32, {rows, 1});
  float* y = out[0].ptr<float>();
  const float* x = X.ptr<float>();
  if (s.svc) {
    std::vector<float> kernels(static_cast<size_t>(rows * s.vectors));
    kernel_dot(s, ctx, x, rows, s.support.data(), s.vectors, 0.f, kernels.data());
    for (int64_t r = 0; r < rows; ++r)
      y[r] = dot_f32(kernels.data() + r * s.vectors, s.coef.data(), s.vectors, ctx.simd) + s.rho[0];
  } else {
    kernel_dot(s, ctx, x, rows, s.coef.data(), 1, s.rho[0], y);
  }
  if (s.one_class)
    for (int64_t r = 0; r < rows; ++r) y[r] = y[r] > 0.f ? 1.f : -1.f;
}

std::string check_svm(const NodeInfo& n) {
  if (n.input_rank(0) > 2) return n.op_type + ": input of rank > 2 not supported";
  try {
    if (n.op_type == "SVMClassifier") build_classifier(n);
    else build_regressor(n);
  } catch (const KernelError& e) {
    return n.op_type + ": " + e.what();
  }
  return "";
}

std::shared_ptr<void> prepare_svm(const NodeInfo& n, int) {
  if (n.op_type == "SVMClassifier") return build_classifier(n);
  return build_regressor(n);
}

std::vector<DType> label_and_scores(const NodeInfo&) { return {DType::i64, DType::f32}; }

}  // namespace

void register_ml_svm(std::vector<Kernel>& k) {
  const char* ml = "ai.onnx.ml";
  k.push_back(Kernel("SVMClassifier", ml).opsets(1, 5)
              .types({DType::f32, DType::f64, DType::i64, DType::i32}).check(check_svm)
              .outputs(label_and_scores).compute(compute_svm_classifier).prepare(prepare_svm));
  k.push_back(Kernel("SVMRegressor", ml).opsets(1, 5).types({DType::f32}).check(check_svm)
              .compute(compute_svm_regressor).prepare(prepare_svm));
}

}  // namespace xinrt
