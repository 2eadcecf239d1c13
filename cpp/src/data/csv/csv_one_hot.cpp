// Compact CSV feature rows to one-hot slots at batch time: see csv_one_hot.h.
#include "data/csv/csv_one_hot.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "core/errors.h"

namespace ff::data::csv {

int64_t expanded_width(const std::vector<int64_t>& depths) {
  int64_t w = 0;
  for (int64_t d : depths) {
    if (d < 0) throw ValueError("internal: a negative one-hot depth for a CSV column");
    if (d > (int64_t(1) << 24))
      throw ValueError("a categorical CSV column with " + std::to_string(d) +
                       " values cannot be one-hot encoded (its indices travel as float32, exact "
                       "up to 2^24); leave it out with select_columns");
    w += d > 0 ? d : 1;
  }
  return w;
}

MapFn expand_one_hot(size_t component, std::vector<int64_t> depths) {
  const int64_t in_width = static_cast<int64_t>(depths.size());
  const int64_t out_width = expanded_width(depths);
  auto offsets = std::make_shared<std::vector<int64_t>>();
  offsets->reserve(depths.size());
  int64_t at = 0;
  for (int64_t d : depths) {
    offsets->push_back(at);
    at += d > 0 ? d : 1;
  }
  auto shared_depths = std::make_shared<const std::vector<int64_t>>(std::move(depths));
  return [=](const Element& in, int64_t index, uint64_t) {
    if (component >= in.size())
      throw ValueError("internal: the CSV one-hot expansion has no component " +
                       std::to_string(component));
    const Component& c = in[component];
    if (c.type != ValueType::Float32 || c.shape.empty() || c.shape.back() != in_width)
      throw ValueError("internal: the CSV one-hot expansion expects float32 rows of " +
                       std::to_string(in_width) + " compact slots, received " + c.describe());
    Shape shape = c.shape;
    shape.back() = out_width;
    const int64_t rows = in_width ? c.numel() / in_width : 0;
    void* dst = nullptr;
    Element out = in;
    out[component] = Component::make(ValueType::Float32, shape, &dst);
    float* o = static_cast<float*>(dst);
    std::memset(o, 0, static_cast<size_t>(rows * out_width) * sizeof(float));
    const float* x = static_cast<const float*>(c.data());
    const std::vector<int64_t>& d = *shared_depths;
    const std::vector<int64_t>& off = *offsets;
    for (int64_t r = 0; r < rows; ++r, x += in_width, o += out_width) {
      for (int64_t i = 0; i < in_width; ++i) {
        if (d[i] == 0) {
          o[off[i]] = x[i];
          continue;
        }
        const float v = x[i];
        if (!(v >= 0.0f && v < static_cast<float>(d[i])) || v != std::floor(v))
          throw ValueError("internal: CSV one-hot index " + std::to_string(v) + " of slot " +
                           std::to_string(i) + " in element " + std::to_string(index) +
                           " is outside [0, " + std::to_string(d[i]) + ")");
        o[off[i] + static_cast<int64_t>(v)] = 1.0f;
      }
    }
    return out;
  };
}

}  // namespace ff::data::csv
