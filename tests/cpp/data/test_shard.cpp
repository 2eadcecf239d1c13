// Tests of shard (tf.data's Dataset.shard): the positions it keeps, its cardinality, and its
// argument checks.
#include <algorithm>
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("shard keeps the elements at positions p % num_shards == index", "[data]") {
  REQUIRE(fftest::drain(shard(fftest::range_dataset(10), 3, 1)) == std::vector<int64_t>{1, 4, 7});
  REQUIRE(fftest::drain(shard(fftest::range_dataset(10), 3, 0)) ==
          std::vector<int64_t>{0, 3, 6, 9});
  REQUIRE(fftest::drain(shard(fftest::range_dataset(10), 1, 0)) == fftest::iota(10));
  REQUIRE(fftest::drain(shard(fftest::range_dataset(2), 3, 2)).empty());
  // The shards of a dataset are disjoint and together give all of it.
  std::vector<int64_t> all;
  for (int64_t i = 0; i < 4; ++i) {
    auto part = fftest::drain(shard(fftest::range_dataset(11), 4, i));
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  REQUIRE(all == fftest::iota(11));
}

TEST_CASE("shard's cardinality", "[data]") {
  REQUIRE(shard(fftest::range_dataset(10), 3, 0)->cardinality() == 4);
  REQUIRE(shard(fftest::range_dataset(10), 3, 1)->cardinality() == 3);
  REQUIRE(shard(fftest::range_dataset(10), 3, 2)->cardinality() == 3);
  REQUIRE(shard(repeat(fftest::range_dataset(3), -1), 2, 1)->cardinality() == kInfiniteCardinality);
  auto t = take(shard(repeat(fftest::range_dataset(3), -1), 2, 1), 4);
  REQUIRE(fftest::drain(t) == std::vector<int64_t>{1, 0, 2, 1});
}

TEST_CASE("shard refuses a bad count or index", "[data]") {
  REQUIRE_THROWS_WITH(
      shard(fftest::range_dataset(3), 0, 0),
      Catch::Contains("num_shards must be a positive integer; received num_shards=0"));
  REQUIRE_THROWS_WITH(
      shard(fftest::range_dataset(3), 2, 2),
      Catch::Contains("index must be in [0, num_shards) = [0, 2); received index=2"));
  REQUIRE_THROWS_AS(shard(fftest::range_dataset(3), 2, -1), ff::ValueError);
}
