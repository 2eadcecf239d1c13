// The CUDA backend's convolutions through cuDNN (cuda_conv.h: ConvEngine), and the backend's
// conv2d_forward, conv2d_backward_data and conv2d_backward_filter on it, float32 and 16-bit (the
// *_half functions: one code path, templated on the storage policy of cuda_half_io.cuh). Nothing
// here waits for the GPU once a plan exists; a plan (descriptors, algorithm, workspace layout) is
// made at the first call of a geometry, storage type and math setting and kept. The algorithm:
// cuDNN's heuristic order under op determinism (the default: the same choice every run); a timed
// search (cudnnFind*, which synchronises) when the user turned determinism off.
#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/conv_plan.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_conv.h"
#include "backend/cuda/cuda_half_io.cuh"
#include "backend/cuda/cuda_math_mode.h"
#include "core/errors.h"

#ifdef FORGEFLOW_HAVE_CUDNN
#include <cudnn.h>
#endif

namespace ff::cuda {

#ifndef FORGEFLOW_HAVE_CUDNN

// ---- a build without cuDNN: the functions raise, naming themselves ----

namespace {
[[noreturn]] void no_cudnn(const char* kernel) {
  throw ValueError(std::string("not implemented on the CUDA backend: ") + kernel +
                   " (this build of forgeflow found no cuDNN; configure it with "
                   "-DCUDNN_ROOT=<the cuDNN folder>, or run this model on the CPU with "
                   "FORGEFLOW_DEVICE=cpu or ff.config.set_visible_devices([], \"GPU\"))");
}
}  // namespace

struct ConvEngine::Impl {};
ConvEngine::ConvEngine(CudaDevice&) {}
ConvEngine::~ConvEngine() = default;
bool ConvEngine::available() { return false; }
void ConvEngine::forward(const Conv2DGeometry&, const float*, const float*, float*) {
  no_cudnn("conv2d_forward");
}
void ConvEngine::backward_data(const Conv2DGeometry&, const float*, const float*, float*) {
  no_cudnn("conv2d_backward_data");
}
void ConvEngine::backward_filter(const Conv2DGeometry&, const float*, const float*, float*,
                                 float*) {
  no_cudnn("conv2d_backward_filter");
}
void ConvEngine::forward_half(const Conv2DGeometry&, const void*, const void*, void*, DType) {
  no_cudnn("conv2d_forward_half");
}
void ConvEngine::backward_data_half(const Conv2DGeometry&, const void*, const void*, void*,
                                    DType) {
  no_cudnn("conv2d_backward_data_half");
}
void ConvEngine::backward_filter_half(const Conv2DGeometry&, const void*, const void*, float*,
                                      float*, DType) {
  no_cudnn("conv2d_backward_filter_half");
}
size_t ConvEngine::plan_count() const { return 0; }
size_t ConvEngine::workspace_bytes() const { return 0; }

#else

namespace {

[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file,
                                    int line) {
  const std::string where = std::string(call) + " (" + file + ":" + std::to_string(line) + ")";
  if (status == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
      status == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED)
    throw ResourceExhaustedError("out of memory in " + where + ": " + cudnnGetErrorString(status));
  throw std::runtime_error("cuDNN error " + std::to_string(static_cast<int>(status)) + " (" +
                           cudnnGetErrorString(status) + ") in " + where);
}

[[noreturn]] void bad_geometry(const char* kernel, const std::string& problem) {
  throw ValueError(std::string(kernel) + " on the CUDA backend: " + problem);
}

#define FF_CUDNN_CHECK(call)                                                     \
  do {                                                                           \
    const cudnnStatus_t ff_status_ = (call);                                     \
    if (ff_status_ != CUDNN_STATUS_SUCCESS)                                      \
      throw_cudnn_error(ff_status_, #call, __FILE__, __LINE__);                  \
  } while (0)

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads,
                                                                      4096)));
}

__device__ inline int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t index_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Keras's kernel (KH, KW, C, F) -> cuDNN's NHWC filter (F, KH, KW, C), taps = KH*KW*C; T is the
// element (float, or the 16-bit bits: moved, never converted).
template <class T>
__global__ void kernel_to_cudnn(const T* __restrict__ src, T* __restrict__ dst, int64_t taps,
                                int64_t F) {
  const int64_t n = taps * F;
  for (int64_t i = first_index(); i < n; i += index_stride()) {
    const int64_t f = i / taps, r = i % taps;
    dst[i] = src[r * F + f];
  }
}

