// Tests of from_tensor_slices: rows in order, cardinality, mismatched lengths refused.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("from_tensor_slices yields the rows in order", "[data]") {
  auto d = fftest::range_dataset(5);
  REQUIRE(d->cardinality() == 5);
  REQUIRE(fftest::drain(d) == fftest::iota(5));
  REQUIRE(fftest::drain(d) == fftest::iota(5));  // every pass starts again
}

TEST_CASE("from_tensor_slices refuses arrays of different lengths and scalars", "[data]") {
  void* dst = nullptr;
  Component a = Component::make(ValueType::Float32, {4, 2}, &dst);
  Component b = Component::make(ValueType::Int64, {3}, &dst);
  REQUIRE_THROWS_WITH(from_tensor_slices({a, b}), Catch::Contains("component 1 has 3"));
  Component s = Component::make(ValueType::Int64, {}, &dst);
  REQUIRE_THROWS_WITH(from_tensor_slices({s}), Catch::Contains("scalar"));
}
