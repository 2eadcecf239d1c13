// Tests for layers/flatten.h: output shapes, the rank check, and that it is a view (no compute),
// so gradients pass through unchanged (shared finite-difference helper).
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/flatten.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Flatten: (N, d1, d2, ...) -> (N, d1*d2*...)", "[layers][flatten]") {
  ff::Flatten f("flatten", 1);
  CHECK(f.build({ff::kNone, 28, 28, 1}) == ff::Shape{ff::kNone, 784});
  CHECK(f.input_shape() == ff::Shape{ff::kNone, 28, 28, 1});
  CHECK(f.aliases_input(true));
  CHECK(f.aliases_input(false));
  CHECK(f.param_specs().empty());

  ff::Flatten g("flatten_1", 1);
  CHECK(g.build({32, 5}) == ff::Shape{ff::kNone, 5});  // rank 2 stays rank 2; batch becomes None
  ff::Flatten h("flatten_2", 1);
  CHECK(h.build({4, 2, 3, 4, 5}) == ff::Shape{ff::kNone, 120});
}

TEST_CASE("Flatten: a rank-1 input raises naming the layer", "[layers][flatten]") {
  ff::Flatten f("flat", 1);
  CHECK_THROWS_AS(f.build({10}), ff::ValueError);
  CHECK_THROWS_WITH(f.build({10}), Catch::Contains("Input 0 of layer \"flat\" (Flatten)") &&
                                       Catch::Contains("min_ndim=2"));
  CHECK_FALSE(f.built());
}

TEST_CASE("Flatten: gradient passes through as a reshape", "[layers][flatten][gradient]") {
  ff::Flatten f("flatten", 1);
  LayerCheckSpec spec;
  spec.input_shape = {2, 3, 2, 2};
  const auto r = check_layer_gradients(f, spec);
  CHECK(r.output_shape == ff::Shape{2, 12});
  CHECK(r.y == r.x);  // row-major order is preserved
  require_gradients_match(r);
}

TEST_CASE("Flatten: an input past the per-sample limit is refused, not wrapped",
          "[layers][flatten][limits]") {
  ff::Flatten f("flatten", 1);
  // 2^32 * 2^32 = 2^64 flattened to 0 before.
  CHECK_THROWS_WITH(f.build({ff::kNone, int64_t{1} << 32, int64_t{1} << 32}),
                    Catch::Contains("Layer \"flatten\" (Flatten)") &&
                        Catch::Contains("more than 2^63 - 1 elements per sample"));
  CHECK_THROWS_WITH(f.build({ff::kNone, 65536, 65536}),
                    Catch::Contains("input 0 shape=(None, 65536, 65536) has 4294967296 elements "
                                    "per sample; the limit is 2147483647"));
  CHECK_FALSE(f.built());
}
