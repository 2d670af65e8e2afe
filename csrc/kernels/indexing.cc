// Indexing and shape ops for every fixed-size dtype: Gather, Shape, Slice, Split, Expand.
#include <algorithm>
#include <cstring>

#include "core/registry.h"
#include "kernels/elementwise.h"

namespace xinrt {
namespace {

const std::vector<DType> kAllDTypes = {DType::f32, DType::f64, DType::f16, DType::i64,
                                       DType::i32, DType::i8,  DType::u8,  DType::boolean};

std::vector<int64_t> index_values(const Tensor* t, const std::string& what) {
  if (!t) return {};
  std::vector<int64_t> v(t->numel());
  if (t->dtype == DType::i64) std::copy(t->ptr<int64_t>(), t->ptr<int64_t>() + t->numel(), v.begin());
  else if (t->dtype == DType::i32) std::copy(t->ptr<int32_t>(), t->ptr<int32_t>() + t->numel(), v.begin());
  else throw KernelError(what + " must be int64 or int32, got " + dtype_name(t->dtype));
  return v;
}

int64_t axis_of(int64_t axis, int64_t rank, const std::string& op) {
  if (axis < -rank || axis >= rank)
    throw KernelError(op + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

// ---- Gather ----

std::string check_gather(const NodeInfo& n) { return require_dtype(n, 1, {DType::i64, DType::i32}); }

void compute_gather(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t axis = axis_of(ctx.node.attr_int("axis", 0), X.rank(), "Gather");
  std::vector<int64_t> idx = index_values(in[1], "Gather: indices");
  int64_t dim = X.shape[axis];
  for (int64_t& i : idx) {
    if (i < -dim || i >= dim)
      throw KernelError("Gather: index " + std::to_string(i) + " out of range for axis of size " + std::to_string(dim));
    if (i < 0) i += dim;
  }
  Shape shape(X.shape.begin(), X.shape.begin() + axis);
  shape.insert(shape.end(), in[1]->shape.begin(), in[1]->shape.end());
  shape.insert(shape.end(), X.shape.begin() + axis + 1, X.shape.end());
  Tensor Y = Tensor::empty(X.dtype, shape);
  int64_t outer = 1, inner = dtype_size(X.dtype);
  for (int64_t i = 0; i < axis; ++i) outer *= X.shape[i];
  for (int64_t i = axis + 1; i < X.rank(); ++i) inner *= X.shape[i];
  int64_t n = static_cast<int64_t>(idx.size());
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(Y.data);
  ctx.pool.parallel_for(outer * n, std::max<int64_t>(1, 65536 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / n, j = t % n;
      std::memcpy(y + t * inner, x + (o * dim + idx[j]) * inner, inner);
    }
  });
  out[0] = std::move(Y);
}

// ---- Shape ----

void compute_shape(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t r = X.rank();
  int64_t start = ctx.node.attr_int("start", 0), end = ctx.node.attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::min(std::max<int64_t>(start, 0), r);
  end = std::min(std::max<int64_t>(end, 0), r);
  int64_t n = std::max<int64_t>(end - start, 0);
  out[0] = Tensor::empty(DType::i64, {n});
  for (int64_t i = 0; i < n; ++i) out[0].ptr<int64_t>()[i] = X.shape[start + i];
}

std::vector<DType> i64_output(const NodeInfo&) { return {DType::i64}; }

// ---- Slice ----

std::string check_slice(const NodeInfo& n) {
  if (n.opset < 10) {
    if (!n.has_attr("starts") || !n.has_attr("ends")) return "Slice: starts/ends attributes missing";
    return "";
  }
  if (!n.has_input(1) || !n.has_input(2)) return "Slice: starts/ends inputs missing";
  for (size_t i = 1; i < 5; ++i) {
    std::string r = require_dtype(n, i, {DType::i64, DType::i32});
    if (!r.empty()) return r;
  }
  return "";
}

// Copies the box of X whose per-axis element offsets are `start + k * step` (k < shape[d]).
void copy_strided(const Tensor& X, const Shape& shape, const std::vector<int64_t>& start,
                  const std::vector<int64_t>& step, Tensor& Y, ThreadPool& pool) {
  Y = Tensor::empty(X.dtype, shape);
  if (Y.numel() == 0) return;
  int64_t r = X.rank(), es = dtype_size(X.dtype);
  std::vector<int64_t> xs(r, 1);
  for (int64_t i = r - 2; i >= 0; --i) xs[i] = xs[i + 1] * X.shape[i + 1];
  int64_t n = r ? shape[r - 1] : 1, rows = Y.numel() / n;
  int64_t base = 0;
  for (int64_t i = 0; i < r; ++i) base += start[i] * xs[i];
  int64_t last_step = r ? step[r - 1] : 1;
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(Y.data);
  pool.parallel_for(rows, std::max<int64_t>(1, 16384 / n), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t rem = row, src = base;
      for (int64_t d = r - 2; d >= 0; --d) {
        src += (rem % shape[d]) * step[d] * xs[d];
        rem /= shape[d];
      }
      char* dst = y + row * n * es;
      if (last_step == 1) {
        std::memcpy(dst, x + src * es, n * es);
      } else {
        for (int64_t k = 0; k < n; ++k) std::memcpy(dst + k * es, x + (src + k * last_step) * es, es);
      }
    }
  });
}

void compute_slice(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t r = X.rank();
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.node.opset < 10) {
    starts = ctx.node.attr_ints("starts");
    ends = ctx.node.attr_ints("ends");
    axes = ctx.node.attr_ints("axes");
  } else {
    starts = index_values(in[1], "Slice: starts");
    ends = index_values(in[2], "Slice: ends");
    if (in.size() > 3 && in[3]) axes = index_values(in[3], "Slice: axes");
    if (in.size() > 4 && in[4]) steps = index_values(in[4], "Slice: steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw KernelError("Slice: starts, ends, axes and steps differ in length");
  Shape shape = X.shape;
  std::vector<int64_t> start(r, 0), step(r, 1);
  std::vector<bool> seen(r, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axis_of(axes[i], r, "Slice");
    if (seen[a]) throw KernelError("Slice: repeated axis " + std::to_string(axes[i]));
    seen[a] = true;
    int64_t dim = X.shape[a], s = starts[i], e = ends[i], st = steps[i];
    if (st == 0) throw KernelError("Slice: step 0");
    if (s < 0) s += dim;  // dim >= 0, so neither addition overflows
    if (e < 0) e += dim;
    // Clamped first, so every difference below lies in [-1, dim]; the lengths are written so
    // that steps near +-2**63 never overflow (no `e - s + st`, no `-st`).
    if (st > 0) {
      s = std::min(std::max<int64_t>(s, 0), dim);
      e = std::min(std::max<int64_t>(e, 0), dim);
      shape[a] = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::min(std::max<int64_t>(s, 0), dim - 1);
      e = std::min(std::max<int64_t>(e, -1), dim - 1);
      shape[a] = s > e ? 1 - (s - e - 1) / st : 0;  // st < 0: (s - e - 1) / st == -((s - e - 1) / |st|)
    }
    start[a] = shape[a] ? s : 0;
    step[a] = st;
  }
  copy_strided(X, shape, start, step, out[0], ctx.pool);
}

// ---- Split ----

std::string check_split(const NodeInfo& n) {
  if (n.opset >= 13) {
    std::string r = require_dtype(n, 1, {DType::i64});
    if (!r.empty()) return r;
  }
  if (n.opset >= 18 && n.has_attr("num_outputs") && n.has_input(1))
    return "Split: both split input and num_outputs given";
  return "";
}

void compute_split(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  int64_t axis = axis_of(ctx.node.attr_int("axis", 0), X.rank(), "Split");
  int64_t dim = X.shape[axis], k = static_cast<int64_t>(out.size());
  std::vector<int64_t> split;
  if (ctx.node.opset >= 13) {
    if (in.size() > 1 && in[1]) split = index_values(in[1], "Split: split");
  } else {
    split = ctx.node.attr_ints("split");
  }
  if (split.empty()) {
    if (ctx.node.opset >= 18 && ctx.node.has_attr("num_outputs")) {
      int64_t n = ctx.node.attr_int("num_outputs", k);
      if (n != k || n < 1) throw KernelError("Split: num_outputs differs from the node's outputs");
      int64_t chunk = dim / n + (dim % n != 0);  // the last chunk is smaller
      for (int64_t i = 0, left = dim; i < n; ++i, left -= split.back())
        split.push_back(std::min(chunk, left));
    } else {
      if (dim % k) throw KernelError("Split: axis of size " + std::to_string(dim) + " does not split evenly");
      split.assign(k, dim / k);
    }
  }
  int64_t total = 0;
  for (int64_t s : split) {
    if (s < 0) throw KernelError("Split: negative split size " + std::to_string(s));
    total = checked_add(total, s, "Split: sum of split sizes");
  }
  if (static_cast<int64_t>(split.size()) != k || total != dim)
    throw KernelError("Split: split sizes do not match the outputs or the axis of size " + std::to_string(dim));
  std::vector<int64_t> step(X.rank(), 1), start(X.rank(), 0);
  for (int64_t i = 0; i < k; ++i) {
    Shape shape = X.shape;
    shape[axis] = split[i];
    copy_strided(X, shape, start, step, out[i], ctx.pool);
    start[axis] += split[i];
  }
}

// ---- Expand ----

std::string check_expand(const NodeInfo& n) { return require_dtype(n, 1, {DType::i64}); }

void compute_expand(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  std::vector<int64_t> want = index_values(in[1], "Expand: shape");
  Broadcast b = broadcast_many({X.shape, Shape(want.begin(), want.end())}, "Expand");
  Tensor Y = Tensor::empty(X.dtype, b.out);
  size_t es = dtype_size(X.dtype);
  const char* x = static_cast<const char*>(X.data);
  char* y = static_cast<char*>(Y.data);
  int64_t r = static_cast<int64_t>(b.out.size());
  int64_t sx = r ? b.strides[0][r - 1] : 0;
  for_each_row(b, ctx.pool, [&](const int64_t* off, int64_t n, int64_t o) {
    if (sx == 1) {
      std::memcpy(y + o * es, x + off[0] * es, n * es);
    } else {
      for (int64_t i = 0; i < n; ++i) std::memcpy(y + (o + i) * es, x + (off[0] + i * sx) * es, es);
    }
  });
  out[0] = std::move(Y);
}

}  // namespace

void register_indexing(std::vector<Kernel>& k) {
  k.push_back(Kernel("Gather").opsets(1, kMaxOpset).types(kAllDTypes).check(check_gather)
              .compute(compute_gather));
  k.push_back(Kernel("Shape").opsets(1, kMaxOpset).types(kAllDTypes).outputs(i64_output)
              .compute(compute_shape));
  k.push_back(Kernel("Slice").opsets(1, kMaxOpset).types(kAllDTypes).check(check_slice)
              .compute(compute_slice));
  k.push_back(Kernel("Split").opsets(2, kMaxOpset).types(kAllDTypes).check(check_split)
              .compute(compute_split));
  k.push_back(Kernel("Expand").opsets(8, kMaxOpset).types(kAllDTypes).check(check_expand)
              .compute(compute_expand));
}

}  // namespace xinrt
