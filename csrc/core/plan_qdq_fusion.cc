// QDQ fusion at plan build: the DequantizeLinear -> op -> QuantizeLinear chains of a QDQ model
// (onnxruntime.quantization.quantize_static's default format) become integer steps, as ONNX
// Runtime's QDQ transformer does, one named matcher per pattern (QdqFusion below):
//   DQ(x) + DQ(w const) [+ DQ(bias int32 const)] -> Conv [-> Relu] -> Q  => QLinearConv
//   DQ(a) + DQ(b) -> Add/Sum [-> Relu] -> Q                               => xinrt QLinearAdd
//   DQ(x) + DQ(w const) [+ DQ(bias int32)] -> Gemm/MatMul [-> Relu] -> Q   => xinrt QLinearGemm
//   DQ(x) -> GlobalAveragePool -> Q                                          => xinrt QLinearGlobalAveragePool
//   DQ(x) -> AveragePool -> Q, one dtype                                     => xinrt QLinearAveragePool
//   DQ(x) -> MaxPool -> Q, same scale and zero point                        => xinrt QMaxPool
//   DQ(x) -> Reshape/Flatten/Squeeze/Unsqueeze/Transpose -> Q, same scale and zero point
//                                                                          => that op on the integers
// Each fused step reads the quantized tensors directly; a DQ whose output nothing else reads is
// dropped. Only single-reader float intermediates that are not plan outputs are fused away.
// DequantizeLinear nodes on constants are not folded by the Plan constructor so these patterns
// stay visible; the ones left after fusion are folded here.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/plan.h"

namespace xinrt {

namespace {

Attribute string_attr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::kString;
  a.s = v;
  return a;
}

// A uint8 zero point of 0 or an int8 one of -128: Q's output then never goes below the zero.
bool zero_is_lowest(const Tensor* zero) {
  if (!zero || zero->numel() != 1) return false;
  if (zero->dtype == DType::u8) return *zero->ptr<uint8_t>() == 0;
  return zero->dtype == DType::i8 && *zero->ptr<int8_t>() == -128;
}

bool same_scalar(const Tensor* a, const Tensor* b) {
  if (!a || !b || a->dtype != b->dtype || a->numel() != 1 || b->numel() != 1) return false;
  return std::memcmp(a->data, b->data, dtype_size(a->dtype)) == 0;
}

bool is_layout_op(const std::string& op) {
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Transpose";
}

// A DequantizeLinear/QuantizeLinear step usable in a fusion: constant float scale (per tensor,
// or with `per_axis` per channel along that axis), constant or absent zero point, no blocks.
struct QParams {
  int index = -1;             // the step
  int data = -1;              // its quantized (DQ) or float (Q) input slot
  int scale = -1, zero = -1;  // constant slots (zero: made when absent)
  DType qtype = DType::unknown;
};

}  // namespace

// One pass of QDQ fusion over a plan's steps: the bookkeeping the matchers share (readers per
// slot, producer per slot, steps removed) and one matcher per pattern, each true when it fused
// step i. A friend of Plan.
class QdqFusion {
 public:
  explicit QdqFusion(Plan& plan);
  void run();

 private:
  using Step = Plan::Step;
  int zero_constant(DType d);
  const Tensor* constant_at(int slot) const;
  QParams qparams(int index, const char* op, int per_axis);
  QParams dq_of(int slot, int per_axis);
  QParams quantize_after(size_t i, int* relu);
  QParams sole_quantize(size_t i);
  void info_input(Step& st, int slot, DType dtype) const;
  bool replace(size_t i, const char* op, const char* domain, int opset, Attributes attrs,
               const std::vector<std::pair<int, DType>>& inputs, int relu, const QParams& q,
               bool relu_redundant = false);
  int int32_bias(int slot, const QParams& x, const QParams& w, bool conv);

  bool fuse_conv(size_t i);
  bool fuse_add(size_t i);
  bool fuse_gemm(size_t i);
  bool fuse_layout_op(size_t i);
  bool fuse_global_average_pool(size_t i);
  bool fuse_average_pool(size_t i);
  bool fuse_max_pool(size_t i);
  void fold_dequantize();

  Plan& plan_;
  std::vector<Step>& steps_;
  std::vector<int> readers_;
  std::vector<bool> removed_;
  std::vector<int> producer_;
  int zero_slot_[2] = {-1, -1};  // the zero-point constants made for Q/DQ that omit theirs
};

