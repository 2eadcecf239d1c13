// Shape helpers (formatting, compatibility checks used by every layer boundary, and the
// overflow-checked size arithmetic and limits of shape.h).
#include "core/shape.h"

#include <cstdio>

#include "core/errors.h"

namespace ff {

int64_t size_mul(int64_t a, int64_t b, const char* what) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out))
    throw SizeOverflowError(std::string(what) + " overflows: " + std::to_string(a) + " * " +
                            std::to_string(b) + " does not fit a 64-bit integer");
  return out;
}

int64_t size_add(int64_t a, int64_t b, const char* what) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out))
    throw SizeOverflowError(std::string(what) + " overflows: " + std::to_string(a) + " + " +
                            std::to_string(b) + " does not fit a 64-bit integer");
  return out;
}

bool checked_product(const Shape& s, size_t from, int64_t* out) {
  int64_t n = 1;
  for (size_t i = from; i < s.size(); ++i)
    if (__builtin_mul_overflow(n, s[i], &n)) return false;
  *out = n;
  return true;
}

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += s[i] < 0 ? "None" : std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

int64_t shape_numel(const Shape& s) {
  for (int64_t d : s)
    if (d < 0) throw ValueError("shape " + shape_str(s) + " has an unknown dimension");
  int64_t n;
  if (!checked_product(s, 0, &n))
    throw SizeOverflowError("shape " + shape_str(s) +
                            " has more elements than a 64-bit integer can count");
  return n;
}

int64_t shape_row_size(const Shape& s) {
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i] < 0) throw ValueError("shape " + shape_str(s) + " has an unknown non-batch dimension");
  int64_t n;
  if (!checked_product(s, 1, &n))
    throw SizeOverflowError("shape " + shape_str(s) +
                            " has more elements per sample than a 64-bit integer can count");
  return n;
}

Shape with_batch(const Shape& s, int64_t batch) {
  Shape out = s;
  if (!out.empty()) out[0] = batch;
  return out;
}

bool shape_compatible(const Shape& spec, const Shape& actual) {
  if (spec.size() != actual.size()) return false;
  for (size_t i = 0; i < spec.size(); ++i)
    if (spec[i] >= 0 && spec[i] != actual[i]) return false;
  return true;
}

namespace {

// The product of the known dimensions of s[from:]; false when it does not fit int64.
bool known_product(const Shape& s, size_t from, int64_t* out) {
  int64_t n = 1;
  for (size_t i = from; i < s.size(); ++i)
    if (s[i] >= 0 && __builtin_mul_overflow(n, s[i], &n)) return false;
  *out = n;
  return true;
}

void check_limit(const Shape& s, size_t from, int64_t limit, const std::string& what,
                 const char* unit) {
  int64_t n = 0;
  const bool fits = known_product(s, from, &n);
  if (fits && n <= limit) return;
  throw ValueError(what + " shape=" + shape_str(s) + " has " +
                   (fits ? std::to_string(n) : std::string("more than 2^63 - 1")) + " elements" +
                   unit + "; the limit is " + std::to_string(limit) + " (2^31 - 1) elements" +
                   unit);
}

}  // namespace

void check_sample_elements(const Shape& s, const std::string& what) {
  check_limit(s, 1, kMaxSampleElements, what, " per sample");
}

void check_param_elements(const Shape& s, const std::string& what) {
  check_limit(s, 0, kMaxParamElements, what, "");
}

std::string bytes_str(double bytes) {
  static const char* const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 6) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

}  // namespace ff
