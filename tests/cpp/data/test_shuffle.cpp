// Tests of shuffle: a permutation, seeded, reshuffled per pass or not, buffer semantics.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/errors.h"
#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("shuffle gives a seeded permutation, new on each pass", "[data]") {
  auto d = shuffle(fftest::range_dataset(100), 100, 42, true);
  auto first = fftest::drain(d), second = fftest::drain(d);
  auto sorted = first;
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(sorted == fftest::iota(100));
  REQUIRE(first != fftest::iota(100));
  REQUIRE(first != second);
  // The same seed from a fresh dataset repeats the sequence of orders.
  auto again = shuffle(fftest::range_dataset(100), 100, 42, true);
  REQUIRE(fftest::drain(again) == first);
  REQUIRE(fftest::drain(again) == second);
  REQUIRE(fftest::drain(shuffle(fftest::range_dataset(100), 100, 43, true)) != first);
}

TEST_CASE("shuffle without reshuffle_each_iteration repeats its order", "[data]") {
  auto d = shuffle(fftest::range_dataset(50), 50, 7, false);
  REQUIRE(fftest::drain(d) == fftest::drain(d));
}

TEST_CASE("a shuffle buffer of 1 keeps the order and a small buffer only moves elements forward by its size", "[data]") {
  REQUIRE(fftest::drain(shuffle(fftest::range_dataset(20), 1, 3, true)) == fftest::iota(20));
  auto out = fftest::drain(shuffle(fftest::range_dataset(200), 4, 3, true));
  for (size_t pos = 0; pos < out.size(); ++pos) REQUIRE(out[pos] <= static_cast<int64_t>(pos) + 3);
  REQUIRE_THROWS_AS(shuffle(fftest::range_dataset(3), 0, 1, true), ff::ValueError);
}

TEST_CASE("shuffle before a parallel map gives the same order for any worker count", "[data]") {
  auto a = map(shuffle(fftest::range_dataset(300), 64, 9, true), fftest::times(5), 1, "x5");
  auto b = map(shuffle(fftest::range_dataset(300), 64, 9, true), fftest::times(5), 4, "x5");
  REQUIRE(fftest::drain(a) == fftest::drain(b));
  REQUIRE(fftest::drain(a) == fftest::drain(b));  // second passes too
}
