// The opset-5 ai.onnx.ml TreeEnsemble rewritten as the TreeEnsembleRegressor attributes that
// ml_tree.cc packs, as ONNX Runtime does it (TreeEnsembleAttributesV5::convert_to_v3): every tree
// is walked from its root, leaves become LEAF nodes with one weight, a BRANCH_MEMBER set becomes a
// chain of BRANCH_EQ nodes sharing the true branch.
#include <cmath>
#include <string>
#include <vector>

#include "core/registry.h"
#include "kernels/ml_common.h"

namespace xinrt {
namespace {

const char* kModeNames[] = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};
constexpr int kMember = 6;

// A tensor attribute's values as floats (float32 tensors only: double thresholds would change
// the comparisons) or, for nodes_modes, as uint8.
std::vector<float> tensor_floats(const NodeInfo& n, const std::string& name, bool required) {
  auto it = n.attrs.find(name);
  if (it == n.attrs.end()) {
    if (required) throw KernelError(name + " missing");
    return {};
  }
  const Attribute& a = it->second;
  if (a.kind != Attribute::kTensor || a.t.dtype != DType::f32)
    throw KernelError(name + " must be a float32 tensor (double models not supported)");
  return std::vector<float>(a.t.ptr<float>(), a.t.ptr<float>() + a.t.numel());
}

std::vector<uint8_t> tensor_modes(const NodeInfo& n) {
  auto it = n.attrs.find("nodes_modes");
  if (it == n.attrs.end()) throw KernelError("nodes_modes missing");
  const Attribute& a = it->second;
  if (a.kind != Attribute::kTensor || a.t.dtype != DType::u8) throw KernelError("nodes_modes must be a uint8 tensor");
  return std::vector<uint8_t>(a.t.ptr<uint8_t>(), a.t.ptr<uint8_t>() + a.t.numel());
}

Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::kInts;
  a.ints = std::move(v);
  return a;
}

struct V3 {
  std::vector<int64_t> tree, node, feature, true_id, false_id, missing;
  std::vector<double> value;
  std::vector<std::string> mode;
  std::vector<int64_t> w_tree, w_node, w_id;
  std::vector<double> w_value;
  bool any_missing = false;

  void push(int64_t t, int64_t id, const std::string& m, int64_t f, double v, int64_t yes, int64_t no, int64_t miss) {
    tree.push_back(t);
    node.push_back(id);
    mode.push_back(m);
    feature.push_back(f);
    value.push_back(v);
    true_id.push_back(yes);
    false_id.push_back(no);
    missing.push_back(miss);
  }
};

}  // namespace

