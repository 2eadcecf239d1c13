// Loads the CUDA backend library (libforgeflow_cuda.so) on first use, so that the core, the
// Python module and `import forgeflow` never link the CUDA libraries: a machine without a GPU or
// without the CUDA runtime still runs everything on the CPU. Used by backend/registry.cpp only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "backend/backend.h"

namespace ff {

class GradientReducer;  // distribute/gradient_reducer.h

struct CudaLoadResult {
  int device_count = 0;  // GPUs seen (0 when none or when the library could not load)
  std::string why_none;  // why there is no GPU: not built, library or driver missing, no device
};

// Tries once per process: this build has the library, it loads, and the driver reports GPUs.
const CudaLoadResult& load_cuda();
// The backend of GPU `index` (load_cuda() found at least index + 1 GPUs); ValueError otherwise.
Backend& cuda_backend(int index);

// nvJPEG through the CUDA library (backend/cuda/cuda_nvjpeg.cpp, whose comments give the
// arguments and statuses): the entry points, all null when the library did not load or lacks
// them (a library older than them).
struct CudaJpegApi {
  int (*available)(int device, char* message, size_t size) = nullptr;
  int (*info)(int device, const uint8_t* data, size_t length, int64_t* height, int64_t* width,
              char* message, size_t size) = nullptr;
  int (*decode)(int device, const uint8_t* data, size_t length, int channels, uint8_t* out,
                int64_t height, int64_t width, char* message, size_t size) = nullptr;
};
const CudaJpegApi& cuda_jpeg_api();

// NCCL through the CUDA library (backend/cuda/cuda_nccl.cu, whose comments give the arguments):
// the entry points, null when the library did not load or lacks them.
struct CudaNcclApi {
  int (*unique_id)(char* id, char* message, size_t size) = nullptr;
  GradientReducer* (*reducer)(int device, const char* id, int rank, int size,
                              int64_t bucket_bytes, double timeout_s, char* message,
                              size_t message_size, int* status) = nullptr;
};
const CudaNcclApi& cuda_nccl_api();

}  // namespace ff
