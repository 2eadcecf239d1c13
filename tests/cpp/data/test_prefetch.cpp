// Tests of prefetch: same elements, errors rethrown in order, threads joined.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("prefetch yields the same elements in the same order", "[data]") {
  for (int64_t size : {int64_t{0}, int64_t{1}, int64_t{4}, kAutotune})
    REQUIRE(fftest::drain(prefetch(batch(fftest::range_dataset(103), 10, false), size)) ==
            fftest::iota(103));
}

TEST_CASE("prefetch rethrows an input error after the elements before it", "[data]") {
  MapFn fail_at_5 = [](const Element& in, int64_t i, uint64_t s) {
    if (fftest::scalar_of(in[0]) == 5) throw ff::ValueError("element five is broken");
    return fftest::times(1)(in, i, s);
  };
  auto it = prefetch(map(fftest::range_dataset(10), fail_at_5, 1, "f"), 3)->make_iterator();
  Element e;
  for (int i = 0; i < 5; ++i) REQUIRE(it->next(e));
  REQUIRE_THROWS_WITH(it->next(e), "element five is broken");
  REQUIRE_FALSE(it->next(e));
}
