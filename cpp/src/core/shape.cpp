// Shape helpers (formatting and compatibility checks used by every layer boundary).
#include "core/shape.h"

#include "core/errors.h"

namespace ff {

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
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) throw ValueError("shape " + shape_str(s) + " has an unknown dimension");
    n *= d;
  }
  return n;
}

int64_t shape_row_size(const Shape& s) {
  int64_t n = 1;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] < 0) throw ValueError("shape " + shape_str(s) + " has an unknown non-batch dimension");
    n *= s[i];
  }
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

}  // namespace ff
