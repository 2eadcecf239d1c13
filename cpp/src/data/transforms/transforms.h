// Built-in map transforms: C++ MapFns that rewrite one component of each element (the others
// pass through unchanged), so `map` can run them on worker threads without the GIL. One file per
// transform. Strict like the rest of forgeflow: nothing is truncated or wrapped silently.
#pragma once
#include <cstddef>
#include <cstdint>

#include "data/ops.h"

namespace ff::data::transforms {

// float32(x) * scale + offset, for any numeric component (e.g. uint8 pixels to [0, 1]).
MapFn rescale(size_t component, float scale, float offset);

// Converts a numeric component to `to`. A float value that is not a whole number, or any value
// outside the target type's range, is an error naming it and the element: casting never
// truncates or wraps silently.
MapFn cast(size_t component, ValueType to);

// Integer class indices of shape S to float32 one-hot vectors of shape S + (depth,). An index
// outside [0, depth) is an error naming it and the element.
MapFn one_hot(size_t component, int64_t depth);

}  // namespace ff::data::transforms
