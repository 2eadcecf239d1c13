// The built-in Rescale transform: float32(x) * scale + offset.
#include "data/transforms/component_access.h"
#include "data/transforms/transforms.h"

namespace ff::data::transforms {

MapFn rescale(size_t component, float scale, float offset) {
  return [=](const Element& in, int64_t, uint64_t) {
    const Component& c = numeric_component(in, component, "Rescale");
    Element out = in;
    void* dst = nullptr;
    out[component] = Component::make(ValueType::Float32, c.shape, &dst);
    float* d = static_cast<float*>(dst);
    const int64_t n = c.numel();
    if (c.type == ValueType::UInt8) {
      const auto* s = static_cast<const uint8_t*>(c.data());
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]) * scale + offset;
    } else if (c.type == ValueType::Float32) {
      const auto* s = static_cast<const float*>(c.data());
      for (int64_t i = 0; i < n; ++i) d[i] = s[i] * scale + offset;
    } else {
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(value_at(c, i)) * scale + offset;
    }
    return out;
  };
}

}  // namespace ff::data::transforms
