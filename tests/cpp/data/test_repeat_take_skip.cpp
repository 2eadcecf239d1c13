// Tests of repeat, take and skip, and their cardinalities.
#include <catch2/catch.hpp>

#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("repeat, take and skip count elements as tf.data does", "[data]") {
  auto r = repeat(fftest::range_dataset(3), 2);
  REQUIRE(r->cardinality() == 6);
  REQUIRE(fftest::drain(r) == std::vector<int64_t>{0, 1, 2, 0, 1, 2});
  auto forever = repeat(fftest::range_dataset(3), -1);
  REQUIRE(forever->cardinality() == kInfiniteCardinality);
  auto t = take(forever, 7);
  REQUIRE(t->cardinality() == 7);
  REQUIRE(fftest::drain(t) == std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0});
  auto s = skip(fftest::range_dataset(5), 2);
  REQUIRE(s->cardinality() == 3);
  REQUIRE(fftest::drain(s) == std::vector<int64_t>{2, 3, 4});
  REQUIRE(fftest::drain(skip(fftest::range_dataset(5), 9)).empty());
  REQUIRE(fftest::drain(take(fftest::range_dataset(5), -1)) == fftest::iota(5));
  // Repeating an empty dataset ends instead of spinning.
  REQUIRE(fftest::drain(repeat(take(fftest::range_dataset(5), 0), -1)).empty());
}

TEST_CASE("repeat after shuffle reshuffles every repetition", "[data]") {
  auto d = repeat(shuffle(fftest::range_dataset(30), 30, 5, true), 2);
  auto v = fftest::drain(d);
  REQUIRE(v.size() == 60);
  REQUIRE(std::vector<int64_t>(v.begin(), v.begin() + 30) != std::vector<int64_t>(v.begin() + 30, v.end()));
}
