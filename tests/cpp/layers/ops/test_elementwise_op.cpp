// The elementwise op layers (layers/ops/elementwise_op.h): every unary and binary op forward
// against a double-precision reference, eagerly and with broadcasting, scalars and constants;
// every gradient by the shared finite-difference check (broadcast operands summed back);
// comparisons and where; NaN propagation. (Forward against NumPy: tests/python/ops/.)
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/ops/elementwise_op.h"
#include "op_test_util.h"

using ff::kNone;
using ff::OpOperand;
using fftest::ops::eager;
using fftest::ops::error_of;
using fftest::ops::HostTensor;
using fftest::ops::require_close;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

const std::map<std::string, std::function<double(double)>>& unary_refs() {
  static const std::map<std::string, std::function<double(double)>> refs = {
      {"negative", [](double x) { return -x; }},
      {"exp", [](double x) { return std::exp(x); }},
      {"log", [](double x) { return std::log(x); }},
      {"sqrt", [](double x) { return std::sqrt(x); }},
      {"square", [](double x) { return x * x; }},
      {"abs", [](double x) { return std::fabs(x); }},
      {"sign", [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }},
      {"trunc", [](double x) { return std::trunc(x); }},
      {"not_zero", [](double x) { return x != 0 ? 1.0 : 0.0; }},
      {"relu", [](double x) { return x > 0 ? x : 0.0; }},
      {"sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"gelu", gelu},
      {"silu", [](double x) { return x / (1.0 + std::exp(-x)); }},
  };
  return refs;
}

std::vector<double> map_ref(const std::vector<float>& x, const std::function<double(double)>& f) {
  std::vector<double> y;
  for (float v : x) y.push_back(f(v));
  return y;
}

}  // namespace

TEST_CASE("UnaryOp: every op forward against a double reference", "[ops][elementwise]") {
  const std::vector<float> signed_x = {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 1.5f, 3.0f, 2.75f};
  const std::vector<float> positive_x = {0.01f, 0.25f, 0.5f, 1.0f, 2.0f, 4.0f, 9.0f, 100.0f};
  for (const auto& [name, ref] : unary_refs()) {
    DYNAMIC_SECTION(name) {
      const bool positive = name == "log" || name == "sqrt";
      const std::vector<float>& x = positive ? positive_x : signed_x;
      ff::UnaryOp op(name, name, 1);
      const HostTensor y = eager(op, {{{2, 4}, x}});
      CHECK(y.shape == ff::Shape{2, 4});
      require_close(y.values, map_ref(x, ref), 2e-6, 1e-6);
    }
  }
  SECTION("clip, leaky_relu and elu take parameters") {
    ff::UnaryOp clip("clip", "clip", 1, -1.0f, 2.0f);
    require_close(eager(clip, {{{8}, signed_x}}).values,
                  map_ref(signed_x, [](double x) { return std::min(std::max(x, -1.0), 2.0); }));
    ff::UnaryOp leaky("leaky_relu", "leaky_relu", 1, 0.1f);
    require_close(eager(leaky, {{{8}, signed_x}}).values,
                  map_ref(signed_x, [](double x) { return x > 0 ? x : 0.1 * x; }));
    ff::UnaryOp elu("elu", "elu", 1, 0.5f);
    require_close(eager(elu, {{{8}, signed_x}}).values,
                  map_ref(signed_x, [](double x) { return x > 0 ? x : 0.5 * std::expm1(x); }));
  }
  SECTION("a scalar input (rank 0) runs eagerly") {
    ff::UnaryOp exp("exp", "exp", 1);
    const HostTensor y = eager(exp, {{{}, {1.0f}}});
    CHECK(y.shape.empty());
    require_close(y.values, {std::exp(1.0)});
  }
}

TEST_CASE("UnaryOp: NaN propagates through relu and clip and abs and sign", "[ops][elementwise]") {
  for (const char* name : {"relu", "abs", "sign", "clip", "negative", "square"}) {
    ff::UnaryOp op(name, name, 1, -1.0f, 1.0f);
    CHECK(std::isnan(eager(op, {{{1}, {kNaN}}}).values[0]));
  }
}

