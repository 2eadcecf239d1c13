// Tests of Component views and stack(): rows share storage, batches copy, mismatches are named.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "data/element.h"

using namespace ff::data;

TEST_CASE("Component rows are views of the same storage", "[data]") {
  void* dst = nullptr;
  Component c = Component::make(ValueType::Float32, {3, 2}, &dst);
  float* f = static_cast<float*>(dst);
  for (int i = 0; i < 6; ++i) f[i] = static_cast<float>(i);
  Component r = c.row(1);
  REQUIRE(r.shape == ff::Shape{2});
  REQUIRE(static_cast<const float*>(r.data())[0] == 2.0f);
  REQUIRE(r.bytes == c.bytes);
  Component two = c.rows(1, 2);
  REQUIRE(two.shape == ff::Shape{2, 2});
  REQUIRE(static_cast<const float*>(two.data())[3] == 5.0f);
  REQUIRE_THROWS_AS(c.rows(2, 2), ff::ValueError);
}

TEST_CASE("stack batches numeric and string components", "[data]") {
  std::vector<Element> items;
  for (int i = 0; i < 3; ++i) {
    void* dst = nullptr;
    Component n = Component::make(ValueType::Int32, {2}, &dst);
    static_cast<int32_t*>(dst)[0] = i;
    static_cast<int32_t*>(dst)[1] = 10 * i;
    items.push_back({n, Component::make_strings({}, {"s" + std::to_string(i)})});
  }
  Element b = stack(items);
  REQUIRE(b[0].shape == ff::Shape{3, 2});
  const auto* v = static_cast<const int32_t*>(b[0].data());
  REQUIRE(std::vector<int32_t>(v, v + 6) == std::vector<int32_t>{0, 0, 1, 10, 2, 20});
  REQUIRE(b[1].shape == ff::Shape{3});
  REQUIRE(b[1].string_at(2) == "s2");
}

TEST_CASE("stack names the component and both shapes on a mismatch", "[data]") {
  void* dst = nullptr;
  Element a{Component::make(ValueType::Float32, {2}, &dst)};
  Element b{Component::make(ValueType::Float32, {3}, &dst)};
  try {
    stack({a, a, b});
    FAIL("no error");
  } catch (const ff::ValueError& e) {
    std::string m = e.what();
    REQUIRE(m.find("component 0") != std::string::npos);
    REQUIRE(m.find("float32 " + ff::shape_str({2})) != std::string::npos);
    REQUIRE(m.find("float32 " + ff::shape_str({3})) != std::string::npos);
    REQUIRE(m.find("element 2") != std::string::npos);
  }
}
