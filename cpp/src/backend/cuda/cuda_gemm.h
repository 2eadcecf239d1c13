// GemmEngine: the CUDA backend's matrix products through cuBLASLt: one handle, a fixed workspace
// allocated once (so that GEMMs can be captured in a CUDA graph), and the algorithm chosen once
// per shape and kept (the same algorithm on the same stream gives the same bits). Float32 with
// CUBLAS_COMPUTE_32F: no TF32.
#pragma once
#include <cublasLt.h>

#include "backend/cuda/cuda_device.h"

namespace ff::cuda {

class GemmEngine {
 public:
  explicit GemmEngine(CudaDevice& device);
  ~GemmEngine();
  GemmEngine(const GemmEngine&) = delete;
  GemmEngine& operator=(const GemmEngine&) = delete;

 private:
  CudaDevice* device_;
};

}  // namespace ff::cuda
