// Tests of interleave: tf.data's round-robin order over cycle_length datasets.
#include <catch2/catch.hpp>

#include "pipeline_util.h"

using namespace ff::data;

TEST_CASE("interleave reads cycle_length datasets round-robin in blocks", "[data]") {
  // Element i opens the dataset 10*i, 10*i+1, 10*i+2.
  InterleaveFn make = [](const Element& in, int64_t) {
    const int64_t base = fftest::scalar_of(in[0]) * 10;
    MapFn offset = [base](const Element& e, int64_t, uint64_t) {
      void* dst = nullptr;
      Component c = Component::make(ValueType::Int64, {}, &dst);
      *static_cast<int64_t*>(dst) = base + fftest::scalar_of(e[0]);
      return Element{c};
    };
    return map(fftest::range_dataset(3), offset, 1, "offset");
  };
  auto d = interleave(fftest::range_dataset(3), make, 2, 1, 1);
  REQUIRE(fftest::drain(d) == std::vector<int64_t>{0, 10, 1, 11, 2, 12, 20, 21, 22});
  auto blocks = interleave(fftest::range_dataset(2), make, 2, 2, 1);
  REQUIRE(fftest::drain(blocks) == std::vector<int64_t>{0, 1, 10, 11, 2, 12});
}
