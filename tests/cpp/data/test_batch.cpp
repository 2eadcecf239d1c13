// Tests of batch: sizes, remainder, cardinality.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("batch stacks consecutive elements and keeps a short last batch", "[data]") {
  auto d = batch(fftest::range_dataset(10), 4, false);
  REQUIRE(d->cardinality() == 3);
  auto it = d->make_iterator();
  Element e;
  std::vector<int64_t> sizes;
  while (it->next(e)) sizes.push_back(e[0].shape.at(0));
  REQUIRE(sizes == std::vector<int64_t>{4, 4, 2});
  REQUIRE(fftest::drain(d) == fftest::iota(10));
}

TEST_CASE("batch with drop_remainder drops the short batch", "[data]") {
  auto d = batch(fftest::range_dataset(10), 4, true);
  REQUIRE(d->cardinality() == 2);
  REQUIRE(fftest::drain(d) == fftest::iota(8));
  REQUIRE_THROWS_AS(batch(fftest::range_dataset(3), 0, false), ff::ValueError);
}
