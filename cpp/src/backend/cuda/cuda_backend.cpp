// The CUDA backend's construction (see cuda_backend.h); its kernels live in the cuda_*.cu files.
#include "backend/cuda/cuda_backend.h"

#include "backend/cuda/cuda_conv.h"
#include "backend/cuda/cuda_gemm.h"

namespace ff::cuda {

CudaBackend::CudaBackend(CudaDevice& device)
    : Backend(device), cuda_device_(&device), gemm_(std::make_unique<GemmEngine>(device)),
      conv_(std::make_unique<ConvEngine>(device)) {}

CudaBackend::~CudaBackend() = default;

}  // namespace ff::cuda