QdqFusion::QdqFusion(Plan& plan)
    : plan_(plan), steps_(plan.steps_), readers_(plan.count_readers()), removed_(steps_.size(), false),
      producer_(plan.num_slots_, -1) {
  for (size_t i = 0; i < steps_.size(); ++i)
    for (int s : steps_[i].outputs)
      if (s >= 0) producer_[s] = static_cast<int>(i);
}

void QdqFusion::run() {
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (removed_[i] || !steps_[i].info.domain.empty()) continue;
    if (fuse_conv(i) || fuse_add(i) || fuse_gemm(i) || fuse_layout_op(i) || fuse_global_average_pool(i) ||
        fuse_average_pool(i) || fuse_max_pool(i))
      continue;
  }
  fold_dequantize();
}

// One zero-point constant per dtype for Q/DQ nodes that omit theirs (zero of the data type).
int QdqFusion::zero_constant(DType d) {
  int& slot = zero_slot_[d == DType::i8 ? 1 : 0];
  if (slot < 0) {
    Tensor z = Tensor::empty(d, {});
    *static_cast<uint8_t*>(z.data) = 0;
    slot = plan_.add_constant(std::move(z));
    readers_.resize(plan_.num_slots_, 0);
    producer_.resize(plan_.num_slots_, -1);
  }
  return slot;
}

const Tensor* QdqFusion::constant_at(int slot) const {
  return slot >= 0 && plan_.constants_[slot].dtype != DType::none ? &plan_.constants_[slot] : nullptr;
}

QParams QdqFusion::qparams(int index, const char* op, int per_axis) {
  QParams p;
  if (index < 0 || removed_[index]) return p;
  const Step& st = steps_[index];
  if (st.info.op_type != op || !st.info.domain.empty() || st.inputs.size() < 2 || st.outputs.size() != 1) return p;
  if (st.info.attr_int("block_size", 0) != 0) return p;
  const Tensor* scale = constant_at(st.inputs[1]);
  if (!scale || scale->dtype != DType::f32) return p;
  if (scale->numel() != 1) {
    int64_t axis = st.info.attr_int("axis", 1);
    const Tensor* data = constant_at(st.inputs[0]);
    if (axis < 0 && data) axis += data->rank();
    if (per_axis < 0 || axis != per_axis || scale->rank() != 1) return p;
  }
  int zslot = st.inputs.size() > 2 ? st.inputs[2] : -1;
  const Tensor* zero = constant_at(zslot);
  if (zslot >= 0 && (!zero || zero->numel() != scale->numel())) return p;
  // A DQ's x has its zero point's dtype (x may be a graph input of a dtype not given yet).
  const bool quantize = std::string(op) == "QuantizeLinear";
  DType qtype = quantize ? (zero ? zero->dtype : DType::u8) : st.info.input_dtypes[0];
  if (qtype == DType::unknown && zero) qtype = zero->dtype;
  if (quantize && st.info.attr_int("output_dtype", 0) != 0) return p;
  if (qtype != DType::u8 && qtype != DType::i8 && qtype != DType::i32) return p;
  if (zero && zero->dtype != qtype) return p;
  p.index = index;
  p.data = st.inputs[0];
  p.scale = st.inputs[1];
  p.qtype = qtype;
  p.zero = zero ? zslot : (qtype == DType::i32 ? -1 : zero_constant(qtype));
  return p;
}

QParams QdqFusion::dq_of(int slot, int per_axis) {
  return qparams(slot >= 0 ? producer_[slot] : -1, "DequantizeLinear", per_axis);
}

// Follows an optional Relu to the int8 QuantizeLinear that alone reads step i's output.
QParams QdqFusion::quantize_after(size_t i, int* relu) {
  *relu = static_cast<int>(plan_.sole_reader(i, "Relu", readers_, removed_));
  int q = static_cast<int>(plan_.sole_reader(*relu >= 0 ? *relu : i, "QuantizeLinear", readers_, removed_));
  QParams p = qparams(q, "QuantizeLinear", -1);
  return p.qtype == DType::u8 || p.qtype == DType::i8 ? p : QParams{};
}

