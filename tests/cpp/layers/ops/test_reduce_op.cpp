// The reduction op layers (layers/ops/reduce_op.h): every reduction over single and several
// axes, keepdims, axis=None, against double references; argmax's first maximum and NaN; NaN
// propagation; gradients (max/min ties shared); softmax and log_softmax along the last and other
// axes; the batch axis refused in a model; results independent of the CPU thread count.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/ops/reduce_op.h"
#include "op_test_util.h"

using ff::kNone;
using fftest::ops::eager;
using fftest::ops::error_of;
using fftest::ops::HostTensor;
using fftest::ops::require_close;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// x (2, 3, 4) reduced over axis 1 in double, by kind.
std::vector<double> reduce_axis1(const std::vector<float>& x, const std::string& op) {
  std::vector<double> out;
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) {
      std::vector<double> v;
      for (int j = 0; j < 3; ++j) v.push_back(x[i * 12 + j * 4 + k]);
      double r = 0;
      if (op == "sum" || op == "mean") {
        for (double e : v) r += e;
        if (op == "mean") r /= 3;
      } else if (op == "max") {
        r = *std::max_element(v.begin(), v.end());
      } else if (op == "min") {
        r = *std::min_element(v.begin(), v.end());
      } else if (op == "argmax") {
        r = static_cast<double>(std::max_element(v.begin(), v.end()) - v.begin());
      } else if (op == "argmin") {
        r = static_cast<double>(std::min_element(v.begin(), v.end()) - v.begin());
      } else {  // logsumexp
        for (double e : v) r += std::exp(e);
        r = std::log(r);
      }
      out.push_back(r);
    }
  return out;
}

}  // namespace

TEST_CASE("ReduceOp: every reduction over one axis against a double reference", "[ops][reduce]") {
  const std::vector<float> x = fftest::uniform_values(24, 7, -2.0f, 2.0f);
  for (const char* name : {"sum", "mean", "max", "min", "argmax", "argmin", "logsumexp"}) {
    DYNAMIC_SECTION(name) {
      ff::ReduceOp op(name, name, 1, {1}, false, false);
      const HostTensor y = eager(op, {{{2, 3, 4}, x}});
      CHECK(y.shape == ff::Shape{2, 4});
      require_close(y.values, reduce_axis1(x, name), 1e-5, 1e-6);
      ff::ReduceOp kept(name, name, 1, {-2}, false, true);
      CHECK(eager(kept, {{{2, 3, 4}, x}}).shape == ff::Shape{2, 1, 4});
    }
  }
}

TEST_CASE("ReduceOp: several axes and every axis and argmax over the flattened values",
          "[ops][reduce]") {
  const std::vector<float> x = {1, 5, 2, 5, 0, -1};  // (2, 3)
  ff::ReduceOp all("sum", "sum", 1, {}, true, false);
  const HostTensor s = eager(all, {{{2, 3}, x}});
  CHECK(s.shape.empty());
  require_close(s.values, {12});
  ff::ReduceOp both("mean", "mean", 1, {0, 1}, false, true);
  CHECK(eager(both, {{{2, 3}, x}}).shape == ff::Shape{1, 1});
  ff::ReduceOp am("argmax", "argmax", 1, {}, true, false);
  require_close(eager(am, {{{2, 3}, x}}).values, {1});  // the first of the two 5s
  ff::ReduceOp am1("argmax", "argmax", 1, {1}, false, false);
  require_close(eager(am1, {{{2, 3}, x}}).values, {1, 0});
}

TEST_CASE("ReduceOp: NaN propagates through max and min and logsumexp - argmax finds it",
          "[ops][reduce]") {
  const HostTensor x{{1, 4}, {1.0f, kNaN, 3.0f, kNaN}};
  for (const char* name : {"max", "min", "logsumexp", "sum", "mean"}) {
    ff::ReduceOp op(name, name, 1, {-1}, false, false);
    CHECK(std::isnan(eager(op, {x}).values[0]));
  }
  ff::ReduceOp am("argmax", "argmax", 1, {-1}, false, false);
  require_close(eager(am, {x}).values, {1});
  ff::ReduceOp inf("logsumexp", "logsumexp", 1, {-1}, false, false);
  const float big = std::numeric_limits<float>::infinity();
  CHECK(eager(inf, {{{2}, {big, 1.0f}}}).values[0] == big);
  ff::ReduceOp ninf("logsumexp", "logsumexp", 1, {-1}, false, false);
  CHECK(eager(ninf, {{{2}, {-big, -big}}}).values[0] == -big);
}

