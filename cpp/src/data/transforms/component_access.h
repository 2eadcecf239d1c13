// Reading any numeric component as doubles, shared by the built-in transforms.
#pragma once
#include <string>

#include "core/errors.h"
#include "data/element.h"

namespace ff::data::transforms {

inline double value_at(const Component& c, int64_t i) {
  const void* p = c.data();
  switch (c.type) {
    case ValueType::Float32: return static_cast<const float*>(p)[i];
    case ValueType::Float64: return static_cast<const double*>(p)[i];
    case ValueType::Int32: return static_cast<const int32_t*>(p)[i];
    case ValueType::Int64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case ValueType::UInt8: return static_cast<const uint8_t*>(p)[i];
    case ValueType::Bool: return static_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
    case ValueType::String: break;
  }
  throw TypeError("internal: value_at on a string component");
}

// The component a transform works on, checked.
inline const Component& numeric_component(const Element& e, size_t component, const char* transform) {
  if (component >= e.size())
    throw ValueError(std::string(transform) + ": the element has " + std::to_string(e.size()) +
                     " components; there is no component " + std::to_string(component));
  const Component& c = e[component];
  if (c.type == ValueType::String)
    throw TypeError(std::string(transform) + " takes numbers; component " +
                    std::to_string(component) + " holds strings (" + c.describe() + ")");
  return c;
}

}  // namespace ff::data::transforms
