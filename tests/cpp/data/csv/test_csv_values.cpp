// Tests for data/csv/csv_values.cpp: strict int/float parsing (no silent coercion) and
// TensorFlow's type-inference ladder int32 -> int64 -> float32 -> float64 -> string.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/errors.h"
#include "data/csv/csv_values.h"

namespace csv = ff::data::csv;
using csv::ColumnType;
using csv::ParseStatus;

TEST_CASE("csv int parsing is strict", "[data][csv]") {
  int32_t v = 0;
  CHECK(csv::parse_int32("42", v) == ParseStatus::Ok);
  CHECK(v == 42);
  CHECK(csv::parse_int32(" -7 ", v) == ParseStatus::Ok);
  CHECK(v == -7);
  CHECK(csv::parse_int32("+3", v) == ParseStatus::Ok);
  CHECK(v == 3);
  CHECK(csv::parse_int32("1.0", v) == ParseStatus::Invalid);
  CHECK(csv::parse_int32("12abc", v) == ParseStatus::Invalid);
  CHECK(csv::parse_int32("", v) == ParseStatus::Invalid);
  CHECK(csv::parse_int32("+", v) == ParseStatus::Invalid);
  CHECK(csv::parse_int32("+-1", v) == ParseStatus::Invalid);
  CHECK(csv::parse_int32("0x10", v) == ParseStatus::Invalid);
  CHECK(csv::parse_int32("2147483648", v) == ParseStatus::OutOfRange);
  CHECK(csv::parse_int32("-2147483648", v) == ParseStatus::Ok);
  int64_t w = 0;
  CHECK(csv::parse_int64("2147483648", w) == ParseStatus::Ok);
  CHECK(w == 2147483648LL);
  CHECK(csv::parse_int64("99999999999999999999", w) == ParseStatus::OutOfRange);
}

TEST_CASE("csv float parsing is strict and exact", "[data][csv]") {
  float f = 0;
  CHECK(csv::parse_float32("255", f) == ParseStatus::Ok);
  CHECK(f == 255.0f);
  CHECK(csv::parse_float32("0.1", f) == ParseStatus::Ok);
  CHECK(f == 0.1f);
  CHECK(csv::parse_float32("-1.5e3", f) == ParseStatus::Ok);
  CHECK(f == -1500.0f);
  CHECK(csv::parse_float32(" .5 ", f) == ParseStatus::Ok);
  CHECK(f == 0.5f);
  CHECK(csv::parse_float32("16777217", f) == ParseStatus::Ok);  // rounds like any parser
  CHECK(f == 16777216.0f);
  CHECK(csv::parse_float32("1e39", f) == ParseStatus::OutOfRange);
  CHECK(csv::parse_float32("1e-50", f) == ParseStatus::Ok);  // underflow rounds to zero
  CHECK(f == 0.0f);
  CHECK(csv::parse_float32("nan", f) == ParseStatus::Ok);
  CHECK(std::isnan(f));
  CHECK(csv::parse_float32("-inf", f) == ParseStatus::Ok);
  CHECK(f == -std::numeric_limits<float>::infinity());
  CHECK(csv::parse_float32("abc", f) == ParseStatus::Invalid);
  CHECK(csv::parse_float32("1,5", f) == ParseStatus::Invalid);
  CHECK(csv::parse_float32("1.5.2", f) == ParseStatus::Invalid);
  CHECK(csv::parse_float32("12 3", f) == ParseStatus::Invalid);
  double d = 0;
  CHECK(csv::parse_float64("1e39", d) == ParseStatus::Ok);
  CHECK(d == 1e39);
  CHECK(csv::parse_float64("1e400", d) == ParseStatus::OutOfRange);
  CHECK(csv::parse_float64("1e-400", d) == ParseStatus::Ok);
  CHECK(d == 0.0);
}

TEST_CASE("csv type inference follows TensorFlow's ladder", "[data][csv]") {
  CHECK(csv::infer_type("12", std::nullopt) == ColumnType::Int32);
  CHECK(csv::infer_type("3000000000", std::nullopt) == ColumnType::Int64);
  CHECK(csv::infer_type("1.5", std::nullopt) == ColumnType::Float32);
  CHECK(csv::infer_type("1e39", std::nullopt) == ColumnType::Float64);
  CHECK(csv::infer_type("red", std::nullopt) == ColumnType::String);
  // Types only widen: an int after a float stays float, anything after a string is a string.
  CHECK(csv::infer_type("12", ColumnType::Float32) == ColumnType::Float32);
  CHECK(csv::infer_type("12", ColumnType::Int64) == ColumnType::Int64);
  CHECK(csv::infer_type("12", ColumnType::String) == ColumnType::String);
  CHECK(csv::infer_type("1.5", ColumnType::Int64) == ColumnType::Float32);
}

TEST_CASE("csv column type names", "[data][csv]") {
  for (auto t : {ColumnType::Int32, ColumnType::Int64, ColumnType::Float32, ColumnType::Float64,
                 ColumnType::String})
    CHECK(csv::column_type_from_name(csv::column_type_name(t)) == t);
  CHECK_THROWS_WITH(csv::column_type_from_name("bool"), Catch::Contains("int32, int64"));
}
