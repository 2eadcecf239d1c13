// ConvEngine: the CUDA backend's convolutions (conv2d_forward, conv2d_backward_data,
// conv2d_backward_filter) through cuDNN, NHWC float32: one cuDNN handle bound to the compute
// stream, descriptors and the algorithm made once per geometry and math setting and kept (the
// same algorithm on the same stream gives the same bits, and the calls can be captured in a CUDA
// graph), and one workspace buffer that grows only outside capture.
//
// - Algorithm: cudnnGet*Algorithm_v7 (heuristics only: no synchronisation, no allocation), the
//   first result that ran (status SUCCESS), is CUDNN_DETERMINISTIC unless op determinism is off
//   (ff.config.experimental.enable_op_determinism(False)), needs no more than kMaxAlgoWorkspace,
//   is not a tensor-op algorithm when TF32 is off, and is not an FFT or Winograd algorithm:
//   their transforms spread a NaN or Inf to outputs whose windows do not hold it (0 * NaN), where
//   the CPU keeps it to those windows.
// - Math: CUDNN_FMA_MATH (exact float32) when TF32 is off, cuDNN's choice (TF32 tensor cores on
//   Ampere and later) when ff.config.experimental.enable_tensor_float_32_execution(True), the
//   default as in TensorFlow (backend/math_mode.h).
// - Padding: our geometry pads by "before" amounts; cuDNN symmetrically. Geometries cuDNN cannot
//   express directly run on a zero-padded copy of x (backend/conv_plan.h).
// - Kernel layout: Keras's (KH, KW, C, F); cuDNN's NHWC filters are (F, KH, KW, C): the kernel
//   (or its gradient) is transposed through the workspace.
// - Bias gradient: the CPU's order exactly (sums of kConvBiasRowBlock rows in float, then those
//   partials in order): the CPU's bits.
// - Workspace: one device buffer (the algorithm's workspace, the transposed kernel, the padded
//   copy, the bias partials), grown at the first eager call of a larger geometry. Growing inside
//   a capture is refused with an error (the model's first step of a signature is eager, so its
//   captured steps find the buffer large enough). Outgrown buffers are kept until the engine
//   goes: a graph captured earlier may still use them.
//
// - 16-bit storage (the *_half functions): x, y, dx, dy and the kernel in CUDNN_DATA_BFLOAT16 or
//   CUDNN_DATA_HALF with float32 compute (cuDNN's PSEUDO_BFLOAT16 / PSEUDO_HALF configurations)
//   and CUDNN_TENSOR_OP_MATH (tensor cores; TF32 plays no part); plans keyed by the storage type
//   too, the same algorithm rules otherwise. The filter gradient is written by cuDNN in the
//   16-bit type (rounded once) into the workspace, then decoded into the float32 dkernel; dbias
//   (float32) adds the 16-bit dy in the float32 path's order.
//
// Builds without cuDNN (FORGEFLOW_HAVE_CUDNN undefined) keep the class: each call raises
// "not implemented on the CUDA backend" naming the function and the missing cuDNN.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>

#include "backend/cuda/cuda_device.h"
#include "backend/window_geometry.h"
#include "core/dtype.h"

namespace ff::cuda {

class ConvEngine {
 public:
  // Creates the cuDNN handle on the compute stream (no-op without cuDNN).
  explicit ConvEngine(CudaDevice& device);
  ~ConvEngine();
  ConvEngine(const ConvEngine&) = delete;
  ConvEngine& operator=(const ConvEngine&) = delete;

  // Whether this build has cuDNN.
  static bool available();

  // The backend's three functions (backend.h), enqueued on the compute stream. Thread-safe.
  void forward(const Conv2DGeometry& g, const float* x, const float* kernel, float* y);
  void backward_data(const Conv2DGeometry& g, const float* dy, const float* kernel, float* dx);
  void backward_filter(const Conv2DGeometry& g, const float* x, const float* dy, float* dkernel,
                       float* dbias);
  // The backend's 16-bit functions: x, kernel, y, dy, dx hold the bits of `half` (BFloat16 or
  // Float16, checked by the caller); dkernel and dbias are float32.
  void forward_half(const Conv2DGeometry& g, const void* x, const void* kernel, void* y,
                    DType half);
  void backward_data_half(const Conv2DGeometry& g, const void* dy, const void* kernel, void* dx,
                          DType half);
  void backward_filter_half(const Conv2DGeometry& g, const void* x, const void* dy,
                            float* dkernel, float* dbias, DType half);

  // Plans made so far (one per operation, geometry, storage type and math setting) and the
  // workspace's size.
  size_t plan_count() const;
  size_t workspace_bytes() const;

  static constexpr size_t kMaxAlgoWorkspace = size_t{1} << 30;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ff::cuda
