// Tests for layers/zero_padding2d.cpp and the CPU padding kernels: values (zeros around, the
// input inside), finite-difference gradients (shared helper) for symmetric and asymmetric
// padding, output shapes, NaN passing through, and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/zero_padding2d.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("ZeroPadding2D: zeros around the input, gradient is the interior",
          "[layers][zero_padding2d][gradient]") {
  const std::vector<int64_t> pad = GENERATE(std::vector<int64_t>{1, 1, 1, 1},
                                            std::vector<int64_t>{0, 2, 3, 1},
                                            std::vector<int64_t>{2, 0, 0, 0},
                                            std::vector<int64_t>{0, 0, 0, 0});
  CAPTURE(pad);
  const int64_t N = 2, H = 3, W = 4, C = 2;
  ff::ZeroPadding2D layer("zero_padding2d", 1, pad);
  LayerCheckSpec spec;
  spec.input_shape = {N, H, W, C};
  const auto r = check_layer_gradients(layer, spec);
  const int64_t OH = H + pad[0] + pad[1], OW = W + pad[2] + pad[3];
  CHECK(r.output_shape == ff::Shape{N, OH, OW, C});
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, OH, OW, C});
  CHECK(layer.param_specs().empty());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t ih = oh - pad[0], iw = ow - pad[2];
          const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
          const float want = inside ? r.x[((n * H + ih) * W + iw) * C + c] : 0.0f;
          CAPTURE(n, oh, ow, c);
          REQUIRE(r.y[((n * OH + oh) * OW + ow) * C + c] == want);
        }
  require_gradients_match(r);
}

TEST_CASE("ZeroPadding2D: NaN passes through unchanged", "[layers][zero_padding2d][numerics]") {
  ff::Backend& be = fftest::backend();
  ff::ZeroPadding2D layer("zero_padding2d", 1, {1, 1, 1, 1});
  layer.build({1, 1, 1, 1});
  ff::Tensor x = make_tensor({1, 1, 1, 1}, {std::numeric_limits<float>::quiet_NaN()});
  ff::Tensor y = ff::Tensor::zeros(be.device(), {1, 3, 3, 1});
  std::vector<ff::Tensor> scratch;
  layer.forward(x, y, scratch, {&be, false, 0, -1, -1});
  const auto yv = to_vector(y);
  for (int i = 0; i < 9; ++i) CHECK(std::isnan(yv[i]) == (i == 4));
}

TEST_CASE("ZeroPadding2D: errors", "[layers][zero_padding2d]") {
  CHECK_THROWS_WITH(ff::ZeroPadding2D("z", 1, {1, -1, 0, 0}),
                    Catch::Contains("`padding` values must be >= 0") &&
                        Catch::Contains("((1, -1), (0, 0))"));
  CHECK_THROWS_AS(ff::ZeroPadding2D("z", 1, {1, 1}), ff::ValueError);
  ff::ZeroPadding2D layer("zero_padding2d", 1, {1, 1, 2, 2});
  CHECK_THROWS_WITH(layer.build({ff::kNone, 5, 5}),
                    Catch::Contains("(ZeroPadding2D)") && Catch::Contains("expected ndim=4") &&
                        Catch::Contains("found shape=(None, 5, 5)"));
  CHECK(layer.build({ff::kNone, 5, 6, 3}) == ff::Shape{ff::kNone, 7, 10, 3});
}

TEST_CASE("ZeroPadding2D: pads whose output passes the size limit fail at build",
          "[layers][zero_padding2d][limits]") {
  // Pads of 2^31 - 1 (the largest a saved config holds): (2^32 - 1)^2 elements per sample used to
  // wrap, leaving a tiny buffer that the kernel wrote far past.
  const int64_t p = 2147483647;
  ff::ZeroPadding2D huge("zero_padding2d", 1, {p, p, p, p});
  CHECK_THROWS_WITH(huge.build({ff::kNone, 1, 1, 1}),
                    Catch::Contains("Layer \"zero_padding2d\" (ZeroPadding2D) on input "
                                    "shape=(None, 1, 1, 1): the output shape=(None, 4294967295, "
                                    "4294967295, 1)") &&
                        Catch::Contains("the limit is 2147483647 (2^31 - 1) elements per sample"));
  CHECK_FALSE(huge.built());
  // Through the API pads may reach 2^63 - 1: the sum itself overflows.
  ff::ZeroPadding2D wrap("zp_wrap", 1, {INT64_MAX, 1, 0, 0});
  CHECK_THROWS_WITH(wrap.build({ff::kNone, 2, 2, 1}),
                    Catch::Contains("Layer \"zp_wrap\" (ZeroPadding2D)") &&
                        Catch::Contains("the padded height overflows"));
  // Just under the limit is fine (nothing is allocated by build).
  ff::ZeroPadding2D ok("zp_ok", 1, {0, 46339, 0, 46339});
  CHECK(ok.build({ff::kNone, 1, 1, 1}) == ff::Shape{ff::kNone, 46340, 46340, 1});
}