NodeInfo tree_ensemble_v5_as_v3(const NodeInfo& n) {
  int64_t n_targets = n.attr_int("n_targets", 0);
  if (n_targets < 1) throw KernelError("n_targets must be positive");
  int64_t agg = n.attr_int("aggregate_function", 1), post = n.attr_int("post_transform", 0);
  const char* aggs[] = {"AVERAGE", "SUM", "MIN", "MAX"};
  if (agg < 0 || agg > 3) throw KernelError("unknown aggregate_function " + std::to_string(agg));
  // The spec numbers SOFTMAX 1 and LOGISTIC 2; ONNX Runtime reads them the other way round.
  if (post == 1 || post == 2)
    throw KernelError("post_transform SOFTMAX/LOGISTIC: the ONNX spec and ONNX Runtime disagree on their numbers");
  const char* posts[] = {"NONE", "", "", "SOFTMAX_ZERO", "PROBIT"};
  if (post < 0 || post > 4) throw KernelError("unknown post_transform " + std::to_string(post));

  std::vector<uint8_t> modes = tensor_modes(n);
  std::vector<float> splits = tensor_floats(n, "nodes_splits", true);
  std::vector<float> leaf_weights = tensor_floats(n, "leaf_weights", true);
  std::vector<float> members = tensor_floats(n, "membership_values", false);
  std::vector<int64_t> features = n.attr_ints("nodes_featureids"), true_ids = n.attr_ints("nodes_truenodeids"),
                       false_ids = n.attr_ints("nodes_falsenodeids"), true_leaf = n.attr_ints("nodes_trueleafs"),
                       false_leaf = n.attr_ints("nodes_falseleafs"), roots = n.attr_ints("tree_roots"),
                       targets = n.attr_ints("leaf_targetids"),
                       missing = n.attr_ints("nodes_missing_value_tracks_true");
  size_t count = modes.size();
  if (splits.size() != count || features.size() != count || true_ids.size() != count || false_ids.size() != count ||
      true_leaf.size() != count || false_leaf.size() != count || (!missing.empty() && missing.size() != count))
    throw KernelError("nodes_* attributes differ in length");
  if (targets.size() != leaf_weights.size()) throw KernelError("leaf_targetids and leaf_weights differ in length");
  if (roots.empty()) throw KernelError("tree_roots is empty");
  for (int64_t t : targets)
    if (t < 0 || t >= n_targets) throw KernelError("a leaf_targetids value is out of range");

  // Each BRANCH_MEMBER node's set: membership_values runs, NaN-separated, in node order.
  std::vector<std::vector<float>> sets(count);
  size_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    if (modes[i] > kMember) throw KernelError("unknown node mode " + std::to_string(modes[i]));
    if (modes[i] != kMember) continue;
    while (at < members.size() && !std::isnan(members[at])) sets[i].push_back(members[at++]);
    ++at;
    if (sets[i].empty()) throw KernelError("a BRANCH_MEMBER node has an empty set");
  }

  V3 out;
  for (size_t t = 0; t < roots.size(); ++t) {
    int64_t tree = static_cast<int64_t>(t), next_id = 0;
    if (roots[t] < 0 || static_cast<size_t>(roots[t]) >= count) throw KernelError("a tree root is out of range");
    size_t r = static_cast<size_t>(roots[t]);
    bool root_leaf = true_ids[r] == false_ids[r] && true_leaf[r] && false_leaf[r];
    // ORT then reads the leaf at the root's node index, the spec at the index it points to.
    if (root_leaf && true_ids[r] != roots[t])
      throw KernelError("a one-leaf tree whose root index differs from its leaf index (ONNX Runtime reads the "
                        "wrong leaf)");
    struct Item {
      int64_t index;
      bool leaf;
      int64_t parent_slot;  // V3 entry whose false id (or, if true_slot, true id) becomes this node
      bool true_slot;
    };
    std::vector<Item> stack = {{roots[t], root_leaf, -1, false}};
    std::vector<bool> seen(count, false);
    while (!stack.empty()) {
      Item it = stack.back();
      stack.pop_back();
      int64_t id = next_id++;
      if (it.parent_slot >= 0) (it.true_slot ? out.true_id : out.false_id)[it.parent_slot] = id;
      if (it.leaf) {
        if (it.index < 0 || static_cast<size_t>(it.index) >= targets.size()) throw KernelError("a leaf index is out of range");
        out.push(tree, id, "LEAF", 0, 0., 0, 0, 0);
        out.w_tree.push_back(tree);
        out.w_node.push_back(id);
        out.w_id.push_back(targets[it.index]);
        out.w_value.push_back(leaf_weights[it.index]);
        continue;
      }
      if (it.index < 0 || static_cast<size_t>(it.index) >= count) throw KernelError("a node index is out of range");
      size_t i = static_cast<size_t>(it.index);
      if (seen[i]) throw KernelError("tree " + std::to_string(t) + " is not a tree (a node is reached twice)");
      seen[i] = true;
      int64_t miss = missing.empty() ? 0 : missing[i];
      out.any_missing = out.any_missing || miss != 0;
      std::vector<int64_t> true_slots;  // entries whose true branch is this node's true child
      if (modes[i] == kMember) {
        // x in {a, b, c}: EQ a -> true, else EQ b -> true, else EQ c -> true / false.
        for (size_t k = 0; k < sets[i].size(); ++k) {
          if (k > 0) id = next_id++;
          true_slots.push_back(static_cast<int64_t>(out.tree.size()));
          out.push(tree, id, "BRANCH_EQ", features[i], sets[i][k], -1, k + 1 < sets[i].size() ? id + 1 : -1, miss);
        }
      } else {
        true_slots.push_back(static_cast<int64_t>(out.tree.size()));
        out.push(tree, id, kModeNames[modes[i]], features[i], splits[i], -1, -1, miss);
      }
      int64_t last = true_slots.back();
      stack.push_back({false_ids[i], false_leaf[i] != 0, last, false});
      stack.push_back({true_ids[i], true_leaf[i] != 0, last, true});
      // The chain's other EQ nodes share the true child: patched once its id is known, below.
      for (size_t k = 0; k + 1 < true_slots.size(); ++k) out.true_id[true_slots[k]] = -2 - last;
    }
  }
  // Resolve shared true branches (marked -2 - slot of the chain's last node).
  for (size_t k = 0; k < out.true_id.size(); ++k)
    if (out.true_id[k] <= -2) out.true_id[k] = out.true_id[static_cast<size_t>(-2 - out.true_id[k])];

  NodeInfo v3 = n;
  v3.op_type = "TreeEnsembleRegressor";
  v3.attrs.clear();
  v3.attrs["n_targets"].kind = Attribute::kInt;
  v3.attrs["n_targets"].i = n_targets;
  v3.attrs["aggregate_function"].kind = Attribute::kString;
  v3.attrs["aggregate_function"].s = aggs[agg];
  v3.attrs["post_transform"].kind = Attribute::kString;
  v3.attrs["post_transform"].s = posts[post];
  v3.attrs["nodes_treeids"] = ints_attr(out.tree);
  v3.attrs["nodes_nodeids"] = ints_attr(out.node);
  v3.attrs["nodes_featureids"] = ints_attr(out.feature);
  v3.attrs["nodes_truenodeids"] = ints_attr(out.true_id);
  v3.attrs["nodes_falsenodeids"] = ints_attr(out.false_id);
  if (out.any_missing) v3.attrs["nodes_missing_value_tracks_true"] = ints_attr(out.missing);
  v3.attrs["nodes_values"].kind = Attribute::kFloats;
  v3.attrs["nodes_values"].floats = out.value;
  v3.attrs["nodes_modes"].kind = Attribute::kStrings;
  v3.attrs["nodes_modes"].strings = out.mode;
  v3.attrs["target_treeids"] = ints_attr(out.w_tree);
  v3.attrs["target_nodeids"] = ints_attr(out.w_node);
  v3.attrs["target_ids"] = ints_attr(out.w_id);
  v3.attrs["target_weights"].kind = Attribute::kFloats;
  v3.attrs["target_weights"].floats = out.w_value;
  return v3;
}

}  // namespace xinrt
