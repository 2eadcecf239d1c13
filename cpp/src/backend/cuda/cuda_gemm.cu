// The CUDA backend's matrix products (cuda_gemm.h): GemmEngine over cuBLASLt, and the backend's
// gemm, gemm_bf16, dense_forward, gemm_half and dense_forward_half on it. Nothing here allocates
// per float32 call or waits for the GPU; the plans (descriptors, layouts and the heuristic's
// algorithm) are made on first use of a shape and kept, so every later call with that shape runs
// the same algorithm.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_gemm.h"
#include "backend/cuda/cuda_launch.cuh"
#include "backend/cuda/cuda_math_mode.h"
#include "core/errors.h"
#include "core/half.h"

namespace ff::cuda {

namespace {

// The largest power of two (at most 256) dividing the address: what cuBLASLt's heuristic is told
// of each operand (its default assumes 256-byte alignment, which views into buffers lack).
uint32_t alignment(const void* p) {
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  if (v == 0) return 256;
  return static_cast<uint32_t>(std::min<uintptr_t>(v & (~v + 1), 256));
}

cublasLtEpilogue_t lt_epilogue(GemmEpilogue e) {
  switch (e) {
    case GemmEpilogue::None: return CUBLASLT_EPILOGUE_DEFAULT;
    case GemmEpilogue::Bias: return CUBLASLT_EPILOGUE_BIAS;
    case GemmEpilogue::ReluBias: return CUBLASLT_EPILOGUE_RELU_BIAS;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

std::string shape_text(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t lda,
                       int64_t ldb, int64_t ldc) {
  return "m=" + std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k) +
         ", trans_a=" + (ta ? "true" : "false") + ", trans_b=" + (tb ? "true" : "false") +
         ", lda=" + std::to_string(lda) + ", ldb=" + std::to_string(ldb) +
         ", ldc=" + std::to_string(ldc);
}

// c[r, j] = beta * c[r, j] over m x n at stride ldc (0 where beta is 0, never reading c): the
// product with an empty sum (k = 0), as the CPU computes it. Grid-stride over int64 indices.
__global__ void scale_matrix_kernel(float* c, int64_t m, int64_t n, int64_t ldc, float beta) {
  const int64_t total = m * n;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    float* p = c + (i / n) * ldc + i % n;
    *p = beta == 0.0f ? 0.0f : beta * *p;
  }
}

void scale_matrix(cudaStream_t stream, float* c, int64_t m, int64_t n, int64_t ldc, float beta) {
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((m * n + kThreads - 1) / kThreads, 4096);
  scale_matrix_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(c, m, n, ldc, beta);
  FF_CUDA_LAUNCH_CHECK("scale_matrix_kernel");
}

// c[r, j] = +0 (the bits 0x0000 in bfloat16 and float16) over m x n at stride ldc: a 16-bit
// product with an empty sum.
__global__ void zero_matrix16_kernel(uint16_t* c, int64_t m, int64_t n, int64_t ldc) {
  const int64_t total = m * n;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride)
    c[(i / n) * ldc + i % n] = 0;
}

void zero_matrix16(cudaStream_t stream, uint16_t* c, int64_t m, int64_t n, int64_t ldc) {
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((m * n + kThreads - 1) / kThreads, 4096);
  zero_matrix16_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(c, m, n, ldc);
  FF_CUDA_LAUNCH_CHECK("zero_matrix16_kernel");
}

const char* type_text(cudaDataType_t t) {
  switch (t) {
    case CUDA_R_32F: return "float32";
    case CUDA_R_16BF: return "bfloat16";
    case CUDA_R_16F: return "float16";
    default: return "an unsupported type";
  }
}

size_t type_bytes(cudaDataType_t t) { return t == CUDA_R_32F ? 4 : 2; }

// Elements a rows x cols row-major operand at stride ld spans.
int64_t operand_span(int64_t rows, int64_t cols, int64_t ld) {
  return rows <= 0 || cols <= 0 ? 0 : (rows - 1) * ld + cols;
}

}  // namespace

