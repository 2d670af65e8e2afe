// Whole ops through a Plan at each SIMD level (XINRT_CPU_SIMD set before the Plan is built),
// compared with the same Plan built at the baseline level.
#include <cstdlib>
#include <map>

#include "core/plan.h"
#include "core/simd_level.h"
#include "tests/harness.h"

using namespace xinrt;

namespace xinrt_test {
namespace {

Attribute attr_int(int64_t v) {
  Attribute a;
  a.kind = Attribute::kInt;
  a.i = v;
  return a;
}
Attribute attr_float(float v) {
  Attribute a;
  a.kind = Attribute::kFloat;
  a.f = v;
  return a;
}
Attribute attr_ints(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::kInts;
  a.ints = std::move(v);
  return a;
}

Attribute attr_string(const std::string& v) {
  Attribute a;
  a.kind = Attribute::kString;
  a.s = v;
  return a;
}

struct OpCase {
  std::string name, op;
  Attributes attrs;
  std::vector<Tensor> inputs;
  std::vector<bool> constant;  // per input: a plan constant (weights are packed at plan time)
  Tol tol;
  int opset = 17;
};

// Builds a one-node Plan at `level` (a simd_paths() name) and runs it.
std::vector<float> run_case(const OpCase& c, const std::string& level) {
  setenv("XINRT_CPU_SIMD", level.c_str(), 1);
  NodeSpec spec;
  spec.op_type = c.op;
  spec.opset = c.opset;
  spec.attrs = c.attrs;
  spec.name = c.name;
  std::map<int, Tensor> constants;
  std::vector<int> input_slots;
  std::vector<Tensor> feeds;
  int slots = 0;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    spec.inputs.push_back(slots);
    if (i < c.constant.size() && c.constant[i]) {
      constants[slots] = c.inputs[i].clone();
    } else {
      input_slots.push_back(slots);
      feeds.push_back(c.inputs[i]);
    }
    ++slots;
  }
  spec.outputs = {slots++};
  Plan plan({spec}, slots, input_slots, {spec.outputs[0]}, constants, 2, {});
  std::vector<Tensor> out = plan.run(feeds);
  unsetenv("XINRT_CPU_SIMD");
  const float* p = out[0].ptr<float>();
  return std::vector<float>(p, p + out[0].numel());
}

Tensor rnd(const Shape& s, uint32_t seed, float scale = 1.0f) { return tensor(s, randn(shape_numel(s), seed, scale)); }

OpCase conv(const std::string& name, Shape x, Shape w, int64_t group, std::vector<int64_t> strides,
            std::vector<int64_t> pads, std::vector<int64_t> dilations, bool const_w, bool bias, uint32_t seed) {
  OpCase c{name, "Conv", {}, {rnd(x, seed), rnd(w, seed + 1, 0.3f)}, {false, const_w}, kGemmTol};
  if (bias) {
    c.inputs.push_back(rnd({w[0]}, seed + 2));
    c.constant.push_back(true);
  }
  size_t sp = x.size() - 2;
  c.attrs["group"] = attr_int(group);
  c.attrs["kernel_shape"] = attr_ints(Shape(w.begin() + 2, w.end()));
  c.attrs["strides"] = attr_ints(strides.empty() ? std::vector<int64_t>(sp, 1) : strides);
  c.attrs["pads"] = attr_ints(pads.empty() ? std::vector<int64_t>(2 * sp, 0) : pads);
  c.attrs["dilations"] = attr_ints(dilations.empty() ? std::vector<int64_t>(sp, 1) : dilations);
  return c;
}

OpCase pool(const std::string& name, const std::string& op, Shape x, std::vector<int64_t> k, std::vector<int64_t> s,
            std::vector<int64_t> pads, uint32_t seed) {
  OpCase c{name, op, {}, {rnd(x, seed)}, {false}, kElementwiseTol};
  c.attrs["kernel_shape"] = attr_ints(k);
  c.attrs["strides"] = attr_ints(s);
  c.attrs["pads"] = attr_ints(pads);
  return c;
}

OpCase binary(const std::string& op, Shape a, Shape b, uint32_t seed) {
  OpCase c{op + " " + shape_str(a) + " " + shape_str(b), op, {}, {rnd(a, seed), rnd(b, seed + 1)}, {false, false}, kExact};
  if (op == "Div") c.tol = kElementwiseTol;  // exact too, but a tolerance keeps room for a reciprocal form
  return c;
}

// Unary inputs with the special values mixed in.
OpCase unary(const std::string& op, Tol tol, uint32_t seed) {
  std::vector<float> v = uniform(3001, seed, -12.0f, 12.0f);
  for (float s : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 90.0f, -90.0f, 1e-20f, -1e-20f}) v.push_back(s);
  OpCase c{op + " [3010]", op, {}, {tensor({static_cast<int64_t>(v.size())}, v)}, {false}, tol};
  return c;
}

