// Tests for layers/reshape.cpp: output shapes, inference of one -1 dimension, and that
// incompatible element counts raise ValueError naming the layer and both shapes.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/reshape.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Reshape: explicit target shapes", "[layers][reshape]") {
  ff::Reshape r("reshape", 1, {7, 4});
  CHECK(r.build({ff::kNone, 28}) == ff::Shape{ff::kNone, 7, 4});
  CHECK(r.aliases_input(true));
  CHECK(r.aliases_input(false));
  CHECK(r.target_shape() == ff::Shape{7, 4});
  ff::Reshape flat("reshape_1", 1, {12});
  CHECK(flat.build({5, 2, 2, 3}) == ff::Shape{ff::kNone, 12});
}

TEST_CASE("Reshape: a -1 dimension is inferred", "[layers][reshape]") {
  ff::Reshape a("a", 1, {-1, 4});
  CHECK(a.build({ff::kNone, 2, 3, 4}) == ff::Shape{ff::kNone, 6, 4});
  ff::Reshape b("b", 1, {3, -1});
  CHECK(b.build({ff::kNone, 12}) == ff::Shape{ff::kNone, 3, 4});
  ff::Reshape c("c", 1, {2, -1, 2});
  CHECK(c.build({8, 16}) == ff::Shape{ff::kNone, 2, 4, 2});
  ff::Reshape d("d", 1, {-1});
  CHECK(d.build({ff::kNone, 3, 5}) == ff::Shape{ff::kNone, 15});
}

TEST_CASE("Reshape: incompatible element counts raise with both shapes", "[layers][reshape]") {
  ff::Reshape fixed("reshape_bad", 1, {5, 5});
  CHECK_THROWS_AS(fixed.build({ff::kNone, 28}), ff::ValueError);
  CHECK_THROWS_WITH(fixed.build({ff::kNone, 28}),
                    Catch::Contains("Input 0 of layer \"reshape_bad\"") &&
                        Catch::Contains("target_shape=(5, 5)") &&
                        Catch::Contains("shape=(None, 28)"));
  CHECK_FALSE(fixed.built());

  ff::Reshape inferred("reshape_inf", 1, {5, -1});
  CHECK_THROWS_AS(inferred.build({ff::kNone, 28}), ff::ValueError);
  CHECK_THROWS_WITH(inferred.build({ff::kNone, 28}),
                    Catch::Contains("Input 0 of layer \"reshape_inf\"") &&
                        Catch::Contains("target_shape=(5, -1)") &&
                        Catch::Contains("shape=(None, 28)"));
}

TEST_CASE("Reshape: invalid target shapes raise at construction", "[layers][reshape]") {
  CHECK_THROWS_AS(ff::Reshape("r", 1, {-1, -1}), ff::ValueError);
  CHECK_THROWS_AS(ff::Reshape("r", 1, {0, 4}), ff::ValueError);
  CHECK_THROWS_AS(ff::Reshape("r", 1, {3, -2}), ff::ValueError);
}

TEST_CASE("Reshape: gradient passes through as a view", "[layers][reshape][gradient]") {
  ff::Reshape r("reshape", 1, {-1, 3});
  LayerCheckSpec spec;
  spec.input_shape = {2, 6};
  const auto res = check_layer_gradients(r, spec);
  CHECK(res.output_shape == ff::Shape{2, 2, 3});
  CHECK(res.y == res.x);
  require_gradients_match(res);
}