struct GemmEngine::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  // cuBLASLt's A (our b), B (our a) and C = D, column-major views of the row-major operands.
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {  // errors ignored: a destructor must not throw
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

GemmEngine::GemmEngine(CudaDevice& device) : device_(&device) {
  FF_CUBLAS_CHECK(cublasLtCreate(&handle_));
  const cudaError_t status = cudaMalloc(&workspace_, kWorkspaceBytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    cublasLtDestroy(handle_);
    throw_cuda_error(status, "cudaMalloc(cuBLASLt workspace)", __FILE__, __LINE__);
  }
  const cudaDataType_t probed[3] = {CUDA_R_32F, CUDA_R_16BF, CUDA_R_16F};
  for (int t = 0; t < 3; ++t) {
    try {
      relu_keeps_nan_[t] = probe_relu_nan(probed[t]);
    } catch (const std::exception&) {
      relu_keeps_nan_[t] = false;  // an epilogue this cuBLASLt cannot run is one we do not use
    }
  }
}

GemmEngine::~GemmEngine() {
  // Errors are ignored: a destructor must not throw, and at exit the driver may be gone.
  plans_.clear();
  if (workspace_) cudaFree(workspace_);  // waits for the work that may still use it
  if (handle_) cublasLtDestroy(handle_);
}

size_t GemmEngine::plan_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return plans_.size();
}

GemmEngine::Plan& GemmEngine::plan_for(const Key& key, const void* bias) {
  auto found = plans_.find(key);
  if (found != plans_.end()) return *found->second;
  const auto [ta, tb, m, n, k, lda, ldb, ldc, epilogue, align_a, align_b, align_c, align_bias,
              tf32, ab_int, c_int] = key;
  (void)align_bias;  // the heuristic reads it from the bias pointer itself
  const cudaDataType_t ab_type = static_cast<cudaDataType_t>(ab_int);
  const cudaDataType_t c_type = static_cast<cudaDataType_t>(c_int);
  auto plan = std::make_unique<Plan>();
  // TF32 tensor cores only when ff.config.experimental.enable_tensor_float_32_execution allows
  // (float32 operands only: 16-bit operands always accumulate in float32, CUBLAS_COMPUTE_32F).
  FF_CUBLAS_CHECK(cublasLtMatmulDescCreate(
      &plan->desc, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F));
  // Cᵀ (n x m) = op(B)ᵀ (n x k) · op(A)ᵀ (k x m): B read column-major is Bᵀ, so cuBLASLt's
  // first operand is transposed exactly when ours is (and likewise for A).
  const cublasOperation_t op_first = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  FF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                                 &op_first, sizeof op_first));
  FF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                                 &op_second, sizeof op_second));
  const cublasLtEpilogue_t lt = lt_epilogue(static_cast<GemmEpilogue>(epilogue));
  FF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &lt,
                                                 sizeof lt));
  if (bias)
    FF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                   &bias, sizeof bias));
  // Stored shapes, column-major: our b is (tb ? n x k : k x n) row-major, i.e. (tb ? k x n :
  // n x k) column-major; our a likewise.
  auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  FF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->a, ab_type, u(tb ? k : n), u(tb ? n : k),
                                             ldb));
  FF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->b, ab_type, u(ta ? m : k), u(ta ? k : m),
                                             lda));
  FF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->c, c_type, u(n), u(m), ldc));

  cublasLtMatmulPreference_t pref = nullptr;
  FF_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  cublasLtMatmulHeuristicResult_t result{};
  int returned = 0;
  cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  {
    const uint64_t workspace = kWorkspaceBytes;
    const uint32_t first = align_b, second = align_a, out = align_c;
    struct Attr {
      cublasLtMatmulPreferenceAttributes_t attr;
      const void* value;
      size_t size;
    };
    const Attr attrs[] = {
        {CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &first, sizeof first},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &second, sizeof second},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &out, sizeof out},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &out, sizeof out}};
    for (const Attr& a : attrs) {
      status = cublasLtMatmulPreferenceSetAttribute(pref, a.attr, a.value, a.size);
      if (status != CUBLAS_STATUS_SUCCESS) break;
    }
    if (status == CUBLAS_STATUS_SUCCESS)
      status = cublasLtMatmulAlgoGetHeuristic(handle_, plan->desc, plan->a, plan->b, plan->c,
                                              plan->c, pref, 1, &result, &returned);
  }
  cublasLtMatmulPreferenceDestroy(pref);
  if (status != CUBLAS_STATUS_SUCCESS)
    throw_cublas_error(status,
                       ("cublasLtMatmulAlgoGetHeuristic for gemm " +
                        shape_text(ta, tb, m, n, k, lda, ldb, ldc)).c_str(),
                       __FILE__, __LINE__);
  if (returned < 1 || result.state != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLASLt has no algorithm for a gemm of ") +
                             type_text(ab_type) + " operands into " + type_text(c_type) + ", " +
                             shape_text(ta, tb, m, n, k, lda, ldb, ldc) +
                             " (leading dimensions must be at least the stored widths)");
  plan->algo = result.algo;
  Plan& ref = *plan;
  plans_.emplace(key, std::move(plan));
  return ref;
}

