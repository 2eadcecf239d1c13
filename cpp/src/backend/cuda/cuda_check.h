// Error checking for every CUDA runtime and cuBLAS(Lt) call of the CUDA backend: one macro per
// library that names the call, the file and the line, and turns an out-of-memory status into
// ResourceExhaustedError (everything else: std::runtime_error). Kernel launches are followed by
// FF_CUDA_LAUNCH_CHECK("kernel name"), which checks cudaGetLastError().
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

#include "core/errors.h"

namespace ff::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file,
                                          int line) {
  const std::string where = std::string(call) + " (" + file + ":" + std::to_string(line) + ")";
  if (status == cudaErrorMemoryAllocation)
    throw ResourceExhaustedError("out of GPU memory in " + where + ": " +
                                 cudaGetErrorString(status));
  throw std::runtime_error("CUDA error " + std::string(cudaGetErrorName(status)) + " in " + where +
                           ": " + cudaGetErrorString(status));
}

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* call,
                                            const char* file, int line) {
  const std::string where = std::string(call) + " (" + file + ":" + std::to_string(line) + ")";
  if (status == CUBLAS_STATUS_ALLOC_FAILED)
    throw ResourceExhaustedError("out of GPU memory in " + where);
  throw std::runtime_error("cuBLAS error " + std::to_string(static_cast<int>(status)) + " (" +
                           cublasLtGetStatusString(status) + ") in " + where);
}

}  // namespace ff::cuda

#define FF_CUDA_CHECK(call)                                                      \
  do {                                                                           \
    const cudaError_t ff_status_ = (call);                                       \
    if (ff_status_ != cudaSuccess)                                               \
      ::ff::cuda::throw_cuda_error(ff_status_, #call, __FILE__, __LINE__);       \
  } while (0)

#define FF_CUBLAS_CHECK(call)                                                    \
  do {                                                                           \
    const cublasStatus_t ff_status_ = (call);                                    \
    if (ff_status_ != CUBLAS_STATUS_SUCCESS)                                     \
      ::ff::cuda::throw_cublas_error(ff_status_, #call, __FILE__, __LINE__);     \
  } while (0)

// After a kernel launch: a bad configuration or an earlier asynchronous fault, named by kernel.
#define FF_CUDA_LAUNCH_CHECK(kernel_name)                                        \
  do {                                                                           \
    const cudaError_t ff_status_ = cudaGetLastError();                           \
    if (ff_status_ != cudaSuccess)                                               \
      ::ff::cuda::throw_cuda_error(ff_status_, "launch of " kernel_name, __FILE__, __LINE__); \
  } while (0)
