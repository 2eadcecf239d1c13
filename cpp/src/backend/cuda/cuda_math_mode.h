// The CUDA library's view of the process's GPU math settings (backend/math_mode.h): the loader
// binds the core's MathMode to it when it loads the library (forgeflow_cuda_bind_math_mode, in
// cuda_plugin.cpp); the GEMM and convolution engines read it at call time.
#pragma once
#include "backend/math_mode.h"

namespace ff::cuda {

// The settings now: the bound MathMode's, or MathMode's defaults before one is bound.
MathChoice current_math();
void bind_math_mode(const MathMode* mode);

}  // namespace ff::cuda