void GemmEngine::matmul(cudaStream_t stream, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                        float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                        float beta, float* c, int64_t ldc, GemmEpilogue epilogue,
                        const float* bias) {
  matmul_typed(stream, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmTypes{},
               epilogue, bias);
}

void GemmEngine::matmul_typed(cudaStream_t stream, bool ta, bool tb, int64_t m, int64_t n,
                              int64_t k, float alpha, const void* a, int64_t lda, const void* b,
                              int64_t ldb, float beta, void* c, int64_t ldc, GemmTypes types,
                              GemmEpilogue epilogue, const void* bias) {
  if (m < 0 || n < 0 || k < 0)
    throw std::invalid_argument("gemm: negative size (" +
                                shape_text(ta, tb, m, n, k, lda, ldb, ldc) + ")");
  const bool float_c = types.c == CUDA_R_32F;
  if (!float_c && (types.c != types.ab || beta != 0.0f))
    throw std::logic_error("GemmEngine::matmul_typed: a 16-bit C takes A's type and beta 0");
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: C = beta * C, then the epilogue on it
    if (epilogue != GemmEpilogue::None)
      throw std::logic_error("GemmEngine::matmul: an epilogue needs k > 0");
    if (float_c)
      scale_matrix(stream, static_cast<float*>(c), m, n, ldc, beta);
    else
      zero_matrix16(stream, static_cast<uint16_t*>(c), m, n, ldc);
    return;
  }
  if ((epilogue != GemmEpilogue::None) != (bias != nullptr))
    throw std::logic_error("GemmEngine::matmul: the bias epilogues need a bias, and only they");
  const bool tf32 = types.ab == CUDA_R_32F && current_math().tf32;
  const Key key{ta, tb, m, n, k, lda, ldb, ldc, static_cast<int>(epilogue), alignment(a),
                alignment(b), alignment(c), alignment(bias), tf32,
                static_cast<int>(types.ab), static_cast<int>(types.c)};
  std::lock_guard<std::mutex> lock(mu_);
  Plan& plan = plan_for(key, bias);
  if (bias)
    FF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                   &bias, sizeof bias));
  FF_CUBLAS_CHECK(cublasLtMatmul(handle_, plan.desc, &alpha, b, plan.a, a, plan.b, &beta, c,
                                 plan.c, c, plan.c, &plan.algo, workspace_, kWorkspaceBytes,
                                 stream));
}

