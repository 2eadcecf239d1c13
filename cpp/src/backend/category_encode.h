// CategoryEncoding's rule as one function that the CPU backend's kernel, a CUDA kernel and the
// host-side encoder of the input pipeline (layers/category_encoding.cpp) all run: integer
// category indices (as floats) to one-hot, multi-hot or count rows.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/host_device.h"

namespace ff {

enum class CategoryMode { OneHot, MultiHot, Count };

// y (rows x num_tokens: one row per value for one_hot, one per `last` values otherwise) is
// overwritten with the encoding of x's numel values. Returns -1, or the flat index of the first
// value that is not a whole number in [0, num_tokens) (y is then incomplete); with
// skip_negative, negative values (a lookup's dropped mask token) add nothing instead.
FF_HD inline int64_t encode_category_values(const float* x, int64_t numel, int64_t last,
                                            int64_t num_tokens, CategoryMode mode,
                                            bool skip_negative, float* y) {
  const int64_t per_row = mode == CategoryMode::OneHot ? 1 : last;
  const int64_t rows = per_row == 0 ? 0 : numel / per_row;
  for (int64_t i = 0; i < rows * num_tokens; ++i) y[i] = 0.0f;
  for (int64_t i = 0; i < numel; ++i) {
    const float v = x[i];
    if (skip_negative && v < 0) continue;
    if (!(v >= 0 && v < static_cast<float>(num_tokens)) || v != std::floor(v)) return i;
    float& out = y[(i / per_row) * num_tokens + static_cast<int64_t>(v)];
    out = mode == CategoryMode::Count ? out + 1.0f : 1.0f;
  }
  return -1;
}

}  // namespace ff
