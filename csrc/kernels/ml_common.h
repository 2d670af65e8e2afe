// Shared pieces of the ai.onnx.ml kernels: attribute readers and ONNX Runtime's post-transforms
// (ml_common.h there): logistic, softmax, softmax-zero, probit with ORT's erfinv approximation.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/registry.h"

namespace xinrt {

enum class PostTransform { kNone, kLogistic, kSoftmax, kSoftmaxZero, kProbit };

inline PostTransform parse_post_transform(const std::string& s) {
  if (s == "NONE") return PostTransform::kNone;
  if (s == "LOGISTIC") return PostTransform::kLogistic;
  if (s == "SOFTMAX") return PostTransform::kSoftmax;
  if (s == "SOFTMAX_ZERO") return PostTransform::kSoftmaxZero;
  if (s == "PROBIT") return PostTransform::kProbit;
  throw KernelError("unknown post_transform '" + s + "'");
}

// A float-list attribute (an int list or a single number also reads as floats).
inline std::vector<float> attr_floats(const NodeInfo& n, const std::string& name) {
  auto it = n.attrs.find(name);
  if (it == n.attrs.end()) return {};
  const Attribute& a = it->second;
  std::vector<float> v;
  if (a.kind == Attribute::kFloats) {
    for (double d : a.floats) v.push_back(static_cast<float>(d));
  } else if (a.kind == Attribute::kInts) {
    for (int64_t i : a.ints) v.push_back(static_cast<float>(i));
  } else if (a.kind == Attribute::kFloat) {
    v.push_back(static_cast<float>(a.f));
  } else {
    throw KernelError("attribute '" + name + "' must be a list of floats");
  }
  return v;
}

inline std::vector<std::string> attr_strings(const NodeInfo& n, const std::string& name) {
  auto it = n.attrs.find(name);
  if (it == n.attrs.end()) return {};
  if (it->second.kind == Attribute::kStrings) return it->second.strings;
  if (it->second.kind == Attribute::kString) return {it->second.s};
  if (it->second.kind == Attribute::kInts && it->second.ints.empty()) return {};
  throw KernelError("attribute '" + name + "' must be a list of strings");
}

inline float compute_logistic(float v) {
  float e = 1.f / (1.f + std::exp(-std::abs(v)));
  return v < 0 ? 1.f - e : e;
}

// ORT's ErfInv approximation (not the exact inverse), so PROBIT matches it.
inline float erfinv_ort(float x) {
  float sgn = x < 0 ? -1.0f : 1.0f;
  x = (1 - x) * (1 + x);
  float lg = std::log(x);
  float v = 2 / (3.14159f * 0.147f) + 0.5f * lg;
  float v2 = 1 / (0.147f) * lg;
  float v3 = -v + std::sqrt(v * v - v2);
  return sgn * std::sqrt(v3);
}

inline float compute_probit(float v) { return 1.41421356f * erfinv_ort(2 * v - 1); }

// n >= 2 scores -> out (may alias).
inline void apply_post_transform(PostTransform t, const float* s, int64_t n, float* out) {
  switch (t) {
    case PostTransform::kLogistic:
      for (int64_t i = 0; i < n; ++i) out[i] = compute_logistic(s[i]);
      break;
    case PostTransform::kProbit:
      for (int64_t i = 0; i < n; ++i) out[i] = compute_probit(s[i]);
      break;
    case PostTransform::kSoftmax: {
      float mx = -std::numeric_limits<float>::max();
      for (int64_t i = 0; i < n; ++i) mx = s[i] > mx ? s[i] : mx;
      float sum = 0.f;
      for (int64_t i = 0; i < n; ++i) sum += (out[i] = std::exp(s[i] - mx));
      for (int64_t i = 0; i < n; ++i) out[i] /= sum;
      break;
    }
    case PostTransform::kSoftmaxZero: {  // zeros stay zero
      float mx = -std::numeric_limits<float>::max();
      for (int64_t i = 0; i < n; ++i) mx = s[i] > mx ? s[i] : mx;
      float sum = 0.f;
      for (int64_t i = 0; i < n; ++i) {
        if (s[i] > 0.0000001f || s[i] < -0.0000001f) sum += (out[i] = std::exp(s[i] - mx));
        else out[i] = 0.f;
      }
      for (int64_t i = 0; i < n; ++i) out[i] /= sum;
      break;
    }
    default:
      for (int64_t i = 0; i < n; ++i) out[i] = s[i];
  }
}

// ORT's write_binary_scores: one score -> two columns, by `second` (0/1: all weights positive,
// 2: mixed and positive wins, 3: mixed and negative wins). False when ORT would write only one
// value (the caller must not leave the second column undefined).
inline bool write_binary_scores(float sc, PostTransform t, int second, float* out) {
  if (t == PostTransform::kProbit || second < 0 || second > 3) return false;
  if (second <= 1) {
    out[0] = 1.f - sc;
    out[1] = sc;
  } else if (t == PostTransform::kLogistic) {
    out[0] = compute_logistic(-sc);
    out[1] = compute_logistic(sc);
  } else if (second == 2) {
    out[0] = -sc;
    out[1] = sc;
  } else {
    out[0] = sc;
    out[1] = -sc;
  }
  return true;
}

// The opset-5 TreeEnsemble's attributes as TreeEnsembleRegressor's (ml_tree_v5.cc); throws
// KernelError for what it cannot convert exactly.
NodeInfo tree_ensemble_v5_as_v3(const NodeInfo& n);

void register_ml_tree(std::vector<Kernel>& out);
void register_ml_linear(std::vector<Kernel>& out);
void register_ml_svm(std::vector<Kernel>& out);
void register_ml_encoders(std::vector<Kernel>& out);

}  // namespace xinrt
