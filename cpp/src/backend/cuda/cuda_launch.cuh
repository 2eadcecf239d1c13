// Launch shapes and stream-ordered scratch memory shared by the CUDA backend's one-thread-per-
// element kernels (pooling, normalization, images, GEMM helpers): a fixed block size, a capped
// grid that grid-stride loops cover (int64 indices: sizes never assumed to fit an int), and
// scratch from the device's pool that is given back on every path (cudaMallocAsync and
// cudaFreeAsync on the compute stream: legal inside graph capture).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace ff::cuda {
namespace {

constexpr int kLaunchThreads = 256;       // threads per block
constexpr int64_t kMaxGridBlocks = 4096;  // grid-stride loops cover the rest

// Blocks for n elements, one thread each: at least 1, at most kMaxGridBlocks.
inline unsigned int grid_blocks(int64_t n) {
  int64_t b = (n + kLaunchThreads - 1) / kLaunchThreads;
  if (b < 1) b = 1;
  if (b > kMaxGridBlocks) b = kMaxGridBlocks;
  return static_cast<unsigned int>(b);
}

// This thread's first element and the grid's stride (kernels launched with kLaunchThreads).
__device__ inline int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * kLaunchThreads + threadIdx.x;
}
__device__ inline int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * kLaunchThreads;
}

// Stream-ordered scratch memory from the device's pool, given back on every path.
class DeviceScratch {
 public:
  DeviceScratch(Device& device, size_t bytes)
      : device_(&device), bytes_(bytes < 8 ? 8 : bytes), data_(device.allocate(bytes_)) {}
  ~DeviceScratch() {
    try {
      device_->deallocate(data_, bytes_);
    } catch (...) {  // a destructor must not throw; the pool reports the error at its next use
    }
  }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  void* data() const { return data_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  Device* device_;
  size_t bytes_;
  void* data_;
};

}  // namespace
}  // namespace ff::cuda