// cuDNN's (F, KH, KW, C) filter gradient -> Keras's (KH, KW, C, F), float32 (a 16-bit gradient
// decoded: its values are those of the 16-bit type).
template <class IO>
__global__ void kernel_from_cudnn(const typename IO::T* __restrict__ src, float* __restrict__ dst,
                                  int64_t taps, int64_t F) {
  const int64_t n = taps * F;
  for (int64_t i = first_index(); i < n; i += index_stride()) {
    const int64_t r = i / F, f = i % F;
    dst[i] = IO::load(src, f * taps + r);
  }
}

// xp (N, Hp, Wp, C): x (N, H, W, C) placed at (top, left), zeros elsewhere; rows and columns of
// x past Hp / Wp are left out (no window reads them). T: float, or 16-bit bits (0 is +0).
template <class T>
__global__ void pad_input(const T* __restrict__ x, T* __restrict__ xp, int64_t N, int64_t H,
                          int64_t W, int64_t C, int64_t Hp, int64_t Wp, int64_t top,
                          int64_t left) {
  const int64_t n_all = N * Hp * Wp * C;
  for (int64_t i = first_index(); i < n_all; i += index_stride()) {
    const int64_t c = i % C;
    int64_t t = i / C;
    const int64_t wp = t % Wp;
    t /= Wp;
    const int64_t hp = t % Hp, n = t / Hp;
    const int64_t h = hp - top, w = wp - left;
    xp[i] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * H + h) * W + w) * C + c]
                                                 : static_cast<T>(0);
  }
}

// dx (N, H, W, C) = the interior of dxp (N, Hp, Wp, C) at (top, left); 0 for rows and columns of
// x past the padded extent (no window reads them, so their gradient is 0). T as pad_input.
template <class T>
__global__ void crop_gradient(const T* __restrict__ dxp, T* __restrict__ dx, int64_t N, int64_t H,
                              int64_t W, int64_t C, int64_t Hp, int64_t Wp, int64_t top,
                              int64_t left) {
  const int64_t n_all = N * H * W * C;
  for (int64_t i = first_index(); i < n_all; i += index_stride()) {
    const int64_t c = i % C;
    int64_t t = i / C;
    const int64_t w = t % W;
    t /= W;
    const int64_t h = t % H, n = t / H;
    const int64_t hp = h + top, wp = w + left;
    dx[i] = (hp < Hp && wp < Wp) ? dxp[((n * Hp + hp) * Wp + wp) * C + c] : static_cast<T>(0);
  }
}

// The CPU's bias gradient order (cpu/conv.cpp, bias_gradient): partial[b, f] = the float sum of
// dy[r, f] over the rows of block b in order, then out[f] = the partials added in block order.
// dy is read through the storage policy IO (16-bit values decoded), the sums are float32.
template <class IO>
__global__ void bias_partials(const typename IO::T* __restrict__ dy, int64_t rows, int64_t F,
                              int64_t blocks, float* __restrict__ partial) {
  const int64_t n = blocks * F;
  for (int64_t i = first_index(); i < n; i += index_stride()) {
    const int64_t b = i / F, f = i % F;
    const int64_t r0 = b * kConvBiasRowBlock;
    const int64_t r1 = r0 + kConvBiasRowBlock < rows ? r0 + kConvBiasRowBlock : rows;
    float s = 0.0f;
    for (int64_t r = r0; r < r1; ++r) s += IO::load(dy, r * F + f);
    partial[i] = s;
  }
}

__global__ void bias_total(const float* __restrict__ partial, int64_t blocks, int64_t F,
                           float* __restrict__ out) {
  for (int64_t f = first_index(); f < F; f += index_stride()) {
    float s = 0.0f;
    for (int64_t b = 0; b < blocks; ++b) s += partial[b * F + f];
    out[f] = s;
  }
}

size_t align_up(size_t bytes) { return (bytes + 255) / 256 * 256; }

std::string op_name(ConvOp op, DType storage = DType::Float32) {
  const char* suffix = storage == DType::Float32 ? "" : "_half";
  switch (op) {
    case ConvOp::Forward: return std::string("conv2d_forward") + suffix;
    case ConvOp::BackwardData: return std::string("conv2d_backward_data") + suffix;
    case ConvOp::BackwardFilter: return std::string("conv2d_backward_filter") + suffix;
  }
  return "conv2d";
}