// The QuantizeLinear that alone reads step i's output (any of its dtypes).
QParams QdqFusion::sole_quantize(size_t i) {
  return qparams(static_cast<int>(plan_.sole_reader(i, "QuantizeLinear", readers_, removed_)), "QuantizeLinear", -1);
}

void QdqFusion::info_input(Step& st, int slot, DType dtype) const {
  st.inputs.push_back(slot);
  const Tensor* c = constant_at(slot);
  st.info.input_dtypes.push_back(slot < 0 ? DType::none : c ? c->dtype : dtype);
  st.info.input_shapes.emplace_back(c ? std::optional<Shape>(c->shape) : std::nullopt);
  st.info.input_constants.push_back(c);
}

// Replaces step i by a fused step of kernel (op, domain) that writes q's output; the Relu and
// the Q are removed. With `relu_redundant` the Relu goes without becoming the fused step's
// activation. False (nothing changed) when the kernel's check declines.
bool QdqFusion::replace(size_t i, const char* op, const char* domain, int opset, Attributes attrs,
                        const std::vector<std::pair<int, DType>>& inputs, int relu, const QParams& q,
                        bool relu_redundant) {
  Step fused;
  fused.info.op_type = op;
  fused.info.domain = domain;
  fused.info.opset = opset;
  fused.info.attrs = std::move(attrs);
  if (relu >= 0 && !relu_redundant) fused.info.attrs[kFusedActivationAttr] = string_attr("Relu");
  fused.info.num_outputs = 1;
  fused.info.name = steps_[i].info.name + (relu >= 0 ? "+" + steps_[relu].info.name : "") + "+" +
                    steps_[q.index].info.name;
  for (auto [slot, dtype] : inputs) info_input(fused, slot, dtype);
  fused.kernel = find_kernel(op, domain);
  if (!fused.kernel || !check_node(fused.info).empty()) return false;
  fused.outputs = steps_[q.index].outputs;
  for (int s : steps_[i].inputs)
    if (s >= 0) --readers_[s];
  for (int s : fused.inputs)
    if (s >= 0) ++readers_[s];
  removed_[q.index] = true;
  if (relu >= 0) removed_[relu] = true;
  for (int s : fused.outputs) producer_[s] = static_cast<int>(i);
  steps_[i] = std::move(fused);
  return true;
}

// The int32 constant behind a bias DQ whose scale is x_scale * w_scale[n]: ORT's QLinearConv,
// QGemm and QLinearMatMul add that integer bias to the accumulator, so the fused step is ORT's
// own arithmetic (not the float sum of the unfused ops: within ORT's int8 rounding). -1: no
// bias, -2: a bias that does not fit (no fusion). Which scales fit is what ORT 1.32 does
// (measured; exporters share one bias, often all zero, between convolutions, so its scale fits
// only the first of them exactly): a Conv fuses when |bias_scale - x_scale * w_scale| <=
// 1e-6 + 1e-2 * x_scale * w_scale and adds the integers as they are, else stays float; ORT
// fuses a Gemm whatever the bias scale, where we fuse only an exact scale or an all-zero bias
// (the same numbers), not a bias ORT reads at the wrong scale.
int QdqFusion::int32_bias(int slot, const QParams& x, const QParams& w, bool conv) {
  if (slot < 0) return -1;
  QParams b = dq_of(slot, 0);
  const Tensor* bq = constant_at(b.data);
  const Tensor* bz = constant_at(b.zero);
  if (b.index < 0 || !bq || b.qtype != DType::i32 || bq->rank() != 1) return -2;
  auto all_zero = [](const Tensor* t) {
    return std::all_of(t->ptr<int32_t>(), t->ptr<int32_t>() + t->numel(), [](int32_t v) { return v == 0; });
  };
  if (bz && !all_zero(bz)) return -2;
  const std::vector<Tensor>& constants = plan_.constants_;
  const Tensor &xs = constants[x.scale], &ws = constants[w.scale], &bs = constants[b.scale];
  if (bs.numel() != ws.numel() && bs.numel() != 1) return -2;
  for (int64_t m = 0; m < std::max(ws.numel(), bs.numel()); ++m) {
    float want = xs.ptr<float>()[0] * ws.ptr<float>()[ws.numel() == 1 ? 0 : m];
    float got = bs.ptr<float>()[bs.numel() == 1 ? 0 : m];
    float tolerance = conv ? 1e-6f + 1e-2f * std::fabs(want) : 1e-6f * std::fabs(want);
    if (std::fabs(got - want) > tolerance) return conv || !all_zero(bq) ? -2 : b.data;
  }
  return b.data;
}

