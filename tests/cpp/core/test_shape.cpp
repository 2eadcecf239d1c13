// Tests for core/shape.cpp: Keras-style formatting, element counts, batch replacement and
// compatibility against a spec with None dimensions.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "core/shape.h"

TEST_CASE("shape_str formats like Keras / Python tuples", "[core][shape]") {
  CHECK(ff::shape_str({ff::kNone, 28, 28, 1}) == "(None, 28, 28, 1)");
  CHECK(ff::shape_str({32, 10}) == "(32, 10)");
  CHECK(ff::shape_str({ff::kNone}) == "(None,)");
  CHECK(ff::shape_str({5}) == "(5,)");
  CHECK(ff::shape_str({}) == "()");
}

TEST_CASE("shape_numel and shape_row_size", "[core][shape]") {
  CHECK(ff::shape_numel({2, 3, 4}) == 24);
  CHECK(ff::shape_numel({}) == 1);
  CHECK(ff::shape_numel({3, 0}) == 0);
  CHECK_THROWS_AS(ff::shape_numel({ff::kNone, 3}), ff::ValueError);
  CHECK(ff::shape_row_size({ff::kNone, 28, 28, 1}) == 784);
  CHECK(ff::shape_row_size({7}) == 1);
  CHECK_THROWS_WITH(ff::shape_row_size({4, ff::kNone}), Catch::Contains("(4, None)"));
}

TEST_CASE("with_batch replaces the first dimension", "[core][shape]") {
  CHECK(ff::with_batch({ff::kNone, 3}, 8) == ff::Shape{8, 3});
  CHECK(ff::with_batch({32, 3, 2}, ff::kNone) == ff::Shape{ff::kNone, 3, 2});
  CHECK(ff::with_batch({}, 4).empty());
}

TEST_CASE("shape_compatible: None matches anything, nothing else is relaxed", "[core][shape]") {
  CHECK(ff::shape_compatible({ff::kNone, 28, 28, 1}, {32, 28, 28, 1}));
  CHECK(ff::shape_compatible({ff::kNone, 4}, {ff::kNone, 4}));
  CHECK(ff::shape_compatible({3, 4}, {3, 4}));
  CHECK_FALSE(ff::shape_compatible({ff::kNone, 28, 28, 1}, {32, 28, 28}));  // rank differs
  CHECK_FALSE(ff::shape_compatible({ff::kNone, 4}, {32, 5}));
  CHECK_FALSE(ff::shape_compatible({3, 4}, {2, 4}));
  CHECK_FALSE(ff::shape_compatible({ff::kNone, 1}, {32}));  // no implicit column
  CHECK(ff::shape_compatible({}, {}));
}
