// LogSoftmax and Hardmax (float32, float64). Opsets 1-12 coerce the input to 2-D at `axis`
// (default 1), as Softmax does; opset 13+ works along `axis` (default -1). LogSoftmax is
// x - max - log(sum(exp(x - max))), the sum in double; Hardmax marks the first maximum.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/registry.h"

namespace xinrt {
namespace {

std::string check_variant(const NodeInfo& n) {
  int64_t rank = n.input_rank(0);
  int64_t axis = n.attr_int("axis", n.opset < 13 ? 1 : -1);
  if (rank >= 0 && (axis < -rank || axis >= std::max<int64_t>(rank, 1)))
    return n.op_type + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank);
  return "";
}

template <class T>
void variant_typed(bool log, const Tensor& X, int64_t outer, int64_t n, int64_t inner, Tensor& Y, ThreadPool& pool) {
  const T* x = X.ptr<T>();
  T* y = Y.ptr<T>();
  pool.parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t base = (t / inner) * n * inner + t % inner;
      T m = x[base];  // NaN wins, as in numpy's max and argmax
      int64_t arg = 0;
      for (int64_t k = 1; k < n && !std::isnan(m); ++k) {
        T v = x[base + k * inner];
        if (v > m || std::isnan(v)) {
          m = v;
          arg = k;
        }
      }
      if (!log) {
        for (int64_t k = 0; k < n; ++k) y[base + k * inner] = k == arg ? T(1) : T(0);
        continue;
      }
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += std::exp(static_cast<double>(x[base + k * inner]) - m);
      double ls = std::log(s);
      for (int64_t k = 0; k < n; ++k)
        y[base + k * inner] = static_cast<T>(static_cast<double>(x[base + k * inner]) - m - ls);
    }
  });
}

void compute_variant(const KernelContext& ctx, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& X = *in[0];
  const std::string& op = ctx.node.op_type;
  int64_t rank = X.rank();
  int64_t axis = ctx.node.attr_int("axis", ctx.node.opset < 13 ? 1 : -1);
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    throw KernelError(op + ": axis " + std::to_string(axis) + " out of range for shape " + shape_str(X.shape));
  if (axis < 0) axis += rank;
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) outer *= X.shape[i];
    else if (i == axis || ctx.node.opset < 13) n *= X.shape[i];
    else inner *= X.shape[i];
  }
  out[0] = Tensor::empty(X.dtype, X.shape);
  if (X.numel() == 0) return;
  bool log = op == "LogSoftmax";
  if (X.dtype == DType::f32) variant_typed<float>(log, X, outer, n, inner, out[0], ctx.pool);
  else if (X.dtype == DType::f64) variant_typed<double>(log, X, outer, n, inner, out[0], ctx.pool);
  else throw KernelError(op + ": float32, float64 only");
}

}  // namespace

void register_softmax_variants(std::vector<Kernel>& k) {
  for (const char* op : {"LogSoftmax", "Hardmax"})
    k.push_back(Kernel(op).opsets(1, kMaxOpset).types({DType::f32, DType::f64}).check(check_variant)
                .compute(compute_variant));
}

}  // namespace xinrt
