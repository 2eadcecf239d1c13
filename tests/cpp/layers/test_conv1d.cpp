// Tests for layers/conv1d.cpp (the Conv2D code path at height 1): output values against a naive
// convolution and finite-difference gradients (shared helper) for valid, same and causal padding
// with strides, dilation, several channels and batch > 1; causality; Keras's output lengths;
// shape and argument errors.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/conv1d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

namespace {

struct Conv1DCase {
  ff::Shape input;  // (N, steps, C)
  int64_t filters, kernel, stride, dilation;
  std::string padding, activation;
  bool use_bias;
};

RefConv ref_geometry(const Conv1DCase& c) {
  return {c.input[0], 1, c.input[1], c.input[2], 1, c.kernel, c.filters, 1, c.stride, 1,
          c.dilation, c.padding};
}

}  // namespace

TEST_CASE("Conv1D: forward matches a naive convolution and gradients match finite differences",
          "[layers][conv1d][gradient]") {
  const std::vector<Conv1DCase> cases = {
      {{2, 9, 3}, 4, 3, 1, 1, "valid", "linear", true},
      {{3, 8, 2}, 3, 4, 2, 1, "same", "tanh", true},
      {{2, 10, 2}, 2, 3, 1, 2, "causal", "linear", true},
      {{2, 11, 3}, 3, 2, 3, 1, "causal", "sigmoid", false},
      {{2, 12, 2}, 2, 3, 2, 2, "valid", "linear", true},
      {{1, 6, 4}, 5, 1, 1, 1, "valid", "linear", true},  // pointwise
  };
  const size_t idx = GENERATE(range<size_t>(0, 6));
  const Conv1DCase& c = cases[idx];
  CAPTURE(idx, c.input, c.kernel, c.stride, c.dilation, c.padding, c.activation);
  ff::Conv1D layer("conv1d", 5, c.filters, c.kernel, c.stride, c.padding, c.dilation,
                   c.activation, c.use_bias, "glorot_uniform", "zeros");
  LayerCheckSpec spec;
  spec.input_shape = c.input;
  spec.seed = 40 + idx;
  const auto r = check_layer_gradients(layer, spec);
  const RefConv g = ref_geometry(c);
  CHECK(r.output_shape == ff::Shape{c.input[0], g.aw().out, c.filters});
  CHECK(layer.param_specs()[0].shape == ff::Shape{c.kernel, c.input[2], c.filters});
  const auto z = ref_conv(g, r.x, r.params[0], c.use_bias ? &r.params[1] : nullptr);
  const auto want = activation_ref(c.activation, z, static_cast<int64_t>(z.size()) / c.filters,
                                   c.filters);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("output element " << i);
    REQUIRE(r.y[i] == Approx(want[i]).margin(1e-5).epsilon(1e-5));
  }
  require_gradients_match(r);
}

TEST_CASE("Conv1D: causal padding never lets output t see inputs after t", "[layers][conv1d]") {
  ff::Backend& be = fftest::backend();
  const int64_t steps = 12, C = 2, F = 3, k = 3, d = 2;
  ff::Conv1D layer("conv1d", 1, F, k, 1, "causal", d, "linear", true, "glorot_uniform", "zeros");
  CHECK(layer.build({ff::kNone, steps, C}) == ff::Shape{ff::kNone, steps, F});
  ff::Tensor w = make_tensor({k, C, F}, uniform_values(k * C * F, 1, -1, 1));
  ff::Tensor b = make_tensor({F}, {0.5f, -0.5f, 0.25f});
  ff::Tensor gw = ff::Tensor::zeros(be.device(), {k, C, F}), gb = ff::Tensor::zeros(be.device(), {F});
  layer.bind({w, b}, {gw, gb});
  std::vector<ff::Tensor> scratch;
  fftest::TestContext test_context(false, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  auto xv = uniform_values(steps * C, 2, -1, 1);
  ff::Tensor x = make_tensor({1, steps, C}, xv);
  ff::Tensor y0 = ff::Tensor::zeros(be.device(), {1, steps, F}), y1 = ff::Tensor::zeros(be.device(), {1, steps, F});
  layer.forward(x, y0, scratch, ctx);
  const int64_t t0 = 7;
  xv[t0 * C + 1] += 1.0f;
  fill(x, xv);
  layer.forward(x, y1, scratch, ctx);
  const auto a = to_vector(y0), bb = to_vector(y1);
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t f = 0; f < F; ++f) {
      CAPTURE(t, f);
      // Output t reads inputs t, t-2, t-4: it changes iff t0 is one of them.
      const bool reads = t >= t0 && (t - t0) % d == 0 && (t - t0) / d < k;
      CHECK((a[t * F + f] != bb[t * F + f]) == reads);
    }
}

TEST_CASE("Conv1D: output lengths follow Keras's formulas", "[layers][conv1d]") {
  struct Row {
    int64_t steps, k, s, d;
    const char* padding;
    int64_t out;
  };
  for (const Row& r : std::vector<Row>{{10, 3, 1, 1, "valid", 8},
                                       {10, 3, 2, 1, "same", 5},
                                       {10, 3, 1, 2, "causal", 10},
                                       {10, 3, 3, 1, "causal", 4},
                                       {10, 4, 3, 1, "valid", 3},
                                       {7, 3, 1, 3, "valid", 1}}) {
    CAPTURE(r.steps, r.k, r.s, r.d, r.padding);
    ff::Conv1D layer("c", 1, 6, r.k, r.s, r.padding, r.d, "relu", true, "glorot_uniform", "zeros");
    CHECK(layer.build({ff::kNone, r.steps, 2}) == ff::Shape{ff::kNone, r.out, 6});
    CHECK(ref_axis(r.steps, r.k, r.s, r.d, r.padding).out == r.out);
  }
}

TEST_CASE("Conv1D: shape and argument errors", "[layers][conv1d]") {
  ff::Conv1D rank("conv1d", 1, 4, 3, 1, "valid", 1, "relu", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(rank.build({ff::kNone, 28, 28, 1}),
                    Catch::Contains("Input 0 of layer \"conv1d\" (Conv1D)") &&
                        Catch::Contains("expected ndim=3") &&
                        Catch::Contains("found shape=(None, 28, 28, 1)"));
  ff::Conv1D big("conv1d_1", 1, 4, 5, 1, "valid", 1, "relu", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(big.build({ff::kNone, 3, 2}),
                    Catch::Contains("kernel is larger than the unpadded input") &&
                        Catch::Contains("kernel_size=5"));
  ff::Conv1D causal("conv1d_2", 1, 4, 5, 1, "causal", 1, "relu", true, "glorot_uniform", "zeros");
  CHECK(causal.build({ff::kNone, 3, 2}) == ff::Shape{ff::kNone, 3, 4});
  CHECK_THROWS_WITH(ff::Conv1D("c", 1, 4, 3, 1, "full", 1, "relu", true, "glorot_uniform", "zeros"),
                    Catch::Contains("{'valid', 'same', 'causal'}") &&
                        Catch::Contains("padding=full"));
  CHECK_THROWS_WITH(ff::Conv1D("c", 1, 4, 0, 1, "valid", 1, "relu", true, "glorot_uniform", "zeros"),
                    Catch::Contains("`kernel_size`"));
  CHECK_THROWS_WITH(ff::Conv1D("c", 1, -2, 3, 1, "valid", 1, "relu", true, "glorot_uniform", "zeros"),
                    Catch::Contains("`filters`"));
}
