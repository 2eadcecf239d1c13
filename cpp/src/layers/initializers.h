// Weight initializers with Keras names and formulas (glorot_uniform, he_normal, zeros, ...),
// drawn from the counter-based RNG so a seed gives the same weights on every backend.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace ff {

// Raises ValueError for an unknown name (listing the known ones).
void check_initializer_name(const std::string& name);
// Fills `t` (fan_in/fan_out computed Keras's way from its shape) using `seed`.
void initialize(Tensor& t, const std::string& name, uint64_t seed);

}  // namespace ff
