// GemmEngine: the CUDA backend's matrix products through cuBLASLt: one handle, a fixed workspace
// allocated once (so that GEMMs can be captured in a CUDA graph: no allocation and no
// synchronisation per call), and the algorithm chosen once per shape and kept (the same algorithm
// on the same stream gives the same bits). Float32 with CUBLAS_COMPUTE_32F, or
// CUBLAS_COMPUTE_32F_FAST_TF32 while TF32 is enabled (backend/math_mode.h, read at each call and
// part of the plan's key). 16-bit products (gemm_half, dense_forward_half): A and B in
// CUDA_R_16BF or CUDA_R_16F, CUBLAS_COMPUTE_32F (float32 accumulation on tensor cores), C = D in
// float32 or the same 16-bit type (rounded once, by cuBLASLt's epilogue), a bias in D's type.
//
// Row-major products are computed as their column-major transposes with the operands swapped
// (C = op(A) op(B) is Cᵀ = op(B)ᵀ op(A)ᵀ), so a bias per column of the row-major C is cuBLASLt's
// bias per row of D and fuses as the BIAS epilogue.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "backend/cuda/cuda_device.h"

namespace ff::cuda {

// What cuBLASLt applies to the product before storing it (CUBLASLT_EPILOGUE_DEFAULT, _BIAS,
// _RELU_BIAS).
enum class GemmEpilogue : int { None, Bias, ReluBias };

// The element types of a product: A and B alike (CUDA_R_32F, CUDA_R_16BF or CUDA_R_16F), and
// C = D (CUDA_R_32F, or A's 16-bit type); a bias has D's type (cuBLASLt's default).
struct GemmTypes {
  cudaDataType_t ab = CUDA_R_32F;
  cudaDataType_t c = CUDA_R_32F;
};

class GemmEngine {
 public:
  // Creates the handle and the workspace on the device current for the calling thread (the
  // CudaDevice's), then probes once per output type (float32, bfloat16, float16) whether the
  // RELU_BIAS epilogue keeps NaN (a sync at construction only).
  explicit GemmEngine(CudaDevice& device);
  ~GemmEngine();
  GemmEngine(const GemmEngine&) = delete;
  GemmEngine& operator=(const GemmEngine&) = delete;

  // c (m x n, ldc) = epilogue(alpha * op(a) op(b) + beta * c [+ bias per column]), row-major
  // float32, enqueued on `stream`. m, n or k = 0 behave as the CPU's gemm: nothing to do, or
  // c = beta * c (beta 0 writes zeros without reading c). beta = 0 never reads c. Thread-safe.
  void matmul(cudaStream_t stream, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
              float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
              float* c, int64_t ldc, GemmEpilogue epilogue = GemmEpilogue::None,
              const float* bias = nullptr);

  // The same over typed operands (GemmTypes): a, b, c and bias point to elements of those types.
  // With a 16-bit C, beta must be 0 (C is never read). Thread-safe.
  void matmul_typed(cudaStream_t stream, bool trans_a, bool trans_b, int64_t m, int64_t n,
                    int64_t k, float alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                    float beta, void* c, int64_t ldc, GemmTypes types,
                    GemmEpilogue epilogue = GemmEpilogue::None, const void* bias = nullptr);

  // Whether cuBLASLt's RELU_BIAS epilogue was seen to propagate NaN (ReLU(NaN) = NaN, as the CPU
  // computes it). NVIDIA documents its ReLU as max(x, 0) and says nothing of NaN; where it drops
  // NaN, the backend applies the bias in the GEMM and ReLU with its own NaN-propagating kernel.
  bool relu_epilogue_keeps_nan() const { return relu_keeps_nan_[0]; }
  // The same for the kernels writing a 16-bit D (CUDA_R_16BF or CUDA_R_16F; float32 otherwise).
  bool relu_epilogue_keeps_nan(cudaDataType_t d_type) const {
    return relu_keeps_nan_[d_type == CUDA_R_16BF ? 1 : d_type == CUDA_R_16F ? 2 : 0];
  }

  // Plans created so far (one per distinct shape, transposes, leading dimensions, alignment and
  // epilogue).
  size_t plan_count() const;

 private:
  // (trans_a, trans_b, m, n, k, lda, ldb, ldc, epilogue, alignment of a, b, c, bias, TF32,
  // A/B type, C type)
  using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int,
                         uint32_t, uint32_t, uint32_t, uint32_t, bool, int, int>;
  struct Plan;
  Plan& plan_for(const Key& key, const void* bias);  // with mu_ held
  bool probe_relu_nan(cudaDataType_t type);

  CudaDevice* device_;
  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  static constexpr size_t kWorkspaceBytes = size_t{32} << 20;
  mutable std::mutex mu_;  // guards plans_ and each plan's descriptor during a call
  std::map<Key, std::unique_ptr<Plan>> plans_;
  bool relu_keeps_nan_[3] = {false, false, false};  // D float32, bfloat16, float16
};

}  // namespace ff::cuda
