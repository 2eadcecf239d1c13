// Tests of the built-in transforms (rescale.cpp, cast.cpp, one_hot.cpp): values, the other
// components untouched, and the strict refusals naming value and element.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "data/transforms/transforms.h"

using namespace ff::data;

namespace {

template <typename T>
Component numbers(ValueType t, const ff::Shape& shape, std::vector<T> v) {
  void* dst = nullptr;
  Component c = Component::make(t, shape, &dst);
  std::memcpy(dst, v.data(), v.size() * sizeof(T));
  return c;
}

template <typename T>
std::vector<T> values(const Component& c) {
  const T* p = static_cast<const T*>(c.data());
  return std::vector<T>(p, p + c.numel());
}

}  // namespace

TEST_CASE("Rescale turns any numeric component into scaled float32 and leaves the rest", "[data]") {
  Element e{numbers<uint8_t>(ValueType::UInt8, {3}, {0, 51, 255}),
            numbers<int64_t>(ValueType::Int64, {}, {7})};
  Element out = transforms::rescale(0, 1.0f / 255.0f, -0.5f)(e, 0, 0);
  REQUIRE(out[0].type == ValueType::Float32);
  auto v = values<float>(out[0]);
  REQUIRE(v[0] == Approx(-0.5f));
  REQUIRE(v[1] == Approx(-0.3f));
  REQUIRE(v[2] == Approx(0.5f));
  REQUIRE(out[1].bytes == e[1].bytes);  // untouched, not copied
  REQUIRE_THROWS_WITH(transforms::rescale(2, 1, 0)(e, 0, 0), Catch::Contains("no component 2"));
}

TEST_CASE("Cast converts exactly and refuses truncation and overflow", "[data]") {
  Element whole{numbers<float>(ValueType::Float32, {3}, {1.0f, -2.0f, 3.0f})};
  REQUIRE(values<int64_t>(transforms::cast(0, ValueType::Int64)(whole, 0, 0)[0]) ==
          std::vector<int64_t>{1, -2, 3});
  Element frac{numbers<float>(ValueType::Float32, {2}, {1.0f, 2.5f})};
  REQUIRE_THROWS_WITH(transforms::cast(0, ValueType::Int32)(frac, 4, 0),
                      Catch::Contains("2.5") && Catch::Contains("element 4") &&
                          Catch::Contains("not a whole number"));
  Element big{numbers<int32_t>(ValueType::Int32, {1}, {300})};
  REQUIRE_THROWS_WITH(transforms::cast(0, ValueType::UInt8)(big, 0, 0), Catch::Contains("uint8 range"));
}

TEST_CASE("OneHot makes float32 vectors and names an index out of range", "[data]") {
  Element e{numbers<int32_t>(ValueType::Int32, {2}, {2, 0})};
  Element out = transforms::one_hot(0, 3)(e, 0, 0);
  REQUIRE(out[0].shape == ff::Shape{2, 3});
  REQUIRE(values<float>(out[0]) == std::vector<float>{0, 0, 1, 1, 0, 0});
  Element bad{numbers<int32_t>(ValueType::Int32, {1}, {3})};
  REQUIRE_THROWS_WITH(transforms::one_hot(0, 3)(bad, 9, 0),
                      Catch::Contains("class index 3 of element 9"));
  Element floats{numbers<float>(ValueType::Float32, {1}, {1.0f})};
  REQUIRE_THROWS_WITH(transforms::one_hot(0, 3)(floats, 0, 0), Catch::Contains("not cast silently"));
}
