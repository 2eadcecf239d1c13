// ff.ops.take's index rule, shared by the CPU loops (backend/cpu/ops.cpp) and the CUDA kernels
// (backend/cuda/cuda_ops.cu): an index (a float holding a whole number, the graph's values being
// float32) into an axis of `size` entries, negative ones counted from the end as NumPy does.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace ff {

// The position along the axis that index v names, or -1 when v is not a whole number in
// [-size, size) (NaN included).
FF_HD inline int64_t take_position(float v, int64_t size) {
  const double d = static_cast<double>(v);
  if (!(d >= -static_cast<double>(size) && d < static_cast<double>(size))) return -1;
  if (d != std::floor(d)) return -1;
  const int64_t k = static_cast<int64_t>(d);
  return k < 0 ? k + size : k;
}

}  // namespace ff
