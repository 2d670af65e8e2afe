// Einsum over explicit letters (any number of operands, repeated letters for diagonals, implicit
// or explicit output), as one sum of products per output element; float sums accumulate in
// double. Equations with an ellipsis ("...") are declined.
#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include "core/registry.h"

namespace xinrt {
namespace {

struct Equation {
  std::vector<std::string> inputs;
  std::string output;
};

std::string strip_spaces(const std::string& s) {
  std::string t;
  for (char c : s)
    if (c != ' ') t += c;
  return t;
}

// Parses the equation; "" on success, else why it is not supported.
std::string parse(const std::string& text, Equation* eq) {
  std::string s = strip_spaces(text);
  if (s.find('.') != std::string::npos) return "Einsum: ellipsis ('...') not supported";
  size_t arrow = s.find("->");
  std::string lhs = arrow == std::string::npos ? s : s.substr(0, arrow);
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    eq->inputs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::map<char, int> count;
  for (const std::string& term : eq->inputs)
    for (char c : term) {
      if (!std::isalpha(static_cast<unsigned char>(c))) return std::string("Einsum: unexpected character '") + c + "'";
      ++count[c];
    }
  if (arrow != std::string::npos) {
    eq->output = s.substr(arrow + 2);
    for (char c : eq->output) {
      if (!count.count(c)) return std::string("Einsum: output letter '") + c + "' is in no input";
      if (std::count(eq->output.begin(), eq->output.end(), c) != 1) return std::string("Einsum: output letter '") + c + "' repeats";
    }
  } else {  // implicit: letters seen once, in alphabetical order (numpy's rule)
    for (const auto& kv : count)
      if (kv.second == 1) eq->output += kv.first;
    std::sort(eq->output.begin(), eq->output.end());  // ASCII: upper case first, as numpy
  }
  return "";
}

std::string check_einsum(const NodeInfo& n) {
  Equation eq;
  std::string r = parse(n.attr_string("equation", ""), &eq);
  if (!r.empty()) return r;
  if (eq.inputs.size() != n.input_dtypes.size())
    return "Einsum: the equation names " + std::to_string(eq.inputs.size()) + " operands, the node has " +
           std::to_string(n.input_dtypes.size());
  for (size_t i = 0; i < n.input_dtypes.size(); ++i) {
    r = require_dtype(n, i, {DType::f32, DType::f64, DType::i64, DType::i32});
    if (!r.empty()) return r;
    int64_t rank = n.input_rank(i);
    if (rank >= 0 && rank != static_cast<int64_t>(eq.inputs[i].size()))
      return "Einsum: operand " + std::to_string(i) + " has rank " + std::to_string(rank) + ", the equation gives it " +
             std::to_string(eq.inputs[i].size()) + " letters";
  }
  return "";
}

template <class T, class Acc>
void einsum_typed(const Equation& eq, const std::vector<const Tensor*>& in, Tensor& Y, ThreadPool& pool) {
  // Letter sizes, then output letters first and summed letters after.
  std::map<char, int64_t> size;
  for (size_t i = 0; i < in.size(); ++i)
    for (size_t d = 0; d < eq.inputs[i].size(); ++d) {
      char c = eq.inputs[i][d];
      int64_t s = in[i]->shape[d];
      auto it = size.find(c);
      if (it != size.end() && it->second != s)
        throw KernelError(std::string("Einsum: letter '") + c + "' has sizes " + std::to_string(it->second) + " and " + std::to_string(s));
      size[c] = s;
    }
  std::string letters = eq.output;
  for (const auto& kv : size)
    if (eq.output.find(kv.first) == std::string::npos) letters += kv.first;
  size_t nl = letters.size(), no = eq.output.size(), k = in.size();
  // stride[i][l]: how far operand i moves when letter l steps (summed over repeats).
  std::vector<std::vector<int64_t>> stride(k, std::vector<int64_t>(nl, 0));
  for (size_t i = 0; i < k; ++i) {
    int64_t s = 1;
    for (int64_t d = static_cast<int64_t>(eq.inputs[i].size()) - 1; d >= 0; --d) {
      stride[i][letters.find(eq.inputs[i][d])] += s;
      s *= in[i]->shape[d];
    }
  }
  Shape out_shape;
  std::vector<int64_t> dims(nl);
  for (size_t l = 0; l < nl; ++l) dims[l] = size[letters[l]];
  for (size_t l = 0; l < no; ++l) out_shape.push_back(dims[l]);
  Y = Tensor::empty(in[0]->dtype, out_shape);
  T* y = Y.ptr<T>();
  int64_t summed = 1;
  for (size_t l = no; l < nl; ++l) summed *= dims[l];
  pool.parallel_for(Y.numel(), std::max<int64_t>(1, 4096 / std::max<int64_t>(summed, 1)), [&](int64_t b, int64_t e) {
    std::vector<int64_t> base(k), off(k), idx(nl);
    for (int64_t t = b; t < e; ++t) {
      std::fill(base.begin(), base.end(), 0);
      int64_t rem = t;
      for (int64_t l = static_cast<int64_t>(no) - 1; l >= 0; --l) {
        int64_t v = rem % dims[l];
        rem /= dims[l];
        for (size_t i = 0; i < k; ++i) base[i] += v * stride[i][l];
      }
      off = base;
      std::fill(idx.begin(), idx.end(), 0);
      Acc acc = 0;
      for (int64_t s = 0; s < summed; ++s) {
        Acc p = 1;
        for (size_t i = 0; i < k; ++i) p *= static_cast<Acc>(in[i]->ptr<T>()[off[i]]);
        acc += p;
        for (int64_t l = static_cast<int64_t>(nl) - 1; l >= static_cast<int64_t>(no); --l) {
          for (size_t i = 0; i < k; ++i) off[i] += stride[i][l];
          if (++idx[l] < dims[l]) break;
          for (size_t i = 0; i < k; ++i) off[i] -= stride[i][l] * idx[l];
          idx[l] = 0;
        }
      }
      y[t] = static_cast<T>(acc);
    }
  });
}

void compute_einsum(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  Equation eq;
  std::string r = parse(ctx.node.attr_string("equation", ""), &eq);
  if (!r.empty()) throw KernelError(r);
  if (eq.inputs.size() != in.size()) throw KernelError("Einsum: operand count differs from the equation");
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i] || in[i]->dtype != in[0]->dtype) throw KernelError("Einsum: operands must share one dtype");
    if (in[i]->rank() != static_cast<int64_t>(eq.inputs[i].size()))
      throw KernelError("Einsum: operand " + std::to_string(i) + " of shape " + shape_str(in[i]->shape) +
                        " does not match '" + eq.inputs[i] + "'");
  }
  switch (in[0]->dtype) {
    case DType::f32: einsum_typed<float, double>(eq, in, out[0], ctx.pool); break;
    case DType::f64: einsum_typed<double, double>(eq, in, out[0], ctx.pool); break;
    case DType::i64: einsum_typed<int64_t, int64_t>(eq, in, out[0], ctx.pool); break;
    case DType::i32: einsum_typed<int32_t, int64_t>(eq, in, out[0], ctx.pool); break;
    default: throw KernelError(std::string("Einsum: dtype ") + dtype_name(in[0]->dtype) + " not supported");
  }
}

}  // namespace

void register_einsum(std::vector<Kernel>& k) {
  k.push_back(Kernel("Einsum").opsets(12, kMaxOpset).types({DType::f32, DType::f64, DType::i64, DType::i32})
              .check(check_einsum).compute(compute_einsum));
}

}  // namespace xinrt