TEST_CASE("UnaryOp: gradients match finite differences", "[ops][elementwise][gradient]") {
  for (const char* name : {"negative", "exp", "log", "sqrt", "square", "abs", "relu", "sigmoid",
                           "tanh", "gelu", "silu", "leaky_relu", "elu"}) {
    DYNAMIC_SECTION(name) {
      ff::UnaryOp op(name, name, 1, std::string(name) == "leaky_relu" ? 0.2f : 1.0f);
      fftest::MultiCheckSpec spec;
      spec.input_shapes = {{3, 5}};
      const std::string n = name;
      if (n == "log" || n == "sqrt")
        spec.inputs = {fftest::uniform_values(15, 3, 0.5f, 2.0f)};
      fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
    }
  }
  SECTION("clip passes the gradient where the value is kept") {
    ff::UnaryOp op("clip", "clip", 1, -0.5f, 0.5f);
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{2, 4}};
    spec.inputs = {{-0.9f, -0.3f, 0.1f, 0.7f, 0.45f - 0.1f, -0.45f, 2.0f, 0.2f}};
    const auto r = fftest::check_multi_input_gradients(op, spec);
    fftest::require_gradients_match(r);
  }
  SECTION("stop_gradient copies forward and gives no gradient") {
    ff::UnaryOp op("stop_gradient", "stop_gradient", 1);
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{2, 3}};
    // The forward is the identity (a nonzero numeric gradient) but the analytic one is 0: the
    // check must fail on every element, proving the gradient is stopped.
    const auto r = fftest::check_multi_input_gradients(op, spec);
    CHECK(r.dxs[0].failures == 6);
    CHECK(r.y.size() == 6);
  }
}

TEST_CASE("BinaryOp: forward with broadcasting and scalars and constants", "[ops][elementwise]") {
  const HostTensor a{{2, 3}, {1, 2, 3, 4, 5, 6}};
  const HostTensor row{{3}, {10, 20, 30}};
  SECTION("(2, 3) op (3,)") {
    ff::BinaryOp sub("subtract", "subtract", 1, {OpOperand::input(), OpOperand::input()});
    const HostTensor y = eager(sub, {a, row});
    CHECK(y.shape == ff::Shape{2, 3});
    require_close(y.values, {-9, -18, -27, -6, -15, -24});
  }
  SECTION("(3,) op (2, 3): the first operand broadcast") {
    ff::BinaryOp div("divide", "divide", 1, {OpOperand::input(), OpOperand::input()});
    require_close(eager(div, {row, a}).values, {10, 10, 10, 2.5, 4, 5});
  }
  SECTION("a scalar on either side") {
    ff::BinaryOp rsub("subtract", "subtract", 1, {OpOperand::of_scalar(1.0f), OpOperand::input()});
    require_close(eager(rsub, {a}).values, {0, -1, -2, -3, -4, -5});
    ff::BinaryOp pow("power", "power", 1, {OpOperand::input(), OpOperand::of_scalar(2.0f)});
    require_close(eager(pow, {a}).values, {1, 4, 9, 16, 25, 36});
  }
  SECTION("a constant in a model's graph (batch None)") {
    ff::BinaryOp mul("multiply", "multiply", 1,
                     {OpOperand::input(), OpOperand::constant({3}, {1.0f, -1.0f, 0.5f})});
    CHECK(mul.build({kNone, 3}) == ff::Shape{kNone, 3});
    ff::Tensor x = fftest::make_tensor({2, 3}, a.values);
    ff::Tensor y = ff::Tensor::zeros(fftest::device(), {2, 3});
    std::vector<ff::Tensor> scratch;
    mul.forward_multi({x}, y, scratch, fftest::simple_context(false));
    require_close(fftest::to_vector(y), {1, -2, 1.5, 4, -5, 3});
  }
  SECTION("maximum and minimum propagate NaN from either side") {
    ff::BinaryOp mx("maximum", "maximum", 1, {OpOperand::input(), OpOperand::input()});
    ff::BinaryOp mn("minimum", "minimum", 1, {OpOperand::input(), OpOperand::input()});
    const HostTensor p{{3}, {kNaN, 1.0f, 2.0f}}, q{{3}, {1.0f, kNaN, 3.0f}};
    require_close(eager(mx, {p, q}).values, {NAN, NAN, 3});
    require_close(eager(mn, {p, q}).values, {NAN, NAN, 2});
  }
  SECTION("comparisons give float32 0 and 1") {
    const HostTensor p{{4}, {1, 2, 3, kNaN}}, q{{4}, {2, 2, 2, kNaN}};
    const std::map<std::string, std::vector<double>> want = {
        {"equal", {0, 1, 0, 0}},     {"not_equal", {1, 0, 1, 1}},
        {"less", {1, 0, 0, 0}},      {"less_equal", {1, 1, 0, 0}},
        {"greater", {0, 0, 1, 0}},   {"greater_equal", {0, 1, 1, 0}}};
    for (const auto& [name, values] : want) {
      ff::BinaryOp op(name, name, 1, {OpOperand::input(), OpOperand::input()});
      INFO(name);
      require_close(eager(op, {p, q}).values, values);
    }
  }
  SECTION("both operands growing is refused eagerly too") {
    ff::BinaryOp add("add", "add", 1, {OpOperand::input(), OpOperand::input()});
    const std::string msg = error_of([&] { eager(add, {{{3, 1}, {1, 2, 3}}, {{3}, {1, 2, 3}}}); });
    CHECK_THAT(msg, Catch::Contains("ff.ops.add"));
    CHECK_THAT(msg, Catch::Contains("(3, 1) and (3,)"));
  }
  SECTION("in a model, (None, 1) against (None,) is refused when the node is built") {
    ff::BinaryOp sub("subtract", "subtract", 1, {OpOperand::input(), OpOperand::input()});
    CHECK_THAT(error_of([&] { sub.build_multi({{kNone, 1}, {kNone}}); }),
               Catch::Contains("x[:, 0]"));
  }
}