// DQ(x) + DQ(w const) [+ DQ(bias int32 const)] -> Conv [-> Relu] -> Q  => QLinearConv.
bool QdqFusion::fuse_conv(size_t i) {
  const std::vector<int> in = steps_[i].inputs;
  if (steps_[i].info.op_type != "Conv" || (in.size() != 2 && in.size() != 3)) return false;
  QParams x = dq_of(in[0], -1), w = dq_of(in[1], 0);
  if (x.index < 0 || w.index < 0 || !constant_at(w.data) || x.qtype == DType::i32 || w.qtype == DType::i32)
    return false;
  int bias = in.size() == 3 ? int32_bias(in[2], x, w, true) : -1;
  if (bias == -2) return false;
  int relu = -1;
  QParams y = quantize_after(i, &relu);
  if (y.index < 0) return false;
  return replace(i, "QLinearConv", "", 10, steps_[i].info.attrs,
                 {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {w.data, w.qtype},
                  {w.scale, DType::f32}, {w.zero, w.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype},
                  {bias, DType::i32}},
                 relu, y);
}

// DQ(a) + DQ(b) -> Add/Sum [-> Relu] -> Q => xinrt QLinearAdd. A Relu before a Q whose zero
// point is the type's minimum changes nothing (the Q saturates there): ORT drops it and
// computes its QLinearAdd, which the kernel does when no Relu is fused.
bool QdqFusion::fuse_add(size_t i) {
  const std::string& op = steps_[i].info.op_type;
  const std::vector<int> in = steps_[i].inputs;
  if ((op != "Add" && op != "Sum") || in.size() != 2) return false;
  QParams a = dq_of(in[0], -1), b = dq_of(in[1], -1);
  if (a.index < 0 || b.index < 0 || a.qtype == DType::i32 || b.qtype == DType::i32) return false;
  int relu = -1;
  QParams y = quantize_after(i, &relu);
  if (y.index < 0) return false;
  bool redundant = relu >= 0 && zero_is_lowest(constant_at(y.zero));
  return replace(i, "QLinearAdd", "xinrt", 1, {},
                 {{a.data, a.qtype}, {a.scale, DType::f32}, {a.zero, a.qtype}, {b.data, b.qtype},
                  {b.scale, DType::f32}, {b.zero, b.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype}},
                 relu, y, redundant);
}

// DQ(x) + DQ(w const) [+ DQ(bias int32)] -> Gemm/MatMul [-> Relu] -> Q => xinrt QLinearGemm.
bool QdqFusion::fuse_gemm(size_t i) {
  const NodeInfo& info = steps_[i].info;
  const std::vector<int> in = steps_[i].inputs;
  const bool gemm = info.op_type == "Gemm";
  if (!(gemm && (in.size() == 2 || in.size() == 3)) && !(info.op_type == "MatMul" && in.size() == 2)) return false;
  bool trans_b = gemm && info.attr_int("transB", 0) != 0;
  if (gemm && (info.attr_int("transA", 0) != 0 || info.attr_float("alpha", 1.0f) != 1.0f ||
               info.attr_float("beta", 1.0f) != 1.0f))
    return false;
  QParams x = dq_of(in[0], -1), w = dq_of(in[1], trans_b ? 0 : 1);
  const Tensor* wq = constant_at(w.data);
  if (x.index < 0 || w.index < 0 || !wq || wq->rank() != 2 || x.qtype == DType::i32 || w.qtype == DType::i32)
    return false;
  int bias = in.size() == 3 ? int32_bias(in[2], x, w, false) : -1;
  if (bias == -2 || (bias >= 0 && plan_.constants_[bias].numel() != wq->dim(trans_b ? 0 : 1))) return false;
  int relu = -1;
  QParams y = quantize_after(i, &relu);
  if (y.index < 0) return false;
  Attributes attrs;
  attrs["transB"].kind = Attribute::kInt;
  attrs["transB"].i = trans_b ? 1 : 0;
  return replace(i, "QLinearGemm", "xinrt", 1, attrs,
                 {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {w.data, w.qtype},
                  {w.scale, DType::f32}, {w.zero, w.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype},
                  {bias, DType::i32}},
                 relu, y);
}