// Two products whose first row of op(a) holds a NaN and whose other outputs are negative before
// the ReLU: the epilogue keeps NaN when that whole row comes back NaN and the rest 0. `type` is
// the type of every operand (A, B, bias, D): float32, or a 16-bit type (the 16-bit kernels are
// other kernels, probed on their own).
bool GemmEngine::probe_relu_nan(cudaDataType_t type) {
  cudaStream_t stream = device_->stream(0);
  const int64_t shapes[][3] = {{1, 1, 1}, {128, 512, 784}};
  const size_t es = type_bytes(type);
  const bool bf16 = type == CUDA_R_16BF;
  // Host buffers of `count` elements of `type`, each `value`; element reads as float.
  auto filled = [&](int64_t count, float value) {
    std::vector<unsigned char> v(static_cast<size_t>(count) * es);
    for (int64_t i = 0; i < count; ++i) {
      if (es == 4) {
        std::memcpy(v.data() + i * es, &value, es);
      } else {
        const uint16_t h = encode_half(bf16, value);
        std::memcpy(v.data() + i * es, &h, es);
      }
    }
    return v;
  };
  auto element = [&](const std::vector<unsigned char>& v, int64_t i) {
    if (es == 4) {
      float f;
      std::memcpy(&f, v.data() + i * es, es);
      return f;
    }
    uint16_t h;
    std::memcpy(&h, v.data() + i * es, es);
    return decode_half(bf16, h);
  };
  const GemmTypes types{type, type};
  bool keeps = true;
  for (const auto& s : shapes) {
    const int64_t m = s[0], n = s[1], k = s[2];
    std::vector<unsigned char> ha = filled(m * k, 1.0f), hb = filled(k * n, -1.0f);
    std::vector<unsigned char> hbias = filled(n, 0.5f), hc = filled(m * n, 7.0f);
    const std::vector<unsigned char> nan = filled(1, std::nanf(""));
    std::memcpy(ha.data(), nan.data(), es);
    void *da = nullptr, *db = nullptr, *dbias = nullptr, *dc = nullptr;
    auto release = [&] {
      cudaFree(da);
      cudaFree(db);
      cudaFree(dbias);
      cudaFree(dc);
    };
    try {
      FF_CUDA_CHECK(cudaMalloc(&da, ha.size()));
      FF_CUDA_CHECK(cudaMalloc(&db, hb.size()));
      FF_CUDA_CHECK(cudaMalloc(&dbias, hbias.size()));
      FF_CUDA_CHECK(cudaMalloc(&dc, hc.size()));
      FF_CUDA_CHECK(cudaMemcpyAsync(da, ha.data(), ha.size(), cudaMemcpyHostToDevice, stream));
      FF_CUDA_CHECK(cudaMemcpyAsync(db, hb.data(), hb.size(), cudaMemcpyHostToDevice, stream));
      FF_CUDA_CHECK(cudaMemcpyAsync(dbias, hbias.data(), hbias.size(), cudaMemcpyHostToDevice,
                                    stream));
      FF_CUDA_CHECK(cudaMemcpyAsync(dc, hc.data(), hc.size(), cudaMemcpyHostToDevice, stream));
      matmul_typed(stream, false, false, m, n, k, 1.0f, da, k, db, n, 0.0f, dc, n, types,
                   GemmEpilogue::ReluBias, dbias);
      FF_CUDA_CHECK(cudaMemcpyAsync(hc.data(), dc, hc.size(), cudaMemcpyDeviceToHost, stream));
      FF_CUDA_CHECK(cudaStreamSynchronize(stream));
    } catch (...) {
      cudaStreamSynchronize(stream);
      release();
      throw;
    }
    release();
    for (int64_t i = 0; i < m * n; ++i) {
      const bool want_nan = i < n;  // row 0
      const float v = element(hc, i);
      if (want_nan ? !std::isnan(v) : v != 0.0f) keeps = false;
    }
  }
  return keeps;
}

// ---- the backend's functions ----

