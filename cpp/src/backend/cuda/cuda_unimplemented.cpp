// The error for a backend function this build's CUDA backend cannot run (today: the three
// convolution functions in a build without cuDNN). It names the function and what to do; nothing
// falls back to the CPU silently.
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "core/errors.h"

namespace ff::cuda {

void not_on_cuda(const char* kernel) {
  throw ValueError(std::string("not implemented on the CUDA backend: ") + kernel +
                   " (this build of the CUDA backend has no cuDNN, which convolutions need); "
                   "rebuild with cuDNN (CUDNN_ROOT), or run this model on the CPU with "
                   "FORGEFLOW_DEVICE=cpu or ff.config.set_visible_devices([], \"GPU\")");
}

}  // namespace ff::cuda