// cuDNN's data type of a storage dtype (Float32, BFloat16 or Float16).
cudnnDataType_t cudnn_type(DType storage) {
  switch (storage) {
    case DType::BFloat16: return CUDNN_DATA_BFLOAT16;
    case DType::Float16: return CUDNN_DATA_HALF;
    default: return CUDNN_DATA_FLOAT;
  }
}

// FFT and Winograd algorithms transform whole tiles: a NaN or Inf reaches outputs whose windows
// do not hold it (0 * NaN), where the CPU keeps it to its windows. Never chosen.
bool transform_algo(ConvOp op, int algo) {
  switch (op) {
    case ConvOp::Forward:
      return algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT || algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
             algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD ||
             algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
    case ConvOp::BackwardData:
      return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT ||
             algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
             algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD ||
             algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
    case ConvOp::BackwardFilter:
      return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT ||
             algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
             algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD ||
             algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
  }
  return true;
}

// One heuristic result, whatever the operation.
struct Candidate {
  int algo = 0;
  cudnnStatus_t status = CUDNN_STATUS_NOT_SUPPORTED;
  cudnnDeterminism_t determinism = CUDNN_NON_DETERMINISTIC;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t memory = 0;
};

template <class Perf>
Candidate candidate_of(const Perf& p) {
  return {static_cast<int>(p.algo), p.status, p.determinism, p.mathType, p.memory};
}

}  // namespace

struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;  // x: what cuDNN reads (x or its padded copy)
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  SymmetricConv sym;
  int algo = 0;
  size_t algo_bytes = 0;
  // The workspace: [algorithm | kernel in cuDNN's layout | padded x or dx | bias partials].
  size_t kernel_offset = 0, padded_offset = 0, bias_offset = 0, total = 0;
  int64_t bias_blocks = 0;
  ConvPlan() = default;
  ConvPlan(const ConvPlan&) = delete;
  ConvPlan& operator=(const ConvPlan&) = delete;
  ~ConvPlan() {  // errors ignored: a destructor must not throw
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
};

struct ConvEngine::Impl {
  CudaDevice* device = nullptr;
  cudnnHandle_t handle = nullptr;
  mutable std::mutex mu;  // guards everything below and the handle during a call
  // Keyed by the storage dtype (Float32, BFloat16, Float16) and conv_plan_key.
  std::map<std::pair<int, ConvPlanKey>, std::unique_ptr<ConvPlan>> plans;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  // Outgrown workspaces: graphs captured before the growth may still use them.
  std::vector<std::pair<void*, size_t>> retired;

  cudaStream_t stream() const { return device->stream(0); }
  ConvPlan& plan_for(ConvOp op, const Conv2DGeometry& g, MathChoice math, DType storage);
  void choose_algorithm(ConvOp op, const Conv2DGeometry& g, MathChoice math, DType storage,
                        ConvPlan& p);
  char* workspace_for(const ConvPlan& p, const char* kernel_name);
  // The three operations for one storage policy (cuda_half_io.cuh), defined below.
  template <class IO>
  void forward(const Conv2DGeometry& g, const void* x, const void* kernel, void* y,
               const char* name);
  template <class IO>
  void backward_data(const Conv2DGeometry& g, const void* dy, const void* kernel, void* dx,
                     const char* name);
  template <class IO>
  void backward_filter(const Conv2DGeometry& g, const void* x, const void* dy, float* dkernel,
                       float* dbias, const char* name);
};