TEST_CASE("ReduceOp: gradients match finite differences", "[ops][reduce][gradient]") {
  struct Case {
    const char* name;
    std::vector<int64_t> axes;
    bool keepdims;
  };
  const std::vector<Case> cases = {{"sum", {1}, false},       {"sum", {1, 2}, true},
                                   {"mean", {-1}, false},     {"mean", {1, 2}, false},
                                   {"max", {2}, false},       {"min", {1}, true},
                                   {"logsumexp", {1, 2}, false}, {"logsumexp", {-1}, true}};
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name << " over " << ff::shape_str(c.axes) << " keepdims " << c.keepdims) {
      ff::ReduceOp op(c.name, c.name, 1, c.axes, false, c.keepdims);
      fftest::MultiCheckSpec spec;
      spec.input_shapes = {{2, 3, 4}};
      // distinct values, at least 0.05 apart: no tie for max/min within the step
      std::vector<float> v(24);
      for (int i = 0; i < 24; ++i) v[i] = -0.6f + 0.05f * static_cast<float>((i * 7) % 24);
      spec.inputs = {v};
      fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
    }
  }
  SECTION("max shares its gradient among ties") {
    ff::ReduceOp op("max", "max", 1, {1}, false, false);
    op.build({kNone, 3});
    ff::Tensor x = fftest::make_tensor({1, 3}, {2.0f, 2.0f, 1.0f});
    ff::Tensor y = ff::Tensor::zeros(fftest::device(), {1});
    ff::Tensor dy = fftest::make_tensor({1}, {1.0f});
    ff::Tensor dx = ff::Tensor::zeros(fftest::device(), {1, 3});
    std::vector<ff::Tensor> scratch;
    auto ctx = fftest::simple_context(true);
    op.forward_multi({x}, y, scratch, ctx);
    op.backward_multi({x}, y, dy, {&dx}, scratch, ctx);
    require_close(fftest::to_vector(dx), {0.5, 0.5, 0});
  }
}

TEST_CASE("ReduceOp: in a model a reduction over the batch axis is a batch statistic",
          "[ops][reduce]") {
  // No batch axis left: the value is computed over the step's actual rows (its gradient back
  // to every row), as a loss term or against per-sample values.
  ff::ReduceOp over0("sum", "sum", 1, {0}, false, false);
  CHECK(over0.build({kNone, 3}) == ff::Shape{3});
  CHECK_FALSE(over0.output_batched());
  ff::ReduceOp all("mean", "mean", 1, {}, true, true);
  CHECK(all.build({kNone, 3}) == ff::Shape{1, 1});
  CHECK_FALSE(all.output_batched());
  fftest::MultiCheckSpec spec;
  spec.input_shapes = {{5, 3}};
  ff::ReduceOp mean0("mean", "mean", 1, {0}, false, false);
  fftest::require_gradients_match(fftest::check_multi_input_gradients(mean0, spec));
  ff::SoftmaxOp soft("softmax", "softmax", 1, 0);
  CHECK_THAT(error_of([&] { soft.build({kNone, 3}); }), Catch::Contains("batch axis"));
  ff::ReduceOp ok("sum", "sum", 1, {-1}, false, false);
  CHECK(ok.build({kNone, 3, 2}) == ff::Shape{kNone, 3});
  ff::ReduceOp empty("max", "max", 1, {1}, false, false);
  CHECK_THAT(error_of([&] { eager(empty, {{{2, 0}, {}}}); }), Catch::Contains("empty axis"));
}

TEST_CASE("ReduceOp: the same bits whatever the CPU thread count", "[ops][reduce]") {
  const std::vector<float> x = fftest::uniform_values(64 * 2048, 9, -1.0f, 1.0f);
  auto run = [&](int threads) {
    return fftest::with_threads(threads, [&] {
      ff::ReduceOp op("sum", "sum", 1, {0}, false, false);
      return eager(op, {{{64, 2048}, x}}).values;
    });
  };
  CHECK(run(1) == run(4));
}

TEST_CASE("SoftmaxOp: softmax and log_softmax along any axis", "[ops][reduce][softmax]") {
  const std::vector<float> x = fftest::uniform_values(24, 11, -3.0f, 3.0f);
  auto reference = [&](int axis, bool log) {
    // x (2, 3, 4) along `axis`
    const int dims[3] = {2, 3, 4};
    const int strides[3] = {12, 4, 1};
    std::vector<double> out(24);
    for (int i = 0; i < 24; ++i) {
      const int pos = (i / strides[axis]) % dims[axis];
      const int base = i - pos * strides[axis];
      double mx = -1e300, s = 0;
      for (int j = 0; j < dims[axis]; ++j) mx = std::max(mx, double(x[base + j * strides[axis]]));
      for (int j = 0; j < dims[axis]; ++j) s += std::exp(x[base + j * strides[axis]] - mx);
      out[i] = log ? x[i] - mx - std::log(s) : std::exp(x[i] - mx) / s;
    }
    return out;
  };
  for (int axis : {2, 1, 0}) {
    for (const char* name : {"softmax", "log_softmax"}) {
      DYNAMIC_SECTION(name << " axis " << axis) {
        ff::SoftmaxOp op(name, name, 1, axis == 2 ? -1 : axis);
        require_close(eager(op, {{{2, 3, 4}, x}}).values,
                      reference(axis, std::string(name) == "log_softmax"), 2e-5, 1e-6);
        if (axis > 0) {
          ff::SoftmaxOp g(name, name, 1, axis);
          fftest::MultiCheckSpec spec;
          spec.input_shapes = {{2, 3, 4}};
          fftest::require_gradients_match(fftest::check_multi_input_gradients(g, spec));
        }
      }
    }
  }
  SECTION("a NaN makes its slice NaN, as the Softmax activation") {
    ff::SoftmaxOp op("softmax", "softmax", 1, 0);
    const HostTensor y = eager(op, {{{2, 2}, {kNaN, 1.0f, 0.0f, 2.0f}}});
    CHECK(std::isnan(y.values[0]));
    CHECK(std::isnan(y.values[2]));
    CHECK_FALSE(std::isnan(y.values[1]));
  }
  SECTION("in a model the batch axis is refused") {
    ff::SoftmaxOp op("softmax", "softmax", 1, 0);
    CHECK_THAT(error_of([&] { op.build({kNone, 3}); }), Catch::Contains("batch axis"));
  }
}
