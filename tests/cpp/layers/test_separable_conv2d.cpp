// Tests for layers/separable_conv2d.cpp: weights in Keras's order and shapes (depthwise_kernel,
// pointwise_kernel (1, 1, C * M, filters), bias), values against a direct double-precision
// depthwise then pointwise convolution, and finite-difference gradients for x and all three
// weights (shared helper) with and without an activation; errors.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/separable_conv2d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

TEST_CASE("SeparableConv2D: weights and values and gradients",
          "[layers][separable_conv2d][gradient]") {
  struct Case {
    std::vector<int64_t> k, s;
    int64_t M;
    std::string padding, act;
    bool bias;
  };
  const Case c = GENERATE(Case{{3, 3}, {1, 1}, 1, "valid", "linear", true},
                          Case{{3, 2}, {2, 1}, 2, "same", "sigmoid", true},
                          Case{{2, 2}, {1, 1}, 1, "same", "gelu", false});
  CAPTURE(c.k[0], c.k[1], c.s[0], c.M, c.padding, c.act, c.bias);
  const int64_t N = 2, H = 5, W = 4, C = 3, F = 4;
  ff::SeparableConv2D layer("separable_conv2d", 1, F, c.k, c.s, c.padding, c.M, {1, 1}, c.act,
                            c.bias, "glorot_uniform", "glorot_uniform", "zeros");
  CHECK(layer.class_name() == "SeparableConv2D");
  LayerCheckSpec spec;
  spec.input_shape = {N, H, W, C};
  spec.seed = 6;
  const auto r = check_layer_gradients(layer, spec);
  const auto specs = layer.param_specs();
  REQUIRE(specs.size() == (c.bias ? 3u : 2u));
  CHECK(specs[0].name == "depthwise_kernel");
  CHECK(specs[0].shape == ff::Shape{c.k[0], c.k[1], C, c.M});
  CHECK(specs[1].name == "pointwise_kernel");
  CHECK(specs[1].shape == ff::Shape{1, 1, C * c.M, F});
  const RefAxis ah = ref_axis(H, c.k[0], c.s[0], 1, c.padding);
  const RefAxis aw = ref_axis(W, c.k[1], c.s[1], 1, c.padding);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, ah.out, aw.out, F});
  const auto& dk = r.params[0];
  const auto& pk = r.params[1];
  const int64_t CM = C * c.M;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < ah.out; ++oh)
      for (int64_t ow = 0; ow < aw.out; ++ow) {
        std::vector<double> z(static_cast<size_t>(CM), 0.0);
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t m = 0; m < c.M; ++m)
            for (int64_t a = 0; a < c.k[0]; ++a)
              for (int64_t b = 0; b < c.k[1]; ++b) {
                const int64_t ih = oh * c.s[0] - ah.pad + a, iw = ow * c.s[1] - aw.pad + b;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                z[ch * c.M + m] += static_cast<double>(r.x[((n * H + ih) * W + iw) * C + ch]) *
                                   dk[((a * c.k[1] + b) * C + ch) * c.M + m];
              }
        for (int64_t f = 0; f < F; ++f) {
          double s = c.bias ? r.params[2][f] : 0.0;
          for (int64_t j = 0; j < CM; ++j) s += z[j] * pk[j * F + f];
          CHECK(r.y[((n * ah.out + oh) * aw.out + ow) * F + f] ==
                Approx(act_ref(c.act, s)).margin(1e-5));
        }
      }
  require_gradients_match(r);
}

TEST_CASE("SeparableConv2D: errors", "[layers][separable_conv2d]") {
  CHECK_THROWS_WITH(ff::SeparableConv2D("s", 1, 0, {3, 3}, {1, 1}, "valid", 1, {1, 1}, "linear",
                                        true, "glorot_uniform", "glorot_uniform", "zeros"),
                    Catch::Contains("Invalid value for argument `filters`"));
  CHECK_THROWS_AS(ff::SeparableConv2D("s", 1, 2, {3, 3}, {1, 1}, "causal", 1, {1, 1}, "linear",
                                      true, "glorot_uniform", "glorot_uniform", "zeros"),
                  ff::ValueError);
  ff::SeparableConv2D layer("sep", 1, 2, {3, 3}, {1, 1}, "valid", 1, {1, 1}, "linear", true,
                            "glorot_uniform", "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(layer.build({ff::kNone, 4, 4}), Catch::Contains("expected ndim=4"));
}
