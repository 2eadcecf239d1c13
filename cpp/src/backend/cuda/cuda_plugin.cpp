// The CUDA backend library's exported entry points (libforgeflow_cuda.so is built with hidden
// visibility and loaded on first use by backend/cuda_loader.cpp, so that the core and
// `import forgeflow` never link the CUDA libraries); NCCL's are in cuda_nccl.cu, nvJPEG's in
// cuda_nvjpeg.cpp. C linkage; errors come back as a message, never as an exception across the
// library boundary.
#include <atomic>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_math_mode.h"

namespace {

void put_message(char* message, size_t size, const char* text) {
  if (message && size) std::snprintf(message, size, "%s", text);
}

struct Gpu {
  std::unique_ptr<ff::cuda::CudaDevice> device;
  std::unique_ptr<ff::cuda::CudaBackend> backend;
};

// One device and backend per GPU for the life of the process (never destroyed: kernels may
// still be queued when static destructors run).
std::mutex gpus_mu;
std::vector<Gpu*>& gpus() {
  static auto* list = new std::vector<Gpu*>();
  return *list;
}

// The core's math settings, bound by the loader (backend/math_mode.h).
std::atomic<const ff::MathMode*> bound_math_mode{nullptr};

}  // namespace

namespace ff::cuda {

MathChoice current_math() {
  static const MathMode defaults;
  const MathMode* mode = bound_math_mode.load(std::memory_order_acquire);
  return read_math_mode(mode ? *mode : defaults);
}

void bind_math_mode(const MathMode* mode) {
  bound_math_mode.store(mode, std::memory_order_release);
}

// The device of GPU `index` once forgeflow_cuda_backend opened it, else null (cuda_nccl.cu).
CudaDevice* opened_device(int index) {
  std::lock_guard<std::mutex> lock(gpus_mu);
  auto& list = gpus();
  if (index < 0 || static_cast<size_t>(index) >= list.size() || !list[static_cast<size_t>(index)])
    return nullptr;
  return list[static_cast<size_t>(index)]->device.get();
}

}  // namespace ff::cuda

extern "C" {

// The core's GPU math settings (TF32, op determinism), which the engines read at call time.
__attribute__((visibility("default"))) void forgeflow_cuda_bind_math_mode(
    const ff::MathMode* mode) {
  ff::cuda::bind_math_mode(mode);
}

// The number of GPUs this process sees (CUDA_VISIBLE_DEVICES applies), or -1 with the reason in
// `message` (no driver, driver too old for this runtime, no device).
__attribute__((visibility("default"))) int forgeflow_cuda_device_count(char* message,
                                                                       size_t size) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    put_message(message, size, cudaGetErrorString(status));
    return -1;
  }
  return count;
}

// The backend of GPU `index`, created on first call; null with the reason in `message`.
__attribute__((visibility("default"))) ff::Backend* forgeflow_cuda_backend(int index,
                                                                           char* message,
                                                                           size_t size) {
  try {
    std::lock_guard<std::mutex> lock(gpus_mu);
    auto& list = gpus();
    if (index < 0) throw std::runtime_error("GPU index must be >= 0");
    if (list.size() <= static_cast<size_t>(index)) list.resize(static_cast<size_t>(index) + 1);
    if (!list[static_cast<size_t>(index)]) {
      auto gpu = std::make_unique<Gpu>();
      gpu->device = std::make_unique<ff::cuda::CudaDevice>(index);
      gpu->backend = std::make_unique<ff::cuda::CudaBackend>(*gpu->device);
      list[static_cast<size_t>(index)] = gpu.release();
    }
    return list[static_cast<size_t>(index)]->backend.get();
  } catch (const std::exception& e) {
    put_message(message, size, e.what());
    return nullptr;
  }
}

}  // extern "C"
