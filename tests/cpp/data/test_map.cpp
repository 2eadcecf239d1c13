// Tests of map: order equals input order for any number of workers, errors reach the consumer
// at the right element, abandoned iterators leave no thread behind.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/errors.h"
#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("map keeps the input order whatever the number of workers", "[data]") {
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 500; ++i) expected.push_back(3 * i);
  for (int64_t workers : {int64_t{1}, int64_t{2}, int64_t{4}, int64_t{8}, kAutotune}) {
    // Uneven work so that workers finish out of order.
    MapFn slow = [](const Element& in, int64_t index, uint64_t) {
      if (index % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      return fftest::times(3)(in, index, 0);
    };
    REQUIRE(fftest::drain(map(fftest::range_dataset(500), slow, workers, "slow")) == expected);
  }
}

TEST_CASE("map passes position and a seed stream independent of the workers", "[data]") {
  auto record = [](const Element&, int64_t index, uint64_t stream) {
    void* dst = nullptr;
    Component c = Component::make(ValueType::Int64, {2}, &dst);
    static_cast<int64_t*>(dst)[0] = index;
    static_cast<int64_t*>(dst)[1] = static_cast<int64_t>(stream);
    return Element{c};
  };
  auto one = fftest::drain(map(fftest::range_dataset(50), record, 1, "r"));
  auto four = fftest::drain(map(fftest::range_dataset(50), record, 4, "r"));
  REQUIRE(one == four);
  for (int64_t i = 0; i < 50; ++i) REQUIRE(one[static_cast<size_t>(2 * i)] == i);
}

TEST_CASE("an exception in a map worker reaches next() at its element with its message", "[data]") {
  MapFn fail_at_7 = [](const Element& in, int64_t i, uint64_t s) {
    if (fftest::scalar_of(in[0]) == 7) throw ff::ValueError("bad element seven");
    return fftest::times(1)(in, i, s);
  };
  for (int64_t workers : {int64_t{1}, int64_t{3}}) {
    auto it = map(fftest::range_dataset(20), fail_at_7, workers, "f")->make_iterator();
    Element e;
    for (int i = 0; i < 7; ++i) {
      REQUIRE(it->next(e));
      REQUIRE(fftest::scalar_of(e[0]) == i);
    }
    REQUIRE_THROWS_WITH(it->next(e), "bad element seven");
  }
}

TEST_CASE("abandoning map and prefetch iterators early leaves no thread behind", "[data]") {
  const int before = fftest::thread_count();
  auto d = prefetch(map(fftest::range_dataset(10000), fftest::times(2), 4, "x2"), 8);
  for (int cycle = 0; cycle < 1000; ++cycle) {
    auto it = d->make_iterator();
    Element e;
    for (int i = 0; i < cycle % 5; ++i) REQUIRE(it->next(e));
  }
  REQUIRE(fftest::thread_count() == before);
}
