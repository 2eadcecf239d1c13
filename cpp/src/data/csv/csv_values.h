// Typed CSV values: strict number parsing (std::from_chars; surrounding spaces and a leading '+'
// allowed, nothing else: "1.5" is not an int32, "12abc" is not a number, "nan" and "inf" are
// refused as not finite) and the per-column type
// inference of TensorFlow's make_csv_dataset (int32 -> int64 -> float32 -> float64 -> string,
// widening as values demand, empty / NA values saying nothing).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ff::data::csv {

enum class ColumnType : uint8_t { Int32, Int64, Float32, Float64, String };

std::string column_type_name(ColumnType t);  // "int32", ..., "string"
// "int32", "int64", "float32", "float64", "string" (also "str", "float", "int"); ValueError else.
ColumnType column_type_from_name(const std::string& name);

// NotFinite: the text spells NaN or an infinity ("nan", "inf", "-Infinity"): refused, since one
// such value in a feature makes every weight of the model NaN after the first step (a user who
// means "missing" says so with na_value).
enum class ParseStatus : uint8_t { Ok, Invalid, OutOfRange, NotFinite };

ParseStatus parse_int32(std::string_view s, int32_t& out);
ParseStatus parse_int64(std::string_view s, int64_t& out);
// Overflow past the type's largest finite value is OutOfRange; values too small to represent
// round to zero / a subnormal as any float parser does. "nan", "inf", "infinity" are NotFinite.
ParseStatus parse_float32(std::string_view s, float& out);
ParseStatus parse_float64(std::string_view s, double& out);

// True when `s` parses as a number of some type of the ladder (int32 ... float64).
bool is_number(std::string_view s);

// "an int32 number" etc., for "expected ..., found ..." messages.
std::string expected_description(ColumnType t);

// True when `s` is missing: empty, or equal to na_value.
inline bool is_missing(std::string_view s, const std::string& na_value) {
  return s.empty() || s == na_value;
}

// The narrowest type of TensorFlow's ladder at least as wide as `previous` that holds `s`
// (`s` not missing). previous = nullopt: no value seen yet.
ColumnType infer_type(std::string_view s, std::optional<ColumnType> previous);

// A column default as given by the user (make_csv_dataset's column_defaults): typed.
struct DefaultValue {
  bool present = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
};

}  // namespace ff::data::csv