// `storage`: the element type of x, y and the filter (Float32, BFloat16 or Float16); 16-bit
// tensors compute in float32 (PSEUDO_BFLOAT16 / PSEUDO_HALF) with tensor-core math, TF32 aside.
ConvPlan& ConvEngine::Impl::plan_for(ConvOp op, const Conv2DGeometry& g, MathChoice math,
                                     DType storage) {
  const bool half = storage != DType::Float32;
  if (half) math.tf32 = false;  // no float32 operand to round: one plan whatever the setting
  const std::pair<int, ConvPlanKey> key{static_cast<int>(storage), conv_plan_key(op, g, math)};
  auto found = plans.find(key);
  if (found != plans.end()) return *found->second;
  auto plan = std::make_unique<ConvPlan>();
  ConvPlan& p = *plan;
  p.sym = symmetric_conv(g);
  auto i = [](int64_t v) { return static_cast<int>(v); };  // checked by cudnn_conv_problem
  FF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.x));
  FF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.y));
  FF_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p.w));
  FF_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p.conv));
  const cudnnDataType_t data = cudnn_type(storage);
  FF_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NHWC, data, i(g.N), i(g.C),
                                            i(p.sym.H), i(p.sym.W)));
  FF_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NHWC, data, i(g.N), i(g.F),
                                            i(g.OH), i(g.OW)));
  FF_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p.w, data, CUDNN_TENSOR_NHWC, i(g.F), i(g.C),
                                            i(g.KH), i(g.KW)));
  // The compute type is float32 for every storage type (16-bit: cuDNN's PSEUDO_* configs).
  FF_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
      p.conv, i(p.sym.pad_h), i(p.sym.pad_w), i(g.stride_h), i(g.stride_w), i(g.dilation_h),
      i(g.dilation_w), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  FF_CUDNN_CHECK(cudnnSetConvolutionMathType(
      p.conv, half ? CUDNN_TENSOR_OP_MATH : (math.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH)));
  int n = 0, c = 0, h = 0, w = 0;
  FF_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p.conv, p.x, p.w, &n, &c, &h, &w));
  if (n != g.N || c != g.F || h != g.OH || w != g.OW)
    throw std::logic_error(op_name(op, storage) + ": cuDNN's output " + std::to_string(h) + "x" +
                           std::to_string(w) + " is not the geometry's " + std::to_string(g.OH) +
                           "x" + std::to_string(g.OW) + " (backend/conv_plan.h)");
  choose_algorithm(op, g, math, storage, p);

  // The workspace layout (x, y and filter elements of dtype_size(storage) bytes).
  const size_t es = dtype_size(storage);
  size_t offset = align_up(p.algo_bytes);
  p.kernel_offset = offset;
  offset += align_up(static_cast<size_t>(g.KH * g.KW * g.C * g.F) * es);
  p.padded_offset = offset;
  if (!p.sym.direct)  // x padded (forward, filter gradient) or the padded dx (data gradient)
    offset += align_up(static_cast<size_t>(g.N * p.sym.H * p.sym.W * g.C) * es);
  p.bias_offset = offset;
  if (op == ConvOp::BackwardFilter) {
    const int64_t rows = g.N * g.OH * g.OW;
    p.bias_blocks = (rows + kConvBiasRowBlock - 1) / kConvBiasRowBlock;
    offset += align_up(static_cast<size_t>(p.bias_blocks * g.F) * sizeof(float));
  }
  p.total = offset;
  plans.emplace(key, std::move(plan));
  return p;
}