std::vector<OpCase> op_cases() {
  std::vector<OpCase> cases;
  // Conv: plain, strided/padded (asymmetric), grouped, depthwise (strides, dilations,
  // multiplier), 1x1, 1-D, runtime weights.
  cases.push_back(conv("Conv 3x3 pad1", {1, 3, 17, 19}, {8, 3, 3, 3}, 1, {}, {1, 1, 1, 1}, {}, true, true, 100));
  cases.push_back(conv("Conv 3x3 stride2 pads 0,1,1,2", {2, 4, 15, 16}, {7, 4, 3, 3}, 1, {2, 2}, {0, 1, 1, 2}, {}, true, true, 110));
  cases.push_back(conv("Conv group2 5x3 stride(1,2)", {1, 4, 12, 13}, {6, 2, 5, 3}, 2, {1, 2}, {2, 1, 2, 1}, {}, true, false, 120));
  cases.push_back(conv("Conv depthwise 3x3 pad1", {2, 5, 14, 23}, {5, 1, 3, 3}, 5, {}, {1, 1, 1, 1}, {}, true, true, 130));
  cases.push_back(conv("Conv depthwise 5x5 stride2 pad2", {1, 6, 19, 21}, {6, 1, 5, 5}, 6, {2, 2}, {2, 2, 2, 2}, {}, true, true, 140));
  cases.push_back(conv("Conv depthwise 3x3 stride3 dilation2", {1, 3, 20, 29}, {3, 1, 3, 3}, 3, {3, 3}, {2, 2, 2, 2}, {2, 2}, true, false, 150));
  cases.push_back(conv("Conv depthwise multiplier2", {1, 3, 9, 11}, {6, 1, 3, 3}, 3, {}, {1, 1, 1, 1}, {}, true, true, 160));
  cases.push_back(conv("Conv 1x1", {1, 16, 7, 9}, {24, 16, 1, 1}, 1, {}, {}, {}, true, true, 170));
  cases.push_back(conv("Conv 1-D k5 stride2", {2, 3, 41}, {4, 3, 5}, 1, {2}, {2, 1}, {}, true, true, 180));
  cases.push_back(conv("Conv runtime weights", {1, 3, 10, 10}, {5, 3, 3, 3}, 1, {}, {1, 1, 1, 1}, {}, false, false, 190));
  // Pooling.
  cases.push_back(pool("MaxPool 3x3 s2 p1", "MaxPool", {1, 3, 17, 18}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 200));
  cases.push_back(pool("MaxPool 2x2 s2", "MaxPool", {2, 4, 16, 21}, {2, 2}, {2, 2}, {0, 0, 0, 0}, 210));
  OpCase dil = pool("MaxPool 3x3 s1 dilation2", "MaxPool", {1, 2, 13, 15}, {3, 3}, {1, 1}, {2, 2, 2, 2}, 220);
  dil.attrs["dilations"] = attr_ints({2, 2});
  cases.push_back(dil);
  cases.push_back(pool("MaxPool 1-D k3 s3", "MaxPool", {2, 3, 40}, {3}, {3}, {1, 1}, 225));
  cases.push_back(pool("AveragePool 3x3 s1 p1", "AveragePool", {1, 3, 11, 14}, {3, 3}, {1, 1}, {1, 1, 1, 1}, 230));
  OpCase incl = pool("AveragePool 3x3 s2 p1 count_include_pad", "AveragePool", {1, 3, 15, 16}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 240);
  incl.attrs["count_include_pad"] = attr_int(1);
  cases.push_back(incl);
  OpCase ceil = pool("AveragePool 2x2 s2 ceil_mode", "AveragePool", {1, 2, 9, 11}, {2, 2}, {2, 2}, {0, 0, 0, 0}, 250);
  ceil.attrs["ceil_mode"] = attr_int(1);
  cases.push_back(ceil);
  cases.push_back(OpCase{"GlobalAveragePool", "GlobalAveragePool", {}, {rnd({2, 5, 13, 17}, 260)}, {false}, kElementwiseTol});
  cases.push_back(OpCase{"GlobalMaxPool", "GlobalMaxPool", {}, {rnd({2, 5, 7, 9}, 265)}, {false}, kExact});
  // Softmax: contiguous rows of several widths with a wide spread, and a non-last axis.
  for (int64_t w : {1, 7, 100, 1003}) {
    OpCase c{"Softmax [3," + std::to_string(w) + "]", "Softmax", {}, {rnd({3, w}, 270 + static_cast<uint32_t>(w), 8.0f)}, {false}, kElementwiseTol};
    cases.push_back(c);
  }
  OpCase sm{"Softmax axis1 of [2,9,5]", "Softmax", {}, {rnd({2, 9, 5}, 280, 4.0f)}, {false}, kElementwiseTol};
  sm.attrs["axis"] = attr_int(1);
  cases.push_back(sm);
  // LayerNormalization over the last axis and the last two; BatchNormalization.
  cases.push_back(OpCase{"LayerNormalization axis-1 [4,7,131]", "LayerNormalization", {},
                         {rnd({4, 7, 131}, 290, 3.0f), rnd({131}, 291), rnd({131}, 292)}, {false, true, true}, kElementwiseTol});
  OpCase ln{"LayerNormalization axis-2 [3,5,6]", "LayerNormalization", {}, {rnd({3, 5, 6}, 293), rnd({5, 6}, 294), rnd({6}, 295)},
            {false, true, true}, kElementwiseTol};
  ln.attrs["axis"] = attr_int(-2);
  cases.push_back(ln);
  std::vector<float> var = uniform(6, 296, 0.1f, 2.0f);
  cases.push_back(OpCase{"BatchNormalization [2,6,9,13]", "BatchNormalization", {},
                         {rnd({2, 6, 9, 13}, 297), rnd({6}, 298), rnd({6}, 299), rnd({6}, 300), tensor({6}, var)},
                         {false, true, true, true, true}, kElementwiseTol, 15});
  // Elementwise with broadcasting.
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    cases.push_back(binary(op, {2, 3, 4, 37}, {2, 3, 4, 37}, 310));
    cases.push_back(binary(op, {2, 3, 4, 37}, {37}, 320));
    cases.push_back(binary(op, {3, 1, 1}, {2, 3, 5, 7}, 330));
    cases.push_back(binary(op, {}, {5, 11}, 340));
    cases.push_back(binary(op, {4, 1}, {1, 9}, 350));
    cases.push_back(binary(op, {6, 2, 5}, {6, 1, 5}, 355));
  }
  cases.push_back(unary("Relu", kExact, 360));
  OpCase lr = unary("LeakyRelu", kExact, 361);
  lr.attrs["alpha"] = attr_float(0.1f);
  cases.push_back(lr);
  for (const char* op : {"Sigmoid", "Tanh", "Exp", "Erf"}) cases.push_back(unary(op, Tol{5e-7, 1e-37}, 362));
  // MatMul (constant 2-D B packed at plan time, runtime B, batched, broadcast batch, vector)
  // and Gemm.
  cases.push_back(OpCase{"MatMul [7,33]x[33,29] const B", "MatMul", {}, {rnd({7, 33}, 400), rnd({33, 29}, 401)}, {false, true}, kGemmTol});
  cases.push_back(OpCase{"MatMul [1,257]x[257,33] const B (panel GEMV)", "MatMul", {}, {rnd({1, 257}, 398), rnd({257, 33}, 399)}, {false, true}, kGemmTol});
  cases.push_back(OpCase{"MatMul [3,600]x[600,45] const B (panel GEMV)", "MatMul", {}, {rnd({3, 600}, 396), rnd({600, 45}, 397)}, {false, true}, kGemmTol});
  cases.push_back(OpCase{"MatMul [3,70,300]x[300,45]", "MatMul", {}, {rnd({3, 70, 300}, 402), rnd({300, 45}, 403)}, {false, false}, kGemmTol});
  cases.push_back(OpCase{"MatMul [2,3,5,7]x[2,3,7,6]", "MatMul", {}, {rnd({2, 3, 5, 7}, 404), rnd({2, 3, 7, 6}, 405)}, {false, false}, kGemmTol});
  cases.push_back(OpCase{"MatMul [2,1,5,7]x[3,7,13]", "MatMul", {}, {rnd({2, 1, 5, 7}, 406), rnd({3, 7, 13}, 407)}, {false, false}, kGemmTol});
  cases.push_back(OpCase{"MatMul [17]x[17,9]", "MatMul", {}, {rnd({17}, 408), rnd({17, 9}, 409)}, {false, false}, kGemmTol});
  OpCase g1{"Gemm transB alpha beta C[N]", "Gemm", {}, {rnd({9, 40}, 410), rnd({23, 40}, 411), rnd({23}, 412)}, {false, true, true}, kGemmTol};
  g1.attrs["transB"] = attr_int(1);
  g1.attrs["alpha"] = attr_float(0.7f);
  g1.attrs["beta"] = attr_float(1.3f);
  cases.push_back(g1);
  OpCase g2{"Gemm transA C[M,1]", "Gemm", {}, {rnd({31, 6}, 413), rnd({31, 19}, 414), rnd({6, 1}, 415)}, {false, false, false}, kGemmTol};
  g2.attrs["transA"] = attr_int(1);
  cases.push_back(g2);
  OpCase g3{"Gemm one row (GEMV) const B", "Gemm", {}, {rnd({1, 257}, 416), rnd({257, 33}, 417)}, {false, true}, kGemmTol};
  cases.push_back(g3);
  // Recurrent: bidirectional LSTM (packed W/R, the SIMD step kernels) and GRU in both
  // linear_before_reset modes.
  OpCase lstm{"LSTM bidirectional h16 [T5,B3,I7]", "LSTM", {},
              {rnd({5, 3, 7}, 420), rnd({2, 64, 7}, 421, 0.3f), rnd({2, 64, 16}, 422, 0.3f), rnd({2, 128}, 423, 0.1f)},
              {false, true, true, true}, kGemmTol, 14};
  lstm.attrs["hidden_size"] = attr_int(16);
  lstm.attrs["direction"] = attr_string("bidirectional");
  cases.push_back(lstm);
  for (int64_t lbr : {0, 1}) {
    OpCase gru{"GRU h24 linear_before_reset " + std::to_string(lbr), "GRU", {},
               {rnd({6, 2, 9}, 430), rnd({1, 72, 9}, 431, 0.3f), rnd({1, 72, 24}, 432, 0.3f), rnd({1, 144}, 433, 0.1f)},
               {false, true, true, true}, kGemmTol, 14};
    gru.attrs["hidden_size"] = attr_int(24);
    gru.attrs["linear_before_reset"] = attr_int(lbr);
    cases.push_back(gru);
  }
  return cases;
}

}  // namespace

void run_op_checks(Report& r, int level, const std::string& name) {
  if (level == kSimdBaseline) return;  // each case compares a SIMD level with the baseline
  for (const OpCase& c : op_cases()) {
    std::string detail;
    bool ok = false;
    try {
      std::vector<float> want = run_case(c, "baseline");
      std::vector<float> got = run_case(c, name);
      double e = 0.0;
      if (got.size() != want.size()) {
        detail = "output size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
      } else {
        detail = compare(got.data(), want.data(), got.size(), c.tol, &e);
        ok = detail.empty();
        if (ok) detail = fmt("max |err| %.3g vs baseline", e) + fmt(" (rtol %g", c.tol.rtol) + fmt(", atol %g)", c.tol.atol);
      }
    } catch (const std::exception& ex) {
      detail = std::string("threw: ") + ex.what();
    }
    r.record(ok, name, c.name, detail);
  }
}

}  // namespace xinrt_test
