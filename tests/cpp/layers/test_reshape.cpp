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

TEST_CASE("Reshape: a target whose product wraps past 2^64 is refused",
          "[layers][reshape][limits]") {
  // 989540 * 1539092 * 48448661 = 4 * 2^64 + 16: the wrapped product equalled the input's 16
  // elements, so the layer was accepted and a pooling layer after it read out of bounds.
  ff::Reshape wraps("reshape", 1, {989540, 1539092, 48448661});
  CHECK_THROWS_WITH(wraps.build({ff::kNone, 16}),
                    Catch::Contains("Layer \"reshape\" (Reshape) on input shape=(None, 16)") &&
                        Catch::Contains("target_shape=(989540, 1539092, 48448661)") &&
                        Catch::Contains("2147483647"));
  // With a -1, a product wrapping to 0 divided by zero (SIGFPE) at build.
  ff::Reshape zero("reshape_1", 1, {int64_t{1} << 30, int64_t{1} << 30, 16, -1});
  CHECK_THROWS_AS(zero.build({ff::kNone, 16}), ff::ValueError);
  // A product over the per-sample limit cannot match any input.
  ff::Reshape big("reshape_2", 1, {65536, 65536});
  CHECK_THROWS_WITH(big.build({ff::kNone, 16}), Catch::Contains("(2^31 - 1) elements per sample"));
}