void ConvEngine::Impl::choose_algorithm(ConvOp op, const Conv2DGeometry& g, MathChoice math,
                                        DType storage, ConvPlan& p) {
  const bool half = storage != DType::Float32;
  std::vector<Candidate> found;
  int max_count = 0, returned = 0;
  // Timed search (cudnnFind*, which runs every algorithm on buffers of its own, allocating and
  // synchronising) only where the user gave up determinism: timings vary from run to run, so
  // the choice, and with it the result's last bits, could too. Made eagerly (a plan is made at
  // the first step of a signature, before capture); during a capture, or when cuDNN cannot run
  // it (memory), the heuristic order below decides alone. Its results come first, in measured
  // order; the heuristic candidates follow as a fallback.
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  FF_CUDA_CHECK(cudaStreamIsCapturing(stream(), &capturing));
  if (!math.deterministic && capturing == cudaStreamCaptureStatusNone) {
    cudnnStatus_t status = CUDNN_STATUS_NOT_SUPPORTED;
    switch (op) {
      case ConvOp::Forward: {
        FF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count));
        std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(std::max(max_count, 1)));
        status = cudnnFindConvolutionForwardAlgorithm(handle, p.x, p.w, p.conv, p.y, max_count,
                                                      &returned, perf.data());
        for (int k = 0; status == CUDNN_STATUS_SUCCESS && k < returned; ++k)
          found.push_back(candidate_of(perf[static_cast<size_t>(k)]));
        break;
      }
      case ConvOp::BackwardData: {
        FF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max_count));
        std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(
            static_cast<size_t>(std::max(max_count, 1)));
        status = cudnnFindConvolutionBackwardDataAlgorithm(handle, p.w, p.y, p.conv, p.x,
                                                           max_count, &returned, perf.data());
        for (int k = 0; status == CUDNN_STATUS_SUCCESS && k < returned; ++k)
          found.push_back(candidate_of(perf[static_cast<size_t>(k)]));
        break;
      }
      case ConvOp::BackwardFilter: {
        FF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max_count));
        std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(
            static_cast<size_t>(std::max(max_count, 1)));
        status = cudnnFindConvolutionBackwardFilterAlgorithm(handle, p.x, p.y, p.conv, p.w,
                                                             max_count, &returned, perf.data());
        for (int k = 0; status == CUDNN_STATUS_SUCCESS && k < returned; ++k)
          found.push_back(candidate_of(perf[static_cast<size_t>(k)]));
        break;
      }
    }
    // A failed search (e.g. no memory for its buffers) leaves the heuristic order; cuDNN's
    // sticky error state is not involved (the status is returned, not latched), and a CUDA
    // error it may have left is cleared so that the next checked call does not report it.
    if (status != CUDNN_STATUS_SUCCESS) (void)cudaGetLastError();
    max_count = 0;
    returned = 0;
  }
  switch (op) {
    case ConvOp::Forward: {
      FF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(std::max(max_count, 1)));
      FF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, p.x, p.w, p.conv, p.y,
                                                            max_count, &returned, perf.data()));
      for (int k = 0; k < returned; ++k) found.push_back(candidate_of(perf[static_cast<size_t>(k)]));
      break;
    }
    case ConvOp::BackwardData: {
      FF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max_count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(
          static_cast<size_t>(std::max(max_count, 1)));
      FF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          handle, p.w, p.y, p.conv, p.x, max_count, &returned, perf.data()));
      for (int k = 0; k < returned; ++k) found.push_back(candidate_of(perf[static_cast<size_t>(k)]));
      break;
    }
    case ConvOp::BackwardFilter: {
      FF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max_count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(
          static_cast<size_t>(std::max(max_count, 1)));
      FF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          handle, p.x, p.y, p.conv, p.w, max_count, &returned, perf.data()));
      for (int k = 0; k < returned; ++k) found.push_back(candidate_of(perf[static_cast<size_t>(k)]));
      break;
    }
  }
  // In the heuristic's order (fastest expected first): the first that passes every rule and
  // whose workspace cuDNN can size under the math type it will run with. 16-bit storage runs
  // the candidate's own math (tensor cores or not, float32 accumulation either way).
  for (const Candidate& c : found) {
    if (c.status != CUDNN_STATUS_SUCCESS) continue;
    if (math.deterministic && c.determinism != CUDNN_DETERMINISTIC) continue;
    if (transform_algo(op, c.algo)) continue;
    // A conversion to float16 inside: never (bfloat16's range, float32's precision).
    if (c.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    if (!half && !math.tf32 && c.math == CUDNN_TENSOR_OP_MATH) continue;
    if (c.memory > kMaxAlgoWorkspace) continue;
    const cudnnMathType_t run_math = half || math.tf32 ? c.math : CUDNN_FMA_MATH;
    if (cudnnSetConvolutionMathType(p.conv, run_math) != CUDNN_STATUS_SUCCESS) continue;
    size_t bytes = 0;
    cudnnStatus_t status = CUDNN_STATUS_NOT_SUPPORTED;
    switch (op) {
      case ConvOp::Forward:
        status = cudnnGetConvolutionForwardWorkspaceSize(
            handle, p.x, p.w, p.conv, p.y, static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), &bytes);
        break;
      case ConvOp::BackwardData:
        status = cudnnGetConvolutionBackwardDataWorkspaceSize(
            handle, p.w, p.y, p.conv, p.x, static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo),
            &bytes);
        break;
      case ConvOp::BackwardFilter:
        status = cudnnGetConvolutionBackwardFilterWorkspaceSize(
            handle, p.x, p.y, p.conv, p.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo),
            &bytes);
        break;
    }
    if (status != CUDNN_STATUS_SUCCESS || bytes > kMaxAlgoWorkspace) continue;
    p.algo = c.algo;
    p.algo_bytes = bytes;
    return;
  }
  throw std::runtime_error(
      op_name(op, storage) + " on the CUDA backend: cuDNN offers no " +
      (math.deterministic ? "deterministic " : "") + "algorithm" +
      (half ? " for " + dtype_name(storage) + " tensors"
            : std::string(math.tf32 ? "" : " without TF32")) +
      " (FFT and Winograd excluded, workspace at most 1 GiB) "
      "for input " + std::to_string(g.N) + "x" + std::to_string(g.H) + "x" + std::to_string(g.W) +
      "x" + std::to_string(g.C) + ", kernel " + std::to_string(g.KH) + "x" + std::to_string(g.KW) +
      "x" + std::to_string(g.C) + "x" + std::to_string(g.F) + ", strides " +
      std::to_string(g.stride_h) + "x" + std::to_string(g.stride_w) + ", dilation " +
      std::to_string(g.dilation_h) + "x" + std::to_string(g.dilation_w) +
      (math.deterministic ? "; ff.config.experimental.enable_op_determinism(False) allows "
                            "non-deterministic ones"
                          : ""));
}

