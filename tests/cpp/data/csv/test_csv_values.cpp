// Tests for data/csv/csv_values.cpp: strict int/float parsing (no silent coercion, no NaN or
// infinity from text) and TensorFlow's type-inference ladder int32 -> int64 -> float32 ->
// float64 -> string.
#include <catch2/catch.hpp>


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

TEST_CASE("csv float parsing refuses NaN and infinity spelled as text", "[data][csv]") {
  // One NaN in a feature makes every weight NaN after the first step: never read silently.
  for (const char* text : {"nan", "NaN", "-nan", "inf", "+inf", "-inf", "Infinity", "-Infinity",
                           " INF ", "nan(123)"}) {
    INFO(text);
    float f = 1.0f;
    double d = 1.0;
    CHECK(csv::parse_float32(text, f) == ParseStatus::NotFinite);
    CHECK(csv::parse_float64(text, d) == ParseStatus::NotFinite);
    CHECK(f == 1.0f);  // untouched
    CHECK(!csv::is_number(text));
    CHECK(csv::infer_type(text, std::nullopt) == ColumnType::String);
  }
  float f = 0;
  CHECK(csv::parse_float32("1e39", f) == ParseStatus::OutOfRange);  // overflow is not NaN either
}

TEST_CASE("csv is_number: what counts as a number when inferring", "[data][csv]") {
  for (const char* text : {"1", "-2", "+3.5", " 4 ", "1e39", "9223372036854775807", ".5"})
    CHECK(csv::is_number(text));
  // The values that used to turn a numeric column into text without a word.
  for (const char* text : {"oops", "1e400", "0x10", "1_000", "2,5", "\xd9\xa1\xd9\xa2", "", "1.2.3"})
    CHECK(!csv::is_number(text));
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
