// Tests for layers/cropping2d.cpp (the zero-padding kernels with roles swapped): the output is
// the input's interior, the gradient is dy surrounded by zeros (finite differences, shared
// helper), and Keras's errors for negative crops and crops as large as the input.
#include <catch2/catch.hpp>

#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/cropping2d.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Cropping2D: the interior forward and zeros around the gradient",
          "[layers][cropping2d][gradient]") {
  ff::Cropping2D layer("cropping2d", 1, {1, 2, 0, 3});
  CHECK(layer.class_name() == "Cropping2D");
  LayerCheckSpec spec;
  spec.input_shape = {2, 6, 5, 3};
  spec.seed = 8;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, 3, 2, 3});
  REQUIRE(r.y.size() == 2u * 3 * 2 * 3);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t w = 0; w < 2; ++w)
        for (int64_t c = 0; c < 3; ++c)
          CHECK(r.y[((n * 3 + h) * 2 + w) * 3 + c] == r.x[((n * 6 + h + 1) * 5 + w) * 3 + c]);
  // Elements outside the crop have a zero gradient: not every one is non-trivial.
  require_gradients_match(r.dx, true);
}

TEST_CASE("Cropping2D: errors", "[layers][cropping2d]") {
  CHECK_THROWS_WITH(ff::Cropping2D("c", 1, {1, -1, 0, 0}),
                    Catch::Contains("`cropping` cannot be negative"));
  CHECK_THROWS_AS(ff::Cropping2D("c", 1, {1, 1}), ff::ValueError);
  ff::Cropping2D layer("crop", 1, {2, 2, 0, 0});
  CHECK_THROWS_WITH(layer.build({ff::kNone, 4, 4, 1}),
                    Catch::Contains("Layer \"crop\" (Cropping2D): Values in `cropping` argument "
                                    "should be smaller than the corresponding spatial dimension") &&
                        Catch::Contains("input_shape=(None, 4, 4, 1), cropping=((2, 2), (0, 0))"));
  ff::Cropping2D wide("crop_wide", 1, {0, 0, INT64_MAX, 1});
  CHECK_THROWS_AS(wide.build({ff::kNone, 4, 4, 1}), ff::ValueError);
  ff::Cropping2D ok("crop_ok", 1, {1, 2, 0, 3});
  CHECK(ok.build({ff::kNone, 4, 4, 1}) == ff::Shape{ff::kNone, 1, 1, 1});
}