// DQ(x) -> Reshape/Flatten/Squeeze/Unsqueeze/Transpose -> Q at one scale and zero point => that
// op on the integers. Exact: these move values without changing them, and Q(DQ(v)) == v.
bool QdqFusion::fuse_layout_op(size_t i) {
  Step& st = steps_[i];
  const std::vector<int> in = st.inputs;
  if (!is_layout_op(st.info.op_type) || in.empty() || st.outputs.size() != 1) return false;
  QParams x = dq_of(in[0], -1);
  QParams y = sole_quantize(i);
  if (x.index < 0 || y.index < 0 || x.qtype != y.qtype || !same_scalar(constant_at(x.scale), constant_at(y.scale)) ||
      !same_scalar(constant_at(x.zero), constant_at(y.zero)))
    return false;
  --readers_[in[0]];
  ++readers_[x.data];
  st.inputs[0] = x.data;
  st.info.input_dtypes[0] = x.qtype;
  st.info.input_constants[0] = constant_at(x.data);
  st.info.input_shapes[0] =
      st.info.input_constants[0] ? std::optional<Shape>(st.info.input_constants[0]->shape) : std::nullopt;
  st.outputs = steps_[y.index].outputs;
  for (int s : st.outputs)
    if (s >= 0) producer_[s] = static_cast<int>(i);
  st.info.name += "+" + steps_[y.index].info.name;
  removed_[y.index] = true;
  return true;
}

// DQ(x) -> GlobalAveragePool -> Q => xinrt QLinearGlobalAveragePool.
bool QdqFusion::fuse_global_average_pool(size_t i) {
  const std::vector<int> in = steps_[i].inputs;
  if (steps_[i].info.op_type != "GlobalAveragePool" || in.size() != 1) return false;
  QParams x = dq_of(in[0], -1);
  if (x.index < 0 || x.qtype == DType::i32) return false;
  QParams y = sole_quantize(i);
  if (y.index < 0 || y.qtype == DType::i32) return false;
  return replace(i, "QLinearGlobalAveragePool", "xinrt", 1, {},
                 {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {y.scale, DType::f32},
                  {y.zero, y.qtype}},
                 -1, y);
}

// DQ(x) -> AveragePool -> Q => ORT's QLinearAveragePool, for one dtype in and out and no
// dilations (ORT ignores them).
bool QdqFusion::fuse_average_pool(size_t i) {
  const std::vector<int> in = steps_[i].inputs;
  if (steps_[i].info.op_type != "AveragePool" || in.size() != 1 || steps_[i].outputs.size() != 1) return false;
  QParams x = dq_of(in[0], -1);
  if (x.index < 0 || x.qtype == DType::i32) return false;
  QParams y = sole_quantize(i);
  std::vector<int64_t> dilations = steps_[i].info.attr_ints("dilations");
  if (y.index < 0 || y.qtype != x.qtype ||
      !std::all_of(dilations.begin(), dilations.end(), [](int64_t d) { return d == 1; }))
    return false;
  return replace(i, "QLinearAveragePool", "xinrt", 1, steps_[i].info.attrs,
                 {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {y.scale, DType::f32},
                  {y.zero, y.qtype}},
                 -1, y);
}

// DQ(x) -> MaxPool -> Q at one scale and zero point => xinrt QMaxPool. Exact: DQ is monotone and
// Q(DQ(v)) == v.
bool QdqFusion::fuse_max_pool(size_t i) {
  const std::vector<int> in = steps_[i].inputs;
  if (steps_[i].info.op_type != "MaxPool" || in.size() != 1 || steps_[i].outputs.size() != 1) return false;
  QParams x = dq_of(in[0], -1);
  if (x.index < 0 || x.qtype == DType::i32) return false;
  QParams y = sole_quantize(i);
  if (y.index < 0 || y.qtype != x.qtype || !same_scalar(constant_at(x.scale), constant_at(y.scale)) ||
      !same_scalar(constant_at(x.zero), constant_at(y.zero)))
    return false;
  return replace(i, "QMaxPool", "xinrt", 1, steps_[i].info.attrs, {{x.data, x.qtype}}, -1, y);
}