void CudaBackend::gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                       float* c, int64_t ldc) {
  gemm_->matmul(stream(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// The CPU's rule where it has no bfloat16 kernels (cpu/matmul_bf16.h): both operands rounded to
// bfloat16 values by round_to_precision, then the float32 GEMM on them; the products of bfloat16
// values are exact in float32, so this agrees with the CPU up to the order of the sums. The
// rounded copies live in stream-ordered scratch memory (legal inside graph capture).
void CudaBackend::gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                            const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                            int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // the CPU's path: gemm with an empty sum writes zeros
    gemm_->matmul(stream(), trans_a, trans_b, m, n, 0, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    return;
  }
  const int64_t a_span = operand_span(trans_a ? k : m, trans_a ? m : k, lda);
  const int64_t b_span = operand_span(trans_b ? n : k, trans_b ? k : n, ldb);
  DeviceScratch a16(device(), static_cast<size_t>(a_span) * sizeof(float));
  DeviceScratch b16(device(), static_cast<size_t>(b_span) * sizeof(float));
  round_to_precision(a16.as<float>(), a, a_span, DType::BFloat16);
  round_to_precision(b16.as<float>(), b, b_span, DType::BFloat16);
  gemm_->matmul(stream(), trans_a, trans_b, m, n, k, 1.0f, a16.as<float>(), lda, b16.as<float>(),
                ldb, 0.0f, c, ldc);
}

// One cuBLASLt call with the bias fused as its epilogue (and the ReLU too where cuBLASLt keeps
// NaN through it); any other activation, or a pre-activation to keep, then goes through the
// backend's own bias_activation in place. cuBLASLt's GELU epilogues are not used: they compute
// the tanh approximation, not the exact erf form Keras's "gelu" (and the CPU) compute.
void CudaBackend::dense_forward(const float* x, const float* w, const float* bias, int64_t rows,
                                int64_t in, int64_t units, Activation act, float alpha, float* y,
                                float* preact) {
  if (rows <= 0 || units <= 0) return;
  if (in <= 0) {  // no product to fuse into: zeros, then the bias and activation
    Backend::dense_forward(x, w, bias, rows, in, units, act, alpha, y, preact);
    return;
  }
  if (act == Activation::Relu && bias && !preact && gemm_->relu_epilogue_keeps_nan()) {
    gemm_->matmul(stream(), false, false, rows, units, in, 1.0f, x, in, w, units, 0.0f, y, units,
                  GemmEpilogue::ReluBias, bias);
    return;
  }
  gemm_->matmul(stream(), false, false, rows, units, in, 1.0f, x, in, w, units, 0.0f, y, units,
                bias ? GemmEpilogue::Bias : GemmEpilogue::None, bias);
  if (act != Activation::Linear || preact)
    bias_activation(y, nullptr, rows, units, act, alpha, preact);
}

// ---- 16-bit storage ----

namespace {

// cuBLASLt's type for a 16-bit storage dtype; any other raises ValueError naming `fn`.
cudaDataType_t lt_half_type(DType half, const char* fn) {
  if (half == DType::BFloat16) return CUDA_R_16BF;
  if (half == DType::Float16) return CUDA_R_16F;
  throw ValueError(std::string(fn) +
                   ": expected a 16-bit storage dtype (bfloat16 or float16), received " +
                   dtype_name(half));
}

}  // namespace

// 16-bit A and B on tensor cores with float32 accumulation (CUBLAS_COMPUTE_32F); C float32, or
// 16-bit rounded once by cuBLASLt. The plan (and so the algorithm) is kept per shape and types.
void CudaBackend::gemm_half(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                            const void* a, int64_t lda, const void* b, int64_t ldb, void* c,
                            int64_t ldc, DType c_type, DType half) {
  const cudaDataType_t ab = lt_half_type(half, "gemm_half");
  if (c_type != DType::Float32 && c_type != half)
    throw ValueError("gemm_half: the result's dtype must be float32 or the operands' " +
                     dtype_name(half) + ", received " + dtype_name(c_type));
  gemm_->matmul_typed(stream(), trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc,
                      GemmTypes{ab, c_type == DType::Float32 ? CUDA_R_32F : ab});
}

// Every 16-bit output rounded once, as the CPU's (float32 dense_forward, then rounded): a linear
// Dense is one cuBLASLt call writing 16-bit y with the bias as its epilogue (preact, when asked,
// is the same bits); ReLU with a bias fuses as RELU_BIAS where the 16-bit kernels were seen to
// keep NaN (relu stores no pre-activation); any other activation, or a pre-activation to keep,
// takes the float32 product in stream-ordered scratch and one pass of bias + activation that
// rounds y and preact from float32 (so no value is rounded twice).
void CudaBackend::dense_forward_half(const void* x, const void* w, const void* bias, int64_t rows,
                                     int64_t in, int64_t units, Activation act, float alpha,
                                     void* y, void* preact, DType half) {
  const cudaDataType_t t = lt_half_type(half, "dense_forward_half");
  if (rows <= 0 || units <= 0) return;
  const size_t out_bytes = sizeof(uint16_t) * static_cast<size_t>(rows * units);
  if (in <= 0) {  // no product: zeros (+0 in both 16-bit types), then the bias and activation
    FF_CUDA_CHECK(cudaMemsetAsync(y, 0, out_bytes, stream()));
    if (bias || act != Activation::Linear || preact)
      bias_activation_half(y, bias, rows, units, act, alpha, preact, half);
    return;
  }
  const GemmTypes types{t, t};
  if (act == Activation::Linear) {
    gemm_->matmul_typed(stream(), false, false, rows, units, in, 1.0f, x, in, w, units, 0.0f, y,
                        units, types, bias ? GemmEpilogue::Bias : GemmEpilogue::None, bias);
    if (preact && preact != y)
      FF_CUDA_CHECK(cudaMemcpyAsync(preact, y, out_bytes, cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  if (act == Activation::Relu && bias && !preact && gemm_->relu_epilogue_keeps_nan(t)) {
    gemm_->matmul_typed(stream(), false, false, rows, units, in, 1.0f, x, in, w, units, 0.0f, y,
                        units, types, GemmEpilogue::ReluBias, bias);
    return;
  }
  DeviceScratch product(device(), sizeof(float) * static_cast<size_t>(rows * units));
  gemm_->matmul_typed(stream(), false, false, rows, units, in, 1.0f, x, in, w, units, 0.0f,
                      product.data(), units, GemmTypes{t, CUDA_R_32F});
  bias_activation_from_float(product.as<float>(), y, bias, rows, units, act, alpha, preact, half);
}

}  // namespace ff::cuda