// The workspace, at least p.total bytes: grown (stream-ordered, from the device's pool) outside
// capture only.
char* ConvEngine::Impl::workspace_for(const ConvPlan& p, const char* kernel_name) {
  if (p.total <= workspace_bytes) return static_cast<char*>(workspace);
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  FF_CUDA_CHECK(cudaStreamIsCapturing(stream(), &capturing));
  if (capturing != cudaStreamCaptureStatusNone)
    throw std::runtime_error(
        std::string(kernel_name) + " on the CUDA backend needs a workspace of " +
        std::to_string(p.total) + " bytes, more than the " + std::to_string(workspace_bytes) +
        " it has, and cannot grow it while the stream is captured: run this geometry once "
        "eagerly first (a model's first step of each signature is eager)");
  const size_t mib = size_t{1} << 20;
  const size_t bytes = std::max((p.total + mib - 1) / mib * mib, workspace_bytes + workspace_bytes / 2);
  void* fresh = device->allocate(bytes);
  if (workspace) retired.emplace_back(workspace, workspace_bytes);
  workspace = fresh;
  workspace_bytes = bytes;
  return static_cast<char*>(workspace);
}

ConvEngine::ConvEngine(CudaDevice& device) : impl_(std::make_unique<Impl>()) {
  impl_->device = &device;
  FF_CUDNN_CHECK(cudnnCreate(&impl_->handle));
  const cudnnStatus_t status = cudnnSetStream(impl_->handle, device.stream(0));
  if (status != CUDNN_STATUS_SUCCESS) {
    cudnnDestroy(impl_->handle);
    throw_cudnn_error(status, "cudnnSetStream", __FILE__, __LINE__);
  }
}

ConvEngine::~ConvEngine() {
  // Errors are ignored: a destructor must not throw, and at exit the driver may be gone.
  impl_->plans.clear();
  try {
    if (impl_->workspace) impl_->device->deallocate(impl_->workspace, impl_->workspace_bytes);
    for (const auto& [ptr, bytes] : impl_->retired) impl_->device->deallocate(ptr, bytes);
  } catch (...) {
  }
  if (impl_->handle) cudnnDestroy(impl_->handle);
}

bool ConvEngine::available() { return true; }

size_t ConvEngine::plan_count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->plans.size();
}

size_t ConvEngine::workspace_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->workspace_bytes;
}

namespace {

template <class T>
void to_cudnn_kernel(cudaStream_t s, const Conv2DGeometry& g, const T* kernel, T* out) {
  const int64_t taps = g.KH * g.KW * g.C;
  kernel_to_cudnn<T><<<blocks_for(taps * g.F), kThreads, 0, s>>>(kernel, out, taps, g.F);
  FF_CUDA_LAUNCH_CHECK("kernel_to_cudnn");
}

template <class T>
void padded_copy(cudaStream_t s, const Conv2DGeometry& g, const SymmetricConv& sym, const T* x,
                 T* xp) {
  pad_input<T><<<blocks_for(g.N * sym.H * sym.W * g.C), kThreads, 0, s>>>(
      x, xp, g.N, g.H, g.W, g.C, sym.H, sym.W, g.pad_top, g.pad_left);
  FF_CUDA_LAUNCH_CHECK("pad_input");
}

}  // namespace