// Folds the DequantizeLinear steps left on constants and drops those nothing reads any more.
void QdqFusion::fold_dequantize() {
  std::vector<Step> kept;
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (removed_[i]) continue;
    Step& st = steps_[i];
    bool dq = st.info.op_type == "DequantizeLinear" && st.info.domain.empty();
    if (dq && st.outputs.size() == 1 && st.outputs[0] >= 0 && readers_[st.outputs[0]] == 0) {
      for (int s : st.inputs)
        if (s >= 0) --readers_[s];
      continue;
    }
    bool all_constant = !st.inputs.empty();
    for (int s : st.inputs) all_constant = all_constant && (s < 0 || constant_at(s));
    if (dq && all_constant && st.outputs.size() == 1 && st.outputs[0] >= 0) {
      std::vector<Tensor> out(1);
      try {
        st.kernel->compute_fn(KernelContext{st.info, nullptr, *plan_.pool_, plan_.simd_}, st.info.input_constants, out);
      } catch (const KernelError& e) {
        throw PlanError(plan_.node_label(st.info) + ": " + e.what());
      }
      int s = st.outputs[0];
      out[0].readonly = true;
      plan_.constants_[s] = std::move(out[0]);
      for (size_t j = i + 1; j < steps_.size(); ++j)
        for (size_t k = 0; k < steps_[j].inputs.size(); ++k) {
          if (steps_[j].inputs[k] != s) continue;
          plan_.set_input(steps_[j], k, s);
          if (k == 1 && steps_[j].info.op_type == "Conv") steps_[j].info.attrs[kDequantizedWeightsAttr] = Attribute{};
        }
      continue;
    }
    kept.push_back(std::move(st));
  }
  steps_ = std::move(kept);
}

void Plan::fuse_qdq_steps() {
  QdqFusion(*this).run();
  choose_nhwc_layouts();
}

// Keeps int8 tensors NHWC between the fused steps that read and write NHWC (QLinearConv's input
// and output, QLinearAdd's operands, QMaxPool), as ORT's NHWC transformer does, so only tensors
// entering or leaving such a chain are transposed. A tensor is NHWC when its producer and every
// reader handle NHWC and it is not a plan output; each step converts operands whose layout
// differs from its output's.
void Plan::choose_nhwc_layouts() {
  auto aware = [](const Step& st) {
    return (st.info.op_type == "QLinearConv" && st.info.domain.empty()) ||
           ((st.info.op_type == "QLinearAdd" || st.info.op_type == "QMaxPool") && st.info.domain == "xinrt");
  };
  auto nhwc_input = [&](const Step& st, size_t k) {
    bool gap = st.info.op_type == "QLinearGlobalAveragePool" && st.info.domain == "xinrt";  // NCHW out
    return (aware(st) || gap) && (k == 0 || (st.info.op_type == "QLinearAdd" && k == 3));
  };
  std::vector<char> nhwc(num_slots_, 0);
  for (const Step& st : steps_)
    if (aware(st) && st.outputs.size() == 1 && st.outputs[0] >= 0) nhwc[st.outputs[0]] = 1;
  const std::vector<char> from_aware = nhwc;  // 4-D (or 3-D) outputs of convolutions and their kin
  for (int s : output_slots_) nhwc[s] = 0;
  // An Add with another operand (a constant, a graph input) may broadcast it from a lower rank,
  // which only means the same in NCHW: its output stays NCHW.
  for (const Step& st : steps_)
    if (st.info.op_type == "QLinearAdd" && st.info.domain == "xinrt" &&
        (!from_aware[st.inputs[0]] || !from_aware[st.inputs[3]]))
      nhwc[st.outputs[0]] = 0;
  for (const Step& st : steps_)
    for (size_t k = 0; k < st.inputs.size(); ++k)
      if (st.inputs[k] >= 0 && !nhwc_input(st, k)) nhwc[st.inputs[k]] = 0;
  for (Step& st : steps_) {
    if (!nhwc_input(st, 0)) continue;
    int64_t bits = (nhwc[st.inputs[0]] ? 1 : 0) | (nhwc[st.outputs[0]] ? 2 : 0);
    if (st.info.op_type == "QLinearAdd" && nhwc[st.inputs[3]]) bits |= 4;
    if (bits == 0) continue;
    Attribute a;
    a.kind = Attribute::kInt;
    a.i = bits;
    st.info.attrs[kNhwcAttr] = a;
  }
}

}  // namespace xinrt
