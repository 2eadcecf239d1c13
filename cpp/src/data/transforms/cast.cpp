// The built-in Cast transform: numeric to numeric, refusing truncation and overflow.
#include <cmath>
#include <limits>

#include "data/transforms/component_access.h"
#include "data/transforms/transforms.h"

namespace ff::data::transforms {
namespace {

template <typename T>
void store(const Component& c, void* dst, ValueType to, int64_t index) {
  T* d = static_cast<T*>(dst);
  const bool integral = std::numeric_limits<T>::is_integer;
  const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  const double hi = static_cast<double>(std::numeric_limits<T>::max());
  for (int64_t i = 0; i < c.numel(); ++i) {
    const double v = value_at(c, i);
    if (integral && (std::isnan(v) || v != std::floor(v) || v < lo || v > hi))
      throw ValueError("Cast to " + value_type_name(to) + ": value " + std::to_string(v) +
                       " of element " + std::to_string(index) + " (position " + std::to_string(i) +
                       ") is not a whole number in the " + value_type_name(to) +
                       " range; forgeflow does not truncate or wrap silently (round it first "
                       "if that is what you mean)");
    d[i] = static_cast<T>(v);
  }
}

}  // namespace

MapFn cast(size_t component, ValueType to) {
  if (to == ValueType::String) throw TypeError("Cast: cannot cast numbers to strings");
  return [=](const Element& in, int64_t index, uint64_t) {
    const Component& c = numeric_component(in, component, "Cast");
    Element out = in;
    void* dst = nullptr;
    out[component] = Component::make(to, c.shape, &dst);
    switch (to) {
      case ValueType::Float32: store<float>(c, dst, to, index); break;
      case ValueType::Float64: store<double>(c, dst, to, index); break;
      case ValueType::Int32: store<int32_t>(c, dst, to, index); break;
      case ValueType::Int64: store<int64_t>(c, dst, to, index); break;
      case ValueType::UInt8: store<uint8_t>(c, dst, to, index); break;
      case ValueType::Bool: {
        auto* d = static_cast<uint8_t*>(dst);
        for (int64_t i = 0; i < c.numel(); ++i) d[i] = value_at(c, i) != 0.0;
        break;
      }
      case ValueType::String: break;
    }
    return out;
  };
}

}  // namespace ff::data::transforms