// The three operations for one storage policy IO (cuda_half_io.cuh): Float32Io for the float32
// functions, BFloat16Io / Float16Io for the *_half ones. x, kernel, y, dy, dx hold IO::T
// elements; dkernel and dbias are float32 always. `name` is the backend function's.
template <class IO>
void ConvEngine::Impl::forward(const Conv2DGeometry& g, const void* x_in, const void* kernel_in,
                               void* y, const char* name) {
  using T = typename IO::T;
  const std::string problem = cudnn_conv_problem(g);
  if (!problem.empty()) bad_geometry(name, problem);
  if (g.N == 0 || g.OH == 0 || g.OW == 0) return;  // no output
  std::lock_guard<std::mutex> lock(mu);
  ConvPlan& p = plan_for(ConvOp::Forward, g, current_math(), IO::kType);
  char* ws = workspace_for(p, name);
  const cudaStream_t s = stream();
  T* kbuf = reinterpret_cast<T*>(ws + p.kernel_offset);
  to_cudnn_kernel<T>(s, g, static_cast<const T*>(kernel_in), kbuf);
  const T* input = static_cast<const T*>(x_in);
  if (!p.sym.direct) {
    T* xp = reinterpret_cast<T*>(ws + p.padded_offset);
    padded_copy<T>(s, g, p.sym, input, xp);
    input = xp;
  }
  const float one = 1.0f, zero = 0.0f;  // float32 scaling for every storage type
  FF_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, p.x, input, p.w, kbuf, p.conv,
                                         static_cast<cudnnConvolutionFwdAlgo_t>(p.algo), ws,
                                         p.algo_bytes, &zero, p.y, y));
}

template <class IO>
void ConvEngine::Impl::backward_data(const Conv2DGeometry& g, const void* dy,
                                      const void* kernel_in, void* dx_out, const char* name) {
  using T = typename IO::T;
  const std::string problem = cudnn_conv_problem(g);
  if (!problem.empty()) bad_geometry(name, problem);
  if (g.N == 0) return;
  T* dx = static_cast<T*>(dx_out);
  const size_t dx_bytes = static_cast<size_t>(g.N * g.H * g.W * g.C) * sizeof(T);
  if (g.OH == 0 || g.OW == 0) {  // no window: no gradient reaches x (+0 in every storage type)
    device->zero(dx, dx_bytes, 0);
    return;
  }
  std::lock_guard<std::mutex> lock(mu);
  ConvPlan& p = plan_for(ConvOp::BackwardData, g, current_math(), IO::kType);
  char* ws = workspace_for(p, name);
  const cudaStream_t s = stream();
  T* kbuf = reinterpret_cast<T*>(ws + p.kernel_offset);
  to_cudnn_kernel<T>(s, g, static_cast<const T*>(kernel_in), kbuf);
  T* out = p.sym.direct ? dx : reinterpret_cast<T*>(ws + p.padded_offset);
  const float one = 1.0f, zero = 0.0f;
  FF_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, &one, p.w, kbuf, p.y, dy, p.conv,
                                              static_cast<cudnnConvolutionBwdDataAlgo_t>(p.algo),
                                              ws, p.algo_bytes, &zero, p.x, out));
  if (!p.sym.direct) {
    crop_gradient<T><<<blocks_for(g.N * g.H * g.W * g.C), kThreads, 0, s>>>(
        out, dx, g.N, g.H, g.W, g.C, p.sym.H, p.sym.W, g.pad_top, g.pad_left);
    FF_CUDA_LAUNCH_CHECK("crop_gradient");
  }
}

