// QDQ fusion at plan build: the DequantizeLinear -> op -> QuantizeLinear chains of a QDQ model
// (onnxruntime.quantization.quantize_static's default format) become integer steps, as ONNX
// Runtime's QDQ transformer does:
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

}  // namespace

void Plan::fuse_qdq_steps() {
  std::vector<int> readers = count_readers();
  std::vector<bool> removed(steps_.size(), false);
  std::vector<int> producer(num_slots_, -1);
  for (size_t i = 0; i < steps_.size(); ++i)
    for (int s : steps_[i].outputs)
      if (s >= 0) producer[s] = static_cast<int>(i);
  // One zero-point constant per dtype for Q/DQ nodes that omit theirs (zero of the data type).
  int zero_slot[2] = {-1, -1};
  auto zero_constant = [&](DType d) {
    int& slot = zero_slot[d == DType::i8 ? 1 : 0];
    if (slot < 0) {
      Tensor z = Tensor::empty(d, {});
      *static_cast<uint8_t*>(z.data) = 0;
      slot = add_constant(std::move(z));
      readers.resize(num_slots_, 0);
      producer.resize(num_slots_, -1);
    }
    return slot;
  };
  auto constant_at = [&](int slot) -> const Tensor* {
    return slot >= 0 && constants_[slot].dtype != DType::none ? &constants_[slot] : nullptr;
  };

  // A DequantizeLinear/QuantizeLinear step usable in a fusion: constant float scale (per tensor,
  // or with `per_axis` per channel along that axis), constant or absent zero point, no blocks.
  struct QParams {
    int index = -1;          // the step
    int data = -1;           // its quantized (DQ) or float (Q) input slot
    int scale = -1, zero = -1;  // constant slots (zero: made when absent)
    DType qtype = DType::unknown;
  };
  auto qparams = [&](int index, const char* op, int per_axis) -> QParams {
    QParams p;
    if (index < 0 || removed[index]) return p;
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
    DType qtype = std::string(op) == "QuantizeLinear" ? (zero ? zero->dtype : DType::u8) : st.info.input_dtypes[0];
    if (qtype == DType::unknown && zero) qtype = zero->dtype;
    if (std::string(op) == "QuantizeLinear" && st.info.attr_int("output_dtype", 0) != 0) return p;
    if (qtype != DType::u8 && qtype != DType::i8 && qtype != DType::i32) return p;
    if (zero && zero->dtype != qtype) return p;
    p.index = index;
    p.data = st.inputs[0];
    p.scale = st.inputs[1];
    p.qtype = qtype;
    p.zero = zero ? zslot : (qtype == DType::i32 ? -1 : zero_constant(qtype));
    return p;
  };
  auto dq_of = [&](int slot, int per_axis) { return qparams(slot >= 0 ? producer[slot] : -1, "DequantizeLinear", per_axis); };
  // Follows an optional Relu to the QuantizeLinear that alone reads step i's output.
  auto quantize_after = [&](size_t i, int* relu) -> QParams {
    *relu = sole_reader(i, "Relu", readers, removed);
    int q = sole_reader(*relu >= 0 ? *relu : i, "QuantizeLinear", readers, removed);
    QParams p = qparams(q, "QuantizeLinear", -1);
    return p.qtype == DType::u8 || p.qtype == DType::i8 ? p : QParams{};
  };
  auto info_input = [&](Step& st, int slot, DType dtype) {
    st.inputs.push_back(slot);
    const Tensor* c = constant_at(slot);
    st.info.input_dtypes.push_back(slot < 0 ? DType::none : c ? c->dtype : dtype);
    st.info.input_shapes.emplace_back(c ? std::optional<Shape>(c->shape) : std::nullopt);
    st.info.input_constants.push_back(c);
  };
  // Replaces step i by a fused step of kernel (op, domain) that writes q's output; the Relu and
  // the Q are removed. False (nothing changed) when the kernel's check declines.
  // With `relu_redundant` the Relu is removed without becoming the fused step's activation.
  auto replace = [&](size_t i, const char* op, const char* domain, int opset, Attributes attrs,
                     const std::vector<std::pair<int, DType>>& inputs, int relu, const QParams& q,
                     bool relu_redundant = false) {
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
      if (s >= 0) --readers[s];
    for (int s : fused.inputs)
      if (s >= 0) ++readers[s];
    removed[q.index] = true;
    if (relu >= 0) removed[relu] = true;
    for (int s : fused.outputs) producer[s] = static_cast<int>(i);
    steps_[i] = std::move(fused);
    return true;
  };

  // The int32 constant behind a bias DQ whose scale is x_scale * w_scale[n]: ORT's QLinearConv,
  // QGemm and QLinearMatMul add that integer bias to the accumulator, so the fused step is ORT's
  // own arithmetic (not the float sum of the unfused ops: within ORT's int8 rounding). -1: no
  // bias, -2: a bias that does not fit (no fusion). Which scales fit is what ORT 1.32 does
  // (measured; exporters share one bias, often all zero, between convolutions, so its scale fits
  // only the first of them exactly): a Conv fuses when |bias_scale - x_scale * w_scale| <=
  // 1e-6 + 1e-2 * x_scale * w_scale and adds the integers as they are, else stays float; ORT
  // fuses a Gemm whatever the bias scale, where we fuse only an exact scale or an all-zero bias
  // (the same numbers), not a bias ORT reads at the wrong scale.
  auto int32_bias = [&](int slot, const QParams& x, const QParams& w, bool conv) -> int {
    if (slot < 0) return -1;
    QParams b = dq_of(slot, 0);
    const Tensor* bq = constant_at(b.data);
    const Tensor* bz = constant_at(b.zero);
    if (b.index < 0 || !bq || b.qtype != DType::i32 || bq->rank() != 1) return -2;
    auto all_zero = [](const Tensor* t) {
      return std::all_of(t->ptr<int32_t>(), t->ptr<int32_t>() + t->numel(), [](int32_t v) { return v == 0; });
    };
    if (bz && !all_zero(bz)) return -2;
    const Tensor &xs = constants_[x.scale], &ws = constants_[w.scale], &bs = constants_[b.scale];
    if (bs.numel() != ws.numel() && bs.numel() != 1) return -2;
    for (int64_t m = 0; m < std::max(ws.numel(), bs.numel()); ++m) {
      float want = xs.ptr<float>()[0] * ws.ptr<float>()[ws.numel() == 1 ? 0 : m];
      float got = bs.ptr<float>()[bs.numel() == 1 ? 0 : m];
      float tolerance = conv ? 1e-6f + 1e-2f * std::fabs(want) : 1e-6f * std::fabs(want);
      if (std::fabs(got - want) > tolerance) return conv || !all_zero(bq) ? -2 : b.data;
    }
    return b.data;
  };

  for (size_t i = 0; i < steps_.size(); ++i) {
    if (removed[i] || !steps_[i].info.domain.empty()) continue;
    const std::string op = steps_[i].info.op_type;
    const std::vector<int> in = steps_[i].inputs;
    if (op == "Conv" && (in.size() == 2 || in.size() == 3)) {
      QParams x = dq_of(in[0], -1), w = dq_of(in[1], 0);
      if (x.index < 0 || w.index < 0 || !constant_at(w.data) || x.qtype == DType::i32 || w.qtype == DType::i32)
        continue;
      int bias = in.size() == 3 ? int32_bias(in[2], x, w, true) : -1;
      if (bias == -2) continue;
      int relu = -1;
      QParams y = quantize_after(i, &relu);
      if (y.index < 0) continue;
      Attributes attrs = steps_[i].info.attrs;
      replace(i, "QLinearConv", "", 10, attrs,
              {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {w.data, w.qtype}, {w.scale, DType::f32},
               {w.zero, w.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype}, {bias, DType::i32}},
              relu, y);
      continue;
    }
    if ((op == "Add" || op == "Sum") && in.size() == 2) {
      QParams a = dq_of(in[0], -1), b = dq_of(in[1], -1);
      if (a.index < 0 || b.index < 0 || a.qtype == DType::i32 || b.qtype == DType::i32) continue;
      int relu = -1;
      QParams y = quantize_after(i, &relu);
      if (y.index < 0) continue;
      // A Relu before a Q whose zero point is the type's minimum changes nothing (the Q
      // saturates there): ORT drops it and computes its QLinearAdd, which the kernel does when
      // no Relu is fused.
      bool redundant = relu >= 0 && zero_is_lowest(constant_at(y.zero));
      replace(i, "QLinearAdd", "xinrt", 1, {},
              {{a.data, a.qtype}, {a.scale, DType::f32}, {a.zero, a.qtype}, {b.data, b.qtype}, {b.scale, DType::f32},
               {b.zero, b.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype}},
              relu, y, redundant);
      continue;
    }
    if ((op == "Gemm" && (in.size() == 2 || in.size() == 3)) || (op == "MatMul" && in.size() == 2)) {
      const NodeInfo& info = steps_[i].info;
      bool trans_b = op == "Gemm" && info.attr_int("transB", 0) != 0;
      if (op == "Gemm" && (info.attr_int("transA", 0) != 0 || info.attr_float("alpha", 1.0f) != 1.0f ||
                           info.attr_float("beta", 1.0f) != 1.0f))
        continue;
      QParams x = dq_of(in[0], -1), w = dq_of(in[1], trans_b ? 0 : 1);
      const Tensor* wq = constant_at(w.data);
      if (x.index < 0 || w.index < 0 || !wq || wq->rank() != 2 || x.qtype == DType::i32 || w.qtype == DType::i32)
        continue;
      int bias = in.size() == 3 ? int32_bias(in[2], x, w, false) : -1;
      if (bias == -2 || (bias >= 0 && constants_[bias].numel() != wq->dim(trans_b ? 0 : 1))) continue;
      int relu = -1;
      QParams y = quantize_after(i, &relu);
      if (y.index < 0) continue;
      Attributes attrs;
      attrs["transB"].kind = Attribute::kInt;
      attrs["transB"].i = trans_b ? 1 : 0;
      replace(i, "QLinearGemm", "xinrt", 1, attrs,
              {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {w.data, w.qtype}, {w.scale, DType::f32},
               {w.zero, w.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype}, {bias, DType::i32}},
              relu, y);
      continue;
    }
    if ((op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Transpose") &&
        !in.empty() && steps_[i].outputs.size() == 1) {
      // Exact: these move values without changing them, and Q(DQ(v)) == v at one scale/zero point.
      QParams x = dq_of(in[0], -1);
      int q = sole_reader(i, "QuantizeLinear", readers, removed);
      QParams y = qparams(q, "QuantizeLinear", -1);
      if (x.index < 0 || y.index < 0 || x.qtype != y.qtype || !same_scalar(constant_at(x.scale), constant_at(y.scale)) ||
          !same_scalar(constant_at(x.zero), constant_at(y.zero)))
        continue;
      Step& st = steps_[i];
      --readers[in[0]];
      ++readers[x.data];
      st.inputs[0] = x.data;
      st.info.input_dtypes[0] = x.qtype;
      st.info.input_constants[0] = constant_at(x.data);
      st.info.input_shapes[0] = st.info.input_constants[0] ? std::optional<Shape>(st.info.input_constants[0]->shape)
                                                           : std::nullopt;
      st.outputs = steps_[q].outputs;
      for (int s : st.outputs)
        if (s >= 0) producer[s] = static_cast<int>(i);
      st.info.name += "+" + steps_[q].info.name;
      removed[q] = true;
      continue;
    }
    if (op == "GlobalAveragePool" && in.size() == 1) {
      QParams x = dq_of(in[0], -1);
      if (x.index < 0 || x.qtype == DType::i32) continue;
      int q = sole_reader(i, "QuantizeLinear", readers, removed);
      QParams y = qparams(q, "QuantizeLinear", -1);
      if (y.index < 0 || y.qtype == DType::i32) continue;
      replace(i, "QLinearGlobalAveragePool", "xinrt", 1, {},
              {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype}},
              -1, y);
      continue;
    }
    if (op == "AveragePool" && in.size() == 1 && steps_[i].outputs.size() == 1) {
      // ORT's QLinearAveragePool, for one dtype in and out and no dilations (ORT ignores them).
      QParams x = dq_of(in[0], -1);
      if (x.index < 0 || x.qtype == DType::i32) continue;
      int q = sole_reader(i, "QuantizeLinear", readers, removed);
      QParams y = qparams(q, "QuantizeLinear", -1);
      std::vector<int64_t> dilations = steps_[i].info.attr_ints("dilations");
      if (y.index < 0 || y.qtype != x.qtype ||
          !std::all_of(dilations.begin(), dilations.end(), [](int64_t d) { return d == 1; }))
        continue;
      replace(i, "QLinearAveragePool", "xinrt", 1, steps_[i].info.attrs,
              {{x.data, x.qtype}, {x.scale, DType::f32}, {x.zero, x.qtype}, {y.scale, DType::f32}, {y.zero, y.qtype}},
              -1, y);
      continue;
    }
    if (op == "MaxPool" && in.size() == 1 && steps_[i].outputs.size() == 1) {
      // Exact: DQ is monotone and Q(DQ(v)) == v when both use the same scale and zero point.
      QParams x = dq_of(in[0], -1);
      if (x.index < 0 || x.qtype == DType::i32) continue;
      int q = sole_reader(i, "QuantizeLinear", readers, removed);
      QParams y = qparams(q, "QuantizeLinear", -1);
      if (y.index < 0 || y.qtype != x.qtype || !same_scalar(constant_at(x.scale), constant_at(y.scale)) ||
          !same_scalar(constant_at(x.zero), constant_at(y.zero)))
        continue;
      replace(i, "QMaxPool", "xinrt", 1, steps_[i].info.attrs, {{x.data, x.qtype}}, -1, y);
      continue;
    }
  }

  // Fold the DequantizeLinear steps left on constants; drop those nothing reads any more.
  std::vector<Step> kept;
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (removed[i]) continue;
    Step& st = steps_[i];
    bool dq = st.info.op_type == "DequantizeLinear" && st.info.domain.empty();
    if (dq && st.outputs.size() == 1 && st.outputs[0] >= 0 && readers[st.outputs[0]] == 0) {
      for (int s : st.inputs)
        if (s >= 0) --readers[s];
      continue;
    }
    bool all_constant = !st.inputs.empty();
    for (int s : st.inputs) all_constant = all_constant && (s < 0 || constant_at(s));
    if (dq && all_constant && st.outputs.size() == 1 && st.outputs[0] >= 0) {
      std::vector<Tensor> out(1);
      try {
        st.kernel->compute(KernelContext{st.info, nullptr, *pool_, simd_}, st.info.input_constants, out);
      } catch (const KernelError& e) {
        throw PlanError(node_label(st.info) + ": " + e.what());
      }
      int s = st.outputs[0];
      out[0].readonly = true;
      constants_[s] = std::move(out[0]);
      for (size_t j = i + 1; j < steps_.size(); ++j)
        for (size_t k = 0; k < steps_[j].inputs.size(); ++k)
          if (steps_[j].inputs[k] == s) set_input(steps_[j], k, s);
      continue;
    }
    kept.push_back(std::move(st));
  }
  steps_ = std::move(kept);
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
