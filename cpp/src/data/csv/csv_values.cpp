// Typed CSV values: see csv_values.h.
#include "data/csv/csv_values.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "core/errors.h"

namespace ff::data::csv {

std::string column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::Int32: return "int32";
    case ColumnType::Int64: return "int64";
    case ColumnType::Float32: return "float32";
    case ColumnType::Float64: return "float64";
    case ColumnType::String: return "string";
  }
  return "?";
}

ColumnType column_type_from_name(const std::string& name) {
  if (name == "int32") return ColumnType::Int32;
  if (name == "int64" || name == "int") return ColumnType::Int64;
  if (name == "float32") return ColumnType::Float32;
  if (name == "float64" || name == "float") return ColumnType::Float64;
  if (name == "string" || name == "str") return ColumnType::String;
  throw ValueError("unknown CSV column type \"" + name +
                   "\": expected one of int32, int64, float32, float64, string");
}

std::string expected_description(ColumnType t) {
  switch (t) {
    case ColumnType::Int32: return "an int32 integer";
    case ColumnType::Int64: return "an int64 integer";
    case ColumnType::Float32: return "a float32 number";
    case ColumnType::Float64: return "a float64 number";
    case ColumnType::String: return "a string";
  }
  return "?";
}

namespace {

// Strips spaces/tabs around the number and one leading '+' (from_chars takes neither).
inline bool trim_number(std::string_view& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  s = s.substr(b, e - b);
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (s.empty() || s[0] == '-' || s[0] == '+') return false;
  }
  return !s.empty();
}

template <typename T>
ParseStatus parse_int(std::string_view s, T& out) {
  if (!trim_number(s)) return ParseStatus::Invalid;
  T v{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ptr != s.data() + s.size()) {
    // "99999999999x" is invalid text, not an overflow: report what the user must fix first.
    return ParseStatus::Invalid;
  }
  if (ec == std::errc::result_out_of_range) return ParseStatus::OutOfRange;
  if (ec != std::errc()) return ParseStatus::Invalid;
  out = v;
  return ParseStatus::Ok;
}

template <typename T>
ParseStatus parse_float(std::string_view s, T& out) {
  if (!trim_number(s)) return ParseStatus::Invalid;
  const char* b = s.data();
  const char* e = b + s.size();
  // Fast path: a short run of digits (pixels, counts) converts exactly.
  if (s.size() <= 7 && s[0] != '-') {
    uint32_t v = 0;
    const char* p = b;
    for (; p < e; ++p) {
      const unsigned d = static_cast<unsigned char>(*p) - '0';
      if (d > 9) break;
      v = v * 10 + d;
    }
    if (p == e) {
      out = static_cast<T>(v);
      return ParseStatus::Ok;
    }
  }
  T v{};
  auto [ptr, ec] = std::from_chars(b, e, v, std::chars_format::general);
  if (ptr != e) return ParseStatus::Invalid;
  if (ec == std::errc() && !std::isfinite(v)) return ParseStatus::NotFinite;  // "nan", "inf"
  if (ec == std::errc::result_out_of_range) {
    // Overflow is an error; underflow rounds towards zero like any float parser.
    double d = 0;
    auto r = std::from_chars(b, e, d, std::chars_format::general);
    if (r.ec == std::errc() && std::fabs(d) <= static_cast<double>(std::numeric_limits<T>::max())) {
      out = static_cast<T>(d);
      return ParseStatus::Ok;
    }
    if (r.ec == std::errc::result_out_of_range) {
      // Beyond double: underflow if the exponent is negative, else overflow.
      const std::string_view t(b, static_cast<size_t>(e - b));
      const auto epos = t.find_first_of("eE");
      if (epos != std::string_view::npos && epos + 1 < t.size() && t[epos + 1] == '-') {
        out = static_cast<T>(0.0);
        if (t[0] == '-') out = -out;
        return ParseStatus::Ok;
      }
    }
    return ParseStatus::OutOfRange;
  }
  if (ec != std::errc()) return ParseStatus::Invalid;
  out = v;
  return ParseStatus::Ok;
}

}  // namespace

ParseStatus parse_int32(std::string_view s, int32_t& out) { return parse_int(s, out); }
ParseStatus parse_int64(std::string_view s, int64_t& out) { return parse_int(s, out); }
ParseStatus parse_float32(std::string_view s, float& out) { return parse_float(s, out); }
ParseStatus parse_float64(std::string_view s, double& out) { return parse_float(s, out); }

bool is_number(std::string_view s) {
  double d;
  if (parse_float64(s, d) == ParseStatus::Ok) return true;
  int64_t i;  // a long integer that float64 cannot hold exactly still parses as a double
  return parse_int64(s, i) == ParseStatus::Ok;
}

ColumnType infer_type(std::string_view s, std::optional<ColumnType> previous) {
  const int floor = previous ? static_cast<int>(*previous) : 0;
  if (floor <= static_cast<int>(ColumnType::Int32)) {
    int32_t v;
    if (parse_int32(s, v) == ParseStatus::Ok) return ColumnType::Int32;
  }
  if (floor <= static_cast<int>(ColumnType::Int64)) {
    int64_t v;
    if (parse_int64(s, v) == ParseStatus::Ok) return ColumnType::Int64;
  }
  if (floor <= static_cast<int>(ColumnType::Float32)) {
    float v;
    if (parse_float32(s, v) == ParseStatus::Ok) return ColumnType::Float32;
  }
  if (floor <= static_cast<int>(ColumnType::Float64)) {
    double v;
    if (parse_float64(s, v) == ParseStatus::Ok) return ColumnType::Float64;
  }
  return ColumnType::String;
}

}  // namespace ff::data::csv