// The filter gradient in IO::T (cuDNN rounds a 16-bit one once) in the workspace, then decoded
// into the float32 dkernel in Keras's layout; dbias in float32 from dy in the CPU's order.
template <class IO>
void ConvEngine::Impl::backward_filter(const Conv2DGeometry& g, const void* x_in,
                                        const void* dy_in, float* dkernel, float* dbias,
                                        const char* name) {
  using T = typename IO::T;
  const std::string problem = cudnn_conv_problem(g);
  if (!problem.empty()) bad_geometry(name, problem);
  const int64_t taps = g.KH * g.KW * g.C, rows = g.N * g.OH * g.OW;
  if (rows == 0) {  // an empty sum, as the CPU: zeros
    device->zero(dkernel, static_cast<size_t>(taps * g.F) * sizeof(float), 0);
    if (dbias) device->zero(dbias, static_cast<size_t>(g.F) * sizeof(float), 0);
    return;
  }
  const T* dy = static_cast<const T*>(dy_in);
  std::lock_guard<std::mutex> lock(mu);
  ConvPlan& p = plan_for(ConvOp::BackwardFilter, g, current_math(), IO::kType);
  char* ws = workspace_for(p, name);
  const cudaStream_t s = stream();
  if (dbias) {
    float* partial = reinterpret_cast<float*>(ws + p.bias_offset);
    bias_partials<IO><<<blocks_for(p.bias_blocks * g.F), kThreads, 0, s>>>(dy, rows, g.F,
                                                                           p.bias_blocks, partial);
    FF_CUDA_LAUNCH_CHECK("bias_partials");
    bias_total<<<blocks_for(g.F), kThreads, 0, s>>>(partial, p.bias_blocks, g.F, dbias);
    FF_CUDA_LAUNCH_CHECK("bias_total");
  }
  const T* input = static_cast<const T*>(x_in);
  if (!p.sym.direct) {
    T* xp = reinterpret_cast<T*>(ws + p.padded_offset);
    padded_copy<T>(s, g, p.sym, input, xp);
    input = xp;
  }
  T* kbuf = reinterpret_cast<T*>(ws + p.kernel_offset);
  const float one = 1.0f, zero = 0.0f;
  FF_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
      handle, &one, p.x, input, p.y, dy, p.conv,
      static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.algo), ws, p.algo_bytes, &zero, p.w, kbuf));
  kernel_from_cudnn<IO><<<blocks_for(taps * g.F), kThreads, 0, s>>>(kbuf, dkernel, taps, g.F);
  FF_CUDA_LAUNCH_CHECK("kernel_from_cudnn");
}

void ConvEngine::forward(const Conv2DGeometry& g, const float* x, const float* kernel, float* y) {
  impl_->forward<Float32Io>(g, x, kernel, y, "conv2d_forward");
}

void ConvEngine::backward_data(const Conv2DGeometry& g, const float* dy, const float* kernel,
                               float* dx) {
  impl_->backward_data<Float32Io>(g, dy, kernel, dx, "conv2d_backward_data");
}

void ConvEngine::backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                                 float* dkernel, float* dbias) {
  impl_->backward_filter<Float32Io>(g, x, dy, dkernel, dbias, "conv2d_backward_filter");
}

void ConvEngine::forward_half(const Conv2DGeometry& g, const void* x, const void* kernel, void* y,
                              DType half) {
  dispatch_half(half, "conv2d_forward_half", [&](auto io) {
    impl_->template forward<decltype(io)>(g, x, kernel, y, "conv2d_forward_half");
  });
}

void ConvEngine::backward_data_half(const Conv2DGeometry& g, const void* dy, const void* kernel,
                                    void* dx, DType half) {
  dispatch_half(half, "conv2d_backward_data_half", [&](auto io) {
    impl_->template backward_data<decltype(io)>(g, dy, kernel, dx, "conv2d_backward_data_half");
  });
}

void ConvEngine::backward_filter_half(const Conv2DGeometry& g, const void* x, const void* dy,
                                      float* dkernel, float* dbias, DType half) {
  dispatch_half(half, "conv2d_backward_filter_half", [&](auto io) {
    impl_->template backward_filter<decltype(io)>(g, x, dy, dkernel, dbias,
                                      "conv2d_backward_filter_half");
  });
}

#endif  // FORGEFLOW_HAVE_CUDNN

// ---- the backend's functions ----

void CudaBackend::conv2d_forward(const Conv2DGeometry& g, const float* x, const float* kernel,
                                 float* y) {
  conv_->forward(g, x, kernel, y);
}

void CudaBackend::conv2d_backward_data(const Conv2DGeometry& g, const float* dy,
                                       const float* kernel, float* dx) {
  conv_->backward_data(g, dy, kernel, dx);
}

void CudaBackend::conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                                         float* dkernel, float* dbias) {
  conv_->backward_filter(g, x, dy, dkernel, dbias);
}

void CudaBackend::conv2d_forward_half(const Conv2DGeometry& g, const void* x, const void* kernel,
                                      void* y, DType half) {
  conv_->forward_half(g, x, kernel, y, half);
}

void CudaBackend::conv2d_backward_data_half(const Conv2DGeometry& g, const void* dy,
                                            const void* kernel, void* dx, DType half) {
  conv_->backward_data_half(g, dy, kernel, dx, half);
}

void CudaBackend::conv2d_backward_filter_half(const Conv2DGeometry& g, const void* x,
                                              const void* dy, float* dkernel, float* dbias,
                                              DType half) {
  conv_->backward_filter_half(g, x, dy, dkernel, dbias, half);
}

}  // namespace ff::cuda
