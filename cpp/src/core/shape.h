// Shape: a list of dimensions, -1 meaning "None" (unknown, usually the batch dimension).
// Formatting follows Keras: (None, 28, 28, 1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ff {

using Shape = std::vector<int64_t>;
constexpr int64_t kNone = -1;

// "(None, 28, 28, 1)"; a one-element shape prints as "(None,)" like a Python tuple.
std::string shape_str(const Shape& s);
// Product of all dimensions; every dimension must be known (>= 0).
int64_t shape_numel(const Shape& s);
// Product of all dimensions after the first.
int64_t shape_row_size(const Shape& s);
// The same shape with the first dimension replaced.
Shape with_batch(const Shape& s, int64_t batch);
// True when `actual` matches `spec` where spec dimensions of kNone match anything.
bool shape_compatible(const Shape& spec, const Shape& actual);

}  // namespace ff
