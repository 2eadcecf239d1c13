// The built-in OneHot transform: class indices to float32 one-hot vectors.
#include <cmath>
#include <cstring>

#include "data/transforms/component_access.h"
#include "data/transforms/transforms.h"

namespace ff::data::transforms {

MapFn one_hot(size_t component, int64_t depth) {
  if (depth < 1) throw ValueError("OneHot: depth must be >= 1, received " + std::to_string(depth));
  return [=](const Element& in, int64_t index, uint64_t) {
    const Component& c = numeric_component(in, component, "OneHot");
    if (c.type == ValueType::Float32 || c.type == ValueType::Float64)
      throw TypeError("OneHot takes integer class indices; component " + std::to_string(component) +
                      " is " + c.describe() + ". Labels are not cast silently (use Cast first)");
    Shape shape = c.shape;
    shape.push_back(depth);
    Element out = in;
    void* dst = nullptr;
    out[component] = Component::make(ValueType::Float32, shape, &dst);
    float* d = static_cast<float*>(dst);
    std::memset(d, 0, static_cast<size_t>(c.numel() * depth) * sizeof(float));
    for (int64_t i = 0; i < c.numel(); ++i) {
      const double v = value_at(c, i);
      if (v < 0 || v >= static_cast<double>(depth))
        throw ValueError("OneHot(depth=" + std::to_string(depth) + "): class index " +
                         std::to_string(static_cast<int64_t>(v)) + " of element " +
                         std::to_string(index) + " is outside [0, " + std::to_string(depth) + ")");
      d[i * depth + static_cast<int64_t>(v)] = 1.0f;
    }
    return out;
  };
}

}  // namespace ff::data::transforms