TEST_CASE("BinaryOp: gradients and broadcast operands summed back", "[ops][elementwise][gradient]") {
  const std::vector<std::vector<ff::Shape>> shape_sets = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 4}, {1, 4}}, {{2, 3, 4}, {3, 1}}, {{3, 1}, {3, 4}}};
  for (const char* name : {"add", "subtract", "multiply", "divide", "power"}) {
    for (size_t s = 0; s < shape_sets.size(); ++s) {
      DYNAMIC_SECTION(name << " shapes " << s) {
        ff::BinaryOp op(name, name, 1, {OpOperand::input(), OpOperand::input()});
        fftest::MultiCheckSpec spec;
        spec.input_shapes = shape_sets[s];
        spec.eager = true;  // the second operand is not batch-major
        if (std::string(name) == "power")  // a positive base
          spec.inputs = {fftest::uniform_values(ff::shape_numel(shape_sets[s][0]), 5, 0.5f, 1.5f)};
        if (std::string(name) == "divide")  // a divisor away from 0
          spec.inputs = {{}, fftest::uniform_values(ff::shape_numel(shape_sets[s][1]), 6, 0.5f, 1.5f)};
        fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
      }
    }
  }
  for (const char* name : {"maximum", "minimum"}) {
    DYNAMIC_SECTION(name) {
      // b = 0 against |a| >= 0.1: no tie within the finite-difference step
      ff::BinaryOp op(name, name, 1, {OpOperand::input(), OpOperand::input()});
      fftest::MultiCheckSpec spec;
      spec.input_shapes = {{3, 4}, {4}};
      spec.eager = true;
      spec.inputs = {{}, {0.0f, 0.0f, 0.0f, 0.0f}};
      fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
    }
  }
  SECTION("a scalar or a constant operand: the input's gradient only") {
    ff::BinaryOp rdiv("divide", "divide", 1, {OpOperand::of_scalar(2.0f), OpOperand::input()});
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{3, 4}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(rdiv, spec));
    ff::BinaryOp mul("multiply", "multiply", 1,
                     {OpOperand::constant({4}, {1.0f, -2.0f, 0.5f, 3.0f}), OpOperand::input()});
    fftest::require_gradients_match(fftest::check_multi_input_gradients(mul, spec));
  }
  SECTION("comparisons have a zero gradient") {
    ff::BinaryOp op("greater", "greater", 1, {OpOperand::input(), OpOperand::input()});
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{2, 3}, {3}};
    spec.eager = true;
    spec.inputs = {{}, {0.0f, 0.0f, 0.0f}};
    const auto r = fftest::check_multi_input_gradients(op, spec);
    fftest::require_gradients_match(r, false);
    CHECK(r.dxs[0].max_abs_numeric == 0.0);
  }
}

TEST_CASE("WhereOp: selects with broadcasting and routes the gradient", "[ops][elementwise]") {
  ff::WhereOp op("where", 1, {OpOperand::input(), OpOperand::input(), OpOperand::of_scalar(-1.0f)});
  const HostTensor y = eager(op, {{{2, 2}, {1, 0, 0, 1}}, {{2, 2}, {5, 6, 7, 8}}});
  require_close(y.values, {5, -1, -1, 8});
  SECTION("gradient check: x and y, the condition skipped") {
    ff::WhereOp w("where", 1, {OpOperand::input(), OpOperand::input(), OpOperand::input()});
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{3, 4}, {3, 4}, {4}};
    spec.eager = true;
    spec.inputs = {{1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0}};
    spec.skip = {true};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(w, spec));
  }
}
