// ai.onnx.ml TreeEnsembleClassifier / TreeEnsembleRegressor with ONNX Runtime's semantics:
// node modes, NaN with missing_value_tracks_true, aggregation (SUM/AVERAGE/MIN/MAX), base_values,
// post-transforms and the binary-classifier special cases of tree_ensemble_aggregator.h.
// The trees are packed at plan time: one flat node array, each tree's nodes contiguous in
// depth-first order, leaves pointing into one flat (target, weight) array. Rows run in parallel
// (trees outer, rows inner within a chunk, so each row sums its trees in ORT's order); a single
// row with many trees splits the trees instead.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/ml_common.h"
#include "core/registry.h"

namespace xinrt {
namespace {

enum Mode : uint8_t { kLeaf, kLeq, kLt, kGte, kGt, kEq, kNeq };
enum class Agg { kSum, kAverage, kMin, kMax };

struct PackedNode {
  float threshold;
  int32_t feature;
  // Branch: the true child's then the false child's index into nodes (an array, so a walk picks
  // one by index, not by a branch the data decides). Leaf: its weights [kids[0], kids[1]).
  int32_t kids[2];
  uint8_t mode;
  uint8_t missing_true;
  uint8_t one_weight;  // a leaf with one weight: target in `feature`, value in `threshold`
};

struct LeafWeight {
  int32_t target;
  float value;
};

struct Forest {
  std::vector<PackedNode> nodes;
  std::vector<int32_t> roots;
  std::vector<LeafWeight> weights;
  int64_t n_targets = 1;  // targets (regressor) or classes (classifier)
  int32_t max_feature = -1;
  Agg agg = Agg::kSum;
  PostTransform transform = PostTransform::kNone;
  std::vector<float> base_values;
  // Classifier only.
  bool classifier = false;
  std::vector<int64_t> labels;
  bool binary_case = false;
  bool weights_all_positive = true;
  // Traversal: every branch's mode when they share one (else kLeaf), any NaN-tracking node.
  int uniform_mode = kLeaf;
  bool any_missing = false;
};

Mode parse_mode(const std::string& s) {
  if (s == "BRANCH_LEQ") return kLeq;
  if (s == "BRANCH_LT") return kLt;
  if (s == "BRANCH_GTE") return kGte;
  if (s == "BRANCH_GT") return kGt;
  if (s == "BRANCH_EQ") return kEq;
  if (s == "BRANCH_NEQ") return kNeq;
  if (s == "LEAF") return kLeaf;
  throw KernelError("unknown node mode '" + s + "'");
}

Agg parse_agg(const std::string& s) {
  if (s == "SUM") return Agg::kSum;
  if (s == "AVERAGE") return Agg::kAverage;
  if (s == "MIN") return Agg::kMin;
  if (s == "MAX") return Agg::kMax;
  throw KernelError("unknown aggregate_function '" + s + "'");
}

// Builds the packed forest from the node's attributes; throws KernelError on a malformed or
// unsupported model (the check turns that into a decline). `shared_ok`: a node may be the child
// of several branches (the opset-5 rewrite's BRANCH_EQ chains share their true child; that
// rewrite has already refused cycles), it is then packed once.
std::shared_ptr<Forest> build_forest(const NodeInfo& n, bool shared_ok = false) {
  if (n.op_type == "TreeEnsemble") return build_forest(tree_ensemble_v5_as_v3(n), true);
  for (const char* a : {"nodes_values_as_tensor", "nodes_hitrates_as_tensor", "base_values_as_tensor",
                        "target_weights_as_tensor", "class_weights_as_tensor"})
    if (n.has_attr(a)) throw KernelError(std::string("attribute ") + a + " not supported");
  auto f = std::make_shared<Forest>();
  f->classifier = n.op_type == "TreeEnsembleClassifier";
  const char* w_prefix = f->classifier ? "class_" : "target_";
  if (f->classifier) {
    if (n.has_attr("classlabels_strings"))
      throw KernelError("string class labels (classlabels_strings) not supported; int64 labels only");
    f->labels = n.attr_ints("classlabels_int64s");
    if (f->labels.size() < 2) throw KernelError("needs at least 2 classlabels_int64s");
    f->n_targets = static_cast<int64_t>(f->labels.size());
  } else {
    f->n_targets = n.attr_int("n_targets", 1);
    if (f->n_targets < 1) throw KernelError("n_targets must be >= 1");
    f->agg = parse_agg(n.attr_string("aggregate_function", "SUM"));
  }
  f->transform = parse_post_transform(n.attr_string("post_transform", "NONE"));
  f->base_values = attr_floats(n, "base_values");

  std::vector<int64_t> tree_ids = n.attr_ints("nodes_treeids"), node_ids = n.attr_ints("nodes_nodeids"),
                       features = n.attr_ints("nodes_featureids"), true_ids = n.attr_ints("nodes_truenodeids"),
                       false_ids = n.attr_ints("nodes_falsenodeids"),
                       missing = n.attr_ints("nodes_missing_value_tracks_true");
  std::vector<float> values = attr_floats(n, "nodes_values");
  std::vector<std::string> modes = attr_strings(n, "nodes_modes");
  size_t count = tree_ids.size();
  if (count == 0) throw KernelError("no tree nodes");
  if (node_ids.size() != count || features.size() != count || true_ids.size() != count ||
      false_ids.size() != count || values.size() != count || modes.size() != count ||
      (!missing.empty() && missing.size() != count))
    throw KernelError("nodes_* attributes differ in length");

  std::map<std::pair<int64_t, int64_t>, size_t> index;  // (tree, node id) -> attribute position
  std::vector<int64_t> tree_order;
  for (size_t i = 0; i < count; ++i) {
    if (!index.emplace(std::make_pair(tree_ids[i], node_ids[i]), i).second)
      throw KernelError("node " + std::to_string(node_ids[i]) + " of tree " + std::to_string(tree_ids[i]) +
                        " defined twice");
    if (i == 0 || tree_ids[i] != tree_ids[i - 1]) {
      if (std::find(tree_order.begin(), tree_order.end(), tree_ids[i]) != tree_order.end())
        throw KernelError("nodes of one tree are not contiguous");
      tree_order.push_back(tree_ids[i]);  // a tree's root is its first node, as in ORT
    }
  }

  // Leaf weights, grouped per (tree, node).
  std::vector<int64_t> w_trees = n.attr_ints(std::string(w_prefix) + "treeids"),
                       w_nodes = n.attr_ints(std::string(w_prefix) + "nodeids"),
                       w_ids = n.attr_ints(std::string(w_prefix) + "ids");
  std::vector<float> w_values = attr_floats(n, std::string(w_prefix) + "weights");
  if (w_nodes.size() != w_trees.size() || w_ids.size() != w_trees.size() || w_values.size() != w_trees.size())
    throw KernelError(std::string(w_prefix) + "* attributes differ in length");
  std::vector<std::vector<LeafWeight>> leaf_weights(count);
  std::vector<bool> class_seen(static_cast<size_t>(f->n_targets), false);
  for (size_t i = 0; i < w_trees.size(); ++i) {
    auto it = index.find({w_trees[i], w_nodes[i]});
    if (it == index.end()) throw KernelError("a weight refers to a missing node");
    if (w_ids[i] < 0 || w_ids[i] >= f->n_targets) throw KernelError("a weight's target/class id is out of range");
    leaf_weights[it->second].push_back({static_cast<int32_t>(w_ids[i]), w_values[i]});
    class_seen[static_cast<size_t>(w_ids[i])] = true;
    if (w_values[i] < 0) f->weights_all_positive = false;
  }
  if (f->classifier) {
    size_t distinct = static_cast<size_t>(std::count(class_seen.begin(), class_seen.end(), true));
    f->binary_case = f->n_targets == 2 && distinct == 1;
  }

  // Pack each tree depth-first from its root.
  std::vector<int32_t> packed_of(count, -1);
  bool saw_branch = false;
  f->nodes.reserve(count);
  for (int64_t tree : tree_order) {
    // The root: the tree's first node in attribute order.
    size_t root = count;
    for (size_t i = 0; i < count; ++i)
      if (tree_ids[i] == tree) {
        root = i;
        break;
      }
    f->roots.push_back(static_cast<int32_t>(f->nodes.size()));
    std::vector<std::pair<size_t, int32_t>> stack = {{root, -1}};  // (attr index, parent slot to patch)
    std::vector<bool> is_true_child = {false};
    while (!stack.empty()) {
      auto [i, parent] = stack.back();
      bool as_true = is_true_child.back();
      stack.pop_back();
      is_true_child.pop_back();
      if (packed_of[i] >= 0) {
        if (!shared_ok || parent < 0) throw KernelError("tree " + std::to_string(tree) + " is not a tree (shared node)");
        f->nodes[parent].kids[as_true ? 0 : 1] = packed_of[i];
        continue;
      }
      int32_t slot = static_cast<int32_t>(f->nodes.size());
      packed_of[i] = slot;
      if (parent >= 0) f->nodes[parent].kids[as_true ? 0 : 1] = slot;
      PackedNode p{};
      p.mode = parse_mode(modes[i]);
      p.threshold = values[i];
      p.missing_true = !missing.empty() && missing[i] != 0;
      if (p.mode == kLeaf) {
        p.kids[0] = static_cast<int32_t>(f->weights.size());
        for (const LeafWeight& w : leaf_weights[i]) f->weights.push_back(w);
        p.kids[1] = static_cast<int32_t>(f->weights.size());
        if (leaf_weights[i].size() == 1) {  // kept in the node: no second load per leaf
          p.one_weight = 1;
          p.feature = leaf_weights[i][0].target;
          p.threshold = leaf_weights[i][0].value;
        }
        f->nodes.push_back(p);
        continue;
      }
      if (!leaf_weights[i].empty()) throw KernelError("weights on a branch node");
      if (features[i] < 0 || features[i] > std::numeric_limits<int32_t>::max())
        throw KernelError("negative feature id");
      p.feature = static_cast<int32_t>(features[i]);
      f->max_feature = std::max(f->max_feature, p.feature);
      f->any_missing = f->any_missing || p.missing_true;
      if (!saw_branch) f->uniform_mode = p.mode;
      else if (f->uniform_mode != p.mode) f->uniform_mode = kLeaf;
      saw_branch = true;
      f->nodes.push_back(p);
      auto t = index.find({tree, true_ids[i]}), e = index.find({tree, false_ids[i]});
      if (t == index.end() || e == index.end())
        throw KernelError("a branch of tree " + std::to_string(tree) + " points to a missing node");
      stack.push_back({e->second, slot});
      is_true_child.push_back(false);
      stack.push_back({t->second, slot});
      is_true_child.push_back(true);
    }
  }
  return f;
}

template <int M>  // a Mode; kLeaf: read each node's own mode
inline bool branch_true(const PackedNode* p, float v) {
  int mode = M == kLeaf ? p->mode : M;
  switch (mode) {
    case kLeq: return v <= p->threshold;
    case kLt: return v < p->threshold;
    case kGte: return v >= p->threshold;
    case kGt: return v > p->threshold;
    case kEq: return v == p->threshold;
    default: return v != p->threshold;  // kNeq
  }
}

// The leaves of n walks in lockstep, so their dependent loads overlap: walk i starts at root
// roots[i * root_step] and reads row x + i * x_step (n rows down one tree, or one row down n
// trees). M fixes the compare when every branch uses one mode; Missing = false drops the NaN
// test when no node has missing_value_tracks_true.
template <int M, bool Missing>
void leaves_of(const PackedNode* nodes, const int32_t* roots, int64_t root_step, const float* x,
               int64_t x_step, int n, const PackedNode** out) {
  for (int i = 0; i < n; ++i) out[i] = nodes + roots[i * root_step];
  for (bool moving = true; moving;) {
    moving = false;
    for (int i = 0; i < n; ++i) {
      const PackedNode* p = out[i];
      if (p->mode == kLeaf) continue;
      float v = x[i * x_step + p->feature];
      bool t = branch_true<M>(p, v);
      if (Missing) t = t | (p->missing_true & std::isnan(v));  // no branch on NaN
      out[i] = nodes + p->kids[!t];
      moving = true;
    }
  }
}

using LeavesFn = void (*)(const PackedNode*, const int32_t*, int64_t, const float*, int64_t, int,
                          const PackedNode**);

template <int M>
LeavesFn pick_missing(bool missing) {
  return missing ? leaves_of<M, true> : leaves_of<M, false>;
}

LeavesFn pick_leaves(int uniform_mode, bool missing) {
  switch (uniform_mode) {
    case kLeq: return pick_missing<kLeq>(missing);
    case kLt: return pick_missing<kLt>(missing);
    case kGte: return pick_missing<kGte>(missing);
    case kGt: return pick_missing<kGt>(missing);
    default: return pick_missing<kLeaf>(missing);
  }
}

// Per-row accumulator: scores and has_score flags for n_targets slots.
struct Acc {
  float* score;
  uint8_t* has;
};

inline void add_weight(Agg agg, Acc a, int32_t target, float value) {
  float& s = a.score[target];
  uint8_t& h = a.has[target];
  switch (agg) {
    case Agg::kMin: s = (!h || value < s) ? value : s; break;
    case Agg::kMax: s = (!h || value > s) ? value : s; break;
    default: s += value; break;
  }
  h = 1;
}

inline void accumulate(const Forest& f, const PackedNode* leaf, Acc a) {
  if (leaf->one_weight) return add_weight(f.agg, a, leaf->feature, leaf->threshold);
  const LeafWeight* end = f.weights.data() + leaf->kids[1];
  for (const LeafWeight* w = f.weights.data() + leaf->kids[0]; w < end; ++w)
    add_weight(f.agg, a, w->target, w->value);
}

inline void merge(const Forest& f, Acc into, const float* score, const uint8_t* has) {
  for (int64_t t = 0; t < f.n_targets; ++t) {
    if (!has[t]) continue;
    float& s = into.score[t];
    switch (f.agg) {
      case Agg::kMin: s = into.has[t] && s < score[t] ? s : score[t]; break;
      case Agg::kMax: s = into.has[t] && s > score[t] ? s : score[t]; break;
      default: s += score[t]; break;
    }
    into.has[t] = 1;
  }
}

// Regressor: ORT's TreeAggregator{Sum,Average,Min,Max}::FinalizeScores(1).
void finalize_regressor(const Forest& f, Acc a, float* z) {
  int64_t nt = f.n_targets;
  size_t n_trees = f.roots.size();
  if (nt == 1) {
    float origin = f.base_values.size() == 1 ? f.base_values[0] : 0.f;
    float s = a.score[0];
    if (f.agg == Agg::kAverage) s /= static_cast<float>(n_trees);
    if (f.agg == Agg::kMin || f.agg == Agg::kMax) s = a.has[0] ? s + origin : origin;
    else s += origin;
    z[0] = f.transform == PostTransform::kProbit ? compute_probit(s) : s;
    return;
  }
  bool use_base = f.base_values.size() == static_cast<size_t>(nt);
  for (int64_t t = 0; t < nt; ++t) {
    float s = a.has[t] ? a.score[t] : 0.f;
    if (f.agg == Agg::kAverage) s = a.score[t] / static_cast<float>(n_trees);
    if (use_base) s = f.agg == Agg::kMin || f.agg == Agg::kMax ? f.base_values[t] + s : s + f.base_values[t];
    a.score[t] = s;
  }
  apply_post_transform(f.transform, a.score, nt, z);
}

// ORT's TreeAggregatorClassifier::_set_score_binary.
int64_t binary_label(const Forest& f, int& second, float s0, bool h0, float s1, bool h1) {
  float pos = h1 ? s1 : (h0 ? s0 : 0.f);
  if (f.binary_case) {
    if (f.weights_all_positive) {
      second = pos > 0.5f ? 0 : 1;
      return pos > 0.5f ? f.labels[1] : f.labels[0];
    }
    second = pos > 0.f ? 2 : 3;
    return pos > 0.f ? f.labels[1] : f.labels[0];
  }
  return pos > 0.f ? 1 : 0;  // ORT's default positive/negative labels
}

// Classifier: ORT's TreeAggregatorClassifier::FinalizeScores (n_classes >= 2).
int64_t finalize_classifier(const Forest& f, Acc a, float* z) {
  int64_t nc = f.n_targets;
  const std::vector<float>& base = f.base_values;
  if (nc > 2) {
    for (size_t k = 0; k < base.size() && static_cast<int64_t>(k) < nc; ++k) {
      a.score[k] = a.has[k] ? a.score[k] + base[k] : base[k];
      a.has[k] = 1;
    }
    int64_t best = -1;
    float best_w = 0.f;
    for (int64_t k = 0; k < nc; ++k)
      if (a.has[k] && (best == -1 || a.score[k] > best_w)) {
        best = k;
        best_w = a.score[k];
      }
    if (best < 0) throw KernelError("TreeEnsembleClassifier: a row reached no class weight");
    for (int64_t k = 0; k < nc; ++k)
      if (!a.has[k]) a.score[k] = 0.f;
    apply_post_transform(f.transform, a.score, nc, z);
    return f.labels[static_cast<size_t>(best)];
  }
  int second = -1;
  size_t n_scores = 2;
  if (base.size() == 2) {
    if (a.has[1]) {
      a.score[1] = base[1] + a.score[0];
      a.score[0] = -a.score[1];
      a.has[1] = 1;
    } else {
      a.score[1] += base[1];
      a.score[0] += base[0];
    }
  } else if (base.size() == 1) {
    a.score[0] += base[0];
    if (!a.has[1]) n_scores = 1;
  } else if (base.empty()) {
    second = 3;
    if (!a.has[1]) n_scores = 1;
  }
  int64_t label = n_scores == 2 && a.has[1] ? binary_label(f, second, a.score[0], a.has[0], a.score[1], true)
                                            : binary_label(f, second, a.score[0], a.has[0], 0.f, false);
  if (n_scores == 2) {
    apply_post_transform(f.transform, a.score, 2, z);
  } else if (!write_binary_scores(a.score[0], f.transform, second, z)) {
    throw KernelError("TreeEnsembleClassifier: this row yields one score only (ONNX Runtime leaves the "
                      "second probability unset)");
  }
  return label;
}

std::string check_tree(const NodeInfo& n) {
  std::string r = require_dtype(n, 0, {DType::f32});
  if (!r.empty()) return r;
  if (n.input_rank(0) > 2) return n.op_type + ": input of rank > 2 not supported";
  try {
    auto f = build_forest(n);
    if (f->classifier && f->transform == PostTransform::kProbit && f->binary_case)
      return n.op_type + ": PROBIT on a one-column binary model leaves ONNX Runtime's second column unset";
    if (f->classifier && f->binary_case && !f->weights_all_positive && f->transform != PostTransform::kLogistic)
      return n.op_type + ": one-column binary scores with negative weights and no LOGISTIC (ONNX Runtime "
             "versions disagree on the column order)";
    if (!f->classifier && f->n_targets == 1 && f->transform != PostTransform::kNone &&
        f->transform != PostTransform::kProbit)
      return n.op_type + ": a single-target post_transform other than NONE/PROBIT (ONNX Runtime ignores it)";
  } catch (const KernelError& e) {
    return n.op_type + ": " + e.what();
  }
  return "";
}

std::shared_ptr<void> prepare_tree(const NodeInfo& n, int) { return build_forest(n); }

std::vector<DType> tree_output_dtypes(const NodeInfo& n) {
  if (n.op_type == "TreeEnsembleClassifier") return {DType::i64, DType::f32};
  return {DType::f32};
}

void compute_tree(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Forest& f = *static_cast<const Forest*>(ctx.state);
  const Tensor& X = *in[0];
  if (X.dtype != DType::f32) throw KernelError("float32 input only");
  if (X.rank() < 1 || X.rank() > 2) throw KernelError("input must be 1-D or 2-D, got " + shape_str(X.shape));
  int64_t rows = X.rank() == 1 ? 1 : X.dim(0);
  int64_t cols = X.dim(-1);
  if (f.max_feature >= cols)
    throw KernelError("the model reads feature " + std::to_string(f.max_feature) + " but the input has " +
                      std::to_string(cols) + " columns");
  int64_t nt = f.n_targets;
  Tensor labels;
  if (f.classifier) {
    labels = Tensor::empty(DType::i64, {rows});
    out[0] = labels;
    out[1] = Tensor::empty(DType::f32, {rows, nt});
  } else {
    out[0] = Tensor::empty(DType::f32, {rows, nt});
  }
  float* z = (f.classifier ? out[1] : out[0]).ptr<float>();
  int64_t* y = f.classifier ? out[0].ptr<int64_t>() : nullptr;
  const float* x = X.ptr<float>();
  const PackedNode* nodes = f.nodes.data();
  int64_t n_trees = static_cast<int64_t>(f.roots.size());
  LeavesFn leaves = pick_leaves(f.uniform_mode, f.any_missing);
  auto finish = [&](int64_t r, Acc a) {
    if (f.classifier) y[r] = finalize_classifier(f, a, z + r * nt);
    else finalize_regressor(f, a, z + r * nt);
  };

  constexpr int64_t kLockstep = 8;  // walks in flight together
  // One row down trees [t0, t1), kLockstep trees at a time, in tree order.
  auto walk_trees = [&](int64_t t0, int64_t t1, const float* row, Acc a) {
    for (int64_t t = t0; t < t1; t += kLockstep) {
      int n = static_cast<int>(std::min(kLockstep, t1 - t));
      const PackedNode* found[kLockstep];
      leaves(nodes, f.roots.data() + t, 1, row, 0, n, found);
      for (int i = 0; i < n; ++i) accumulate(f, found[i], a);
    }
  };
  if (rows == 1) {  // one row: walk kLockstep trees at a time; split the trees when there are many
    int64_t parts = std::max<int64_t>(1, std::min<int64_t>(ctx.pool.num_threads(), n_trees / 256));
    std::vector<float> scores(static_cast<size_t>(parts * nt), 0.f);
    std::vector<uint8_t> has(static_cast<size_t>(parts * nt), 0);
    if (parts == 1) {
      walk_trees(0, n_trees, x, {scores.data(), has.data()});
    } else {
      ctx.pool.parallel_for(parts, 1, [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p)
          walk_trees(p * n_trees / parts, (p + 1) * n_trees / parts, x, {scores.data() + p * nt, has.data() + p * nt});
      });
    }
    for (int64_t p = 1; p < parts; ++p)
      merge(f, {scores.data(), has.data()}, scores.data() + p * nt, has.data() + p * nt);
    finish(0, {scores.data(), has.data()});
    return;
  }
  // Rows in blocks: trees outer, rows inner, so each tree's nodes load once per block (walking
  // each row down every tree in turn measured slower here, even for a forest that fits in L2).
  constexpr int64_t kBlock = 256;
  ctx.pool.parallel_for(rows, 8, [&](int64_t b, int64_t e) {
    std::vector<float> scores(static_cast<size_t>(kBlock * nt));
    std::vector<uint8_t> has(static_cast<size_t>(kBlock * nt));
    for (int64_t r0 = b; r0 < e; r0 += kBlock) {
      int64_t r1 = std::min(e, r0 + kBlock);
      std::fill(scores.begin(), scores.end(), 0.f);
      std::fill(has.begin(), has.end(), 0);
      for (int64_t t = 0; t < n_trees; ++t) {
        for (int64_t g = r0; g < r1; g += kLockstep) {
          int n = static_cast<int>(std::min(kLockstep, r1 - g));
          const PackedNode* found[kLockstep];
          leaves(nodes, f.roots.data() + t, 0, x + g * cols, cols, n, found);
          for (int i = 0; i < n; ++i)
            accumulate(f, found[i], {scores.data() + (g + i - r0) * nt, has.data() + (g + i - r0) * nt});
        }
      }
      for (int64_t r = r0; r < r1; ++r) finish(r, {scores.data() + (r - r0) * nt, has.data() + (r - r0) * nt});
    }
  });
}

}  // namespace

void register_ml_tree(std::vector<Kernel>& k) {
  for (const char* op : {"TreeEnsembleClassifier", "TreeEnsembleRegressor"})
    k.push_back(Kernel(op, "ai.onnx.ml").opsets(1, 5).types({DType::f32}, kDTypesInCheck).check(check_tree)
                .outputs(tree_output_dtypes).compute(compute_tree).prepare(prepare_tree));
  k.push_back(Kernel("TreeEnsemble", "ai.onnx.ml").opsets(5, 5).types({DType::f32}, kDTypesInCheck)
              .check(check_tree).outputs(tree_output_dtypes).compute(compute_tree).prepare(prepare_tree));
}

}  // namespace xinrt
