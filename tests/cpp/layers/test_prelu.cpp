// Tests for layers/prelu.cpp and the prelu kernels: alpha in Keras's shape (1 along the shared
// axes), the forward pass against a double reference of the broadcast, finite-difference
// gradients for x and alpha (shared helper) with no, leading, trailing and alternating shared
// axes, an alpha gradient over several member chunks against a double sum, the same bits for any
// thread count, and the errors for bad shared axes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/prelu.h"
#include "test_util.h"

using namespace fftest;

namespace {

// The alpha index of flat element i of an input of `shape` (batch first) for Keras's alpha
// shape (shape[1:], 1 at the shared axes): NumPy broadcasting, done the long way.
int64_t alpha_index(const ff::Shape& shape, const ff::Shape& alpha_shape, int64_t i) {
  int64_t a = 0, stride = 1;
  for (int64_t j = static_cast<int64_t>(shape.size()) - 1; j >= 1; --j) {
    const int64_t coord = i % shape[j];
    i /= shape[j];
    const int64_t ad = alpha_shape[j - 1];
    a += (ad == 1 ? 0 : coord) * stride;
    stride *= ad;
  }
  return a;
}

}  // namespace

TEST_CASE("PReLU layer: alpha's Keras shape and forward and gradients for any shared axes",
          "[layers][prelu][gradient]") {
  struct Case {
    std::vector<int64_t> shared;
    ff::Shape alpha_shape;
  };
  const Case c = GENERATE(Case{{}, {3, 4, 2}}, Case{{1, 2}, {1, 1, 2}}, Case{{3}, {3, 4, 1}},
                          Case{{2}, {3, 1, 2}}, Case{{1, 2, 3}, {1, 1, 1}});
  CAPTURE(ff::shape_str(c.alpha_shape));
  ff::PReLU layer("p_re_lu", 1, "zeros", c.shared);
  CHECK(layer.class_name() == "PReLU");
  LayerCheckSpec spec;
  spec.input_shape = {2, 3, 4, 2};
  spec.seed = 5;
  const auto r = check_layer_gradients(layer, spec);
  REQUIRE(layer.param_specs().size() == 1);
  CHECK(layer.param_specs()[0].name == "alpha");
  CHECK(layer.param_specs()[0].initializer == "zeros");
  CHECK(layer.param_specs()[0].shape == c.alpha_shape);
  const auto& alpha = r.params.at(0);
  for (size_t i = 0; i < r.x.size(); ++i) {
    const float a = alpha[alpha_index(spec.input_shape, c.alpha_shape, static_cast<int64_t>(i))];
    CHECK(r.y[i] == Approx(r.x[i] < 0 ? a * r.x[i] : r.x[i]).margin(1e-7));
  }
  require_gradients_match(r);
}

TEST_CASE("PReLU layer: the alpha gradient over several member chunks for any thread count",
          "[layers][prelu]") {
  // One alpha per channel: 9 * 30 * 30 = 8100 members each, two chunks of kPReluChunk.
  ff::PReLU layer("p_re_lu", 1, "zeros", {1, 2});
  const ff::Shape shape{9, 30, 30, 2};
  layer.build(shape);
  const int64_t n = 9 * 30 * 30 * 2;
  const auto xv = signed_values(n, 3, 0.0f, 2.0f);
  const auto dyv = uniform_values(n, 4, -1.0f, 1.0f);
  std::vector<double> want(2, 0.0);
  for (int64_t i = 0; i < n; ++i) want[i % 2] += static_cast<double>(dyv[i]) * std::min(xv[i], 0.0f);
  auto run = [&] {
    ff::Tensor x = make_tensor(shape, xv), dy = make_tensor(shape, dyv);
    ff::Tensor alpha = make_tensor({1, 1, 2}, {0.25f, -0.5f});
    ff::Tensor dalpha = ff::Tensor::zeros(device(), {1, 1, 2});
    ff::Tensor dx = ff::Tensor::zeros(device(), shape), y = ff::Tensor::zeros(device(), shape);
    layer.bind({alpha}, {dalpha});
    TestContext tc(true);
    std::vector<ff::Tensor> scratch;
    layer.forward(x, y, scratch, tc.ctx);
    layer.backward(x, y, dy, &dx, scratch, tc.ctx);
    auto out = to_vector(dalpha);
    const auto d = to_vector(dx);
    out.insert(out.end(), d.begin(), d.end());
    return out;
  };
  const auto one = with_threads(1, run);
  const auto many = with_threads(4, run);
  CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
  CHECK(one[0] == Approx(want[0]).epsilon(1e-6));
  CHECK(one[1] == Approx(want[1]).epsilon(1e-6));
  for (int64_t i = 0; i < 50; ++i) {
    const float a = i % 2 ? -0.5f : 0.25f;
    CHECK(one[2 + i] == (xv[i] > 0 ? dyv[i] : a * dyv[i]));
  }
}

TEST_CASE("PReLU layer: bad shared axes are refused", "[layers][prelu]") {
  CHECK_THROWS_WITH(ff::PReLU("p", 1, "zeros", {0}),
                    Catch::Contains("the batch axis 0 is never shared"));
  CHECK_THROWS_WITH(ff::PReLU("p", 1, "zeros", {-1}), Catch::Contains("negative axes"));
  CHECK_THROWS_AS(ff::PReLU("p", 1, "nonsense", {}), ff::ValueError);
  ff::PReLU layer("p", 1, "zeros", {3});
  CHECK_THROWS_WITH(layer.build({ff::kNone, 4, 5}),
                    Catch::Contains("Layer \"p\" (PReLU): shared_axes=3 names axis 3") &&
                        Catch::Contains("has axes 1..2"));
}
