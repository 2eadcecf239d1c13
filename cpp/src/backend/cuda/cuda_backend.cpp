// The CUDA backend's construction (see cuda_backend.h); its kernels live in the cuda_*.cu files.
#include "backend/cuda/cuda_backend.h"

#include "backend/cuda/cuda_conv.h"
#include "backend/cuda/cuda_gemm.h"

namespace ff::cuda {

CudaBackend::CudaBackend(CudaDevice& device)
    : Backend(device), cuda_device_(&device), gemm_(std::make_unique<GemmEngine>(device)),
      conv_(std::make_unique<ConvEngine>(device)) {
  // Mixed precision keeps 16-bit buffers here (docs/backend-contract.md, "16-bit storage"): the
  // *_half kernels are native (cuda_elementwise.cu, cuda_gemm.cu, cuda_conv.cu, ...).
  set_half_storage(true);
}

CudaBackend::~CudaBackend() = default;

}  // namespace ff::cuda
