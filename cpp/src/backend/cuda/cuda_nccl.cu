// NCCL for ff.distribute on GPUs: the GradientReducer (distribute/gradient_reducer.h) of a model
// on one GPU of a data-parallel run, and its two extern "C" entry points (a unique id made by
// worker 0, a reducer joined through it), loaded by backend/cuda_loader.cpp.
//
// Each bucket is summed in the fixed order of distribute/collective.h, with NCCL moving the
// data: on a side stream that waited for the compute stream's event (so the sum overlaps the
// rest of the backward pass), one NCCL group sends chunk p of the bucket to worker p and
// receives chunk `rank` of every worker (worker q's into slot q of a scratch buffer; a worker's
// own chunk goes through NCCL too, a send to itself, so one worker runs the same path); a kernel
// adds the slots in rank order ((x_0 + x_1) + x_2)... (no fused multiply-add: the CPU's bits)
// into the bucket; a second group sends the summed chunk to every other worker and receives
// theirs in place. end_step makes the compute stream wait for the side stream. Everything is
// enqueued (NCCL calls, events, the kernel, no allocation: the scratch buffer is allocated by
// prepare(), before any capture), so a captured training step holds the all-reduce.
//
// Built without NCCL (no nccl.h / libnccl found), the entry points say so and return nothing.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_launch.cuh"
#include "distribute/collective.h"
#include "distribute/gradient_reducer.h"

#ifdef FORGEFLOW_HAVE_NCCL
#include <nccl.h>
#endif

namespace ff::cuda {

// The device of GPU `index` opened by forgeflow_cuda_backend (cuda_plugin.cpp), or null.
CudaDevice* opened_device(int index);

namespace {

void put_message(char* message, size_t size, const std::string& text) {
  if (message && size) std::snprintf(message, size, "%s", text.c_str());
}

#ifdef FORGEFLOW_HAVE_NCCL

// out[i] = parts[0][i] + parts[1][i] + ... in rank order; parts[q] starts at parts + q * count.
__global__ void sum_in_rank_order(float* out, const float* parts, int64_t count, int nparts) {
  for (int64_t i = first_index(); i < count; i += grid_stride()) {
    float acc = parts[i];
    for (int q = 1; q < nparts; ++q) acc += parts[static_cast<int64_t>(q) * count + i];
    out[i] = acc;
  }
}

[[noreturn]] void throw_nccl(ncclResult_t status, const char* call, ncclComm_t comm) {
  std::string text = std::string("NCCL error in ") + call + ": " + ncclGetErrorString(status);
  if (comm) {
    const char* last = ncclGetLastError(comm);
    if (last && *last) text += std::string(" (") + last + ")";
  }
  throw DistributedError(DistributedError::Kind::Unavailable, "ff.distribute: " + text);
}

#define FF_NCCL_CHECK(call, comm)                                                               \
  do {                                                                                          \
    const ncclResult_t ff_nccl_status_ = (call);                                                \
    if (ff_nccl_status_ != ncclSuccess) ::ff::cuda::throw_nccl(ff_nccl_status_, #call, (comm)); \
  } while (0)

class NcclReducer final : public GradientReducer {
 public:
  static constexpr int kMaxBuckets = 32;

  NcclReducer(int device, ncclComm_t comm, int rank, int size, cudaStream_t compute,
              int64_t bucket_bytes)
      : device_(device),
        comm_(comm),
        rank_(rank),
        size_(size),
        compute_(compute),
        bucket_bytes_(bucket_bytes) {
    FF_CUDA_CHECK(cudaSetDevice(device_));
    FF_CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
    events_.resize(kMaxBuckets);
    for (cudaEvent_t& e : events_)
      FF_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    FF_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  }

  ~NcclReducer() override {
    // Nothing may throw here; a failure leaves the resources to the process's end.
    cudaSetDevice(device_);
    if (!aborted_) {
      cudaStreamSynchronize(side_);
      ncclCommDestroy(comm_);
    }
    if (scratch_) cudaFree(scratch_);
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
    cudaEventDestroy(done_);
    cudaStreamDestroy(side_);
  }

  std::string name() const override { return "nccl"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int64_t bucket_bytes() const override { return bucket_bytes_; }
  int max_buckets() const override { return kMaxBuckets; }

  void prepare(int64_t elements) override {
    // A bucket of n floats needs size * chunk_of(n, size, rank).count scratch floats, at most
    // size * ceil(n / size).
    const int64_t per_worker = (elements + size_ - 1) / size_;
    const int64_t needed = std::max<int64_t>(per_worker * size_, 1);
    if (needed <= capacity_) return;
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    FF_CUDA_CHECK(cudaStreamIsCapturing(compute_, &status));
    if (status != cudaStreamCaptureStatusNone)
      throw std::runtime_error(
          "internal: the NCCL reducer's scratch memory would grow inside a "
          "captured step");
    FF_CUDA_CHECK(cudaSetDevice(device_));
    FF_CUDA_CHECK(cudaStreamSynchronize(side_));
    if (scratch_) FF_CUDA_CHECK(cudaFree(scratch_));
    scratch_ = nullptr;
    capacity_ = 0;
    FF_CUDA_CHECK(cudaMalloc(&scratch_, static_cast<size_t>(needed) * sizeof(float)));
    capacity_ = needed;
  }

  void begin_step() override { used_ = 0; }

  void reduce(float* data, int64_t n) override {
    if (aborted_)
      throw DistributedError(DistributedError::Kind::Aborted,
                             "ff.distribute: the NCCL communicator was aborted after a failure "
                             "of the workers; restart the job");
    if (used_ >= kMaxBuckets)
      throw std::runtime_error("internal: more than " + std::to_string(kMaxBuckets) +
                               " gradient buckets in one step");
    const Chunk mine = chunk_of(n, size_, rank_);
    if (mine.count * size_ > capacity_)
      throw std::runtime_error(
          "internal: a gradient bucket larger than the NCCL reducer was "
          "prepared for");
    // The side stream starts after everything the compute stream enqueued so far.
    FF_CUDA_CHECK(cudaEventRecord(events_[static_cast<size_t>(used_)], compute_));
    FF_CUDA_CHECK(cudaStreamWaitEvent(side_, events_[static_cast<size_t>(used_)], 0));
    ++used_;
    // Reduce-scatter as an all-to-all: chunk p to worker p, chunk `rank` of worker q into slot q
    // (this worker's own through NCCL as well).
    FF_NCCL_CHECK(ncclGroupStart(), comm_);
    for (int p = 0; p < size_; ++p) {
      const Chunk c = chunk_of(n, size_, p);
      if (c.count)
        FF_NCCL_CHECK(
            ncclSend(data + c.begin, static_cast<size_t>(c.count), ncclFloat, p, comm_, side_),
            comm_);
      if (mine.count)
        FF_NCCL_CHECK(ncclRecv(scratch_ + static_cast<int64_t>(p) * mine.count,
                               static_cast<size_t>(mine.count), ncclFloat, p, comm_, side_),
                      comm_);
    }
    FF_NCCL_CHECK(ncclGroupEnd(), comm_);
    if (mine.count) {
      sum_in_rank_order<<<grid_blocks(mine.count), kLaunchThreads, 0, side_>>>(
          data + mine.begin, scratch_, mine.count, size_);
      FF_CUDA_LAUNCH_CHECK("sum_in_rank_order");
    }
    if (size_ == 1) return;
    // All-gather: the summed chunk to every other worker, theirs into place.
    FF_NCCL_CHECK(ncclGroupStart(), comm_);
    for (int p = 0; p < size_; ++p) {
      if (p == rank_) continue;
      const Chunk c = chunk_of(n, size_, p);
      if (mine.count)
        FF_NCCL_CHECK(ncclSend(data + mine.begin, static_cast<size_t>(mine.count), ncclFloat, p,
                               comm_, side_),
                      comm_);
      if (c.count)
        FF_NCCL_CHECK(
            ncclRecv(data + c.begin, static_cast<size_t>(c.count), ncclFloat, p, comm_, side_),
            comm_);
    }
    FF_NCCL_CHECK(ncclGroupEnd(), comm_);
  }

  void end_step() override {
    FF_CUDA_CHECK(cudaEventRecord(done_, side_));
    FF_CUDA_CHECK(cudaStreamWaitEvent(compute_, done_, 0));
  }

  void abort() override {
    if (aborted_) return;
    aborted_ = true;
    ncclCommAbort(comm_);
  }

 private:
  int device_;
  ncclComm_t comm_;
  int rank_, size_;
  cudaStream_t compute_;
  cudaStream_t side_ = nullptr;
  int64_t bucket_bytes_;
  std::vector<cudaEvent_t> events_;
  cudaEvent_t done_ = nullptr;
  float* scratch_ = nullptr;
  int64_t capacity_ = 0;
  int used_ = 0;
  bool aborted_ = false;
};

#endif  // FORGEFLOW_HAVE_NCCL

}  // namespace
}  // namespace ff::cuda

extern "C" {

// Worker 0's NCCL unique id (NCCL_UNIQUE_ID_BYTES = 128 bytes into `id`): 1, or 0 with the
// reason in `message`.
__attribute__((visibility("default"))) int forgeflow_cuda_nccl_unique_id(char* id, char* message,
                                                                         size_t size) {
#ifdef FORGEFLOW_HAVE_NCCL
  ncclUniqueId unique;
  const ncclResult_t status = ncclGetUniqueId(&unique);
  if (status != ncclSuccess) {
    ff::cuda::put_message(message, size,
                          std::string("ncclGetUniqueId failed: ") + ncclGetErrorString(status));
    return 0;
  }
  static_assert(sizeof unique == 128, "NCCL_UNIQUE_ID_BYTES");
  std::memcpy(id, &unique, sizeof unique);
  return 1;
#else
  (void)id;
  ff::cuda::put_message(message, size,
                        "this build of forgeflow's CUDA backend has no NCCL (nccl.h and libnccl "
                        "were not found when it was built: set NCCL_ROOT)");
  return 0;
#endif
}

// Joins worker `rank` of `size` on GPU `device` (opened already) to the communicator of `id`
// (every worker calls it with worker 0's id; it returns when all have) and returns its reducer,
// or null with the reason in `message`.
__attribute__((visibility("default"))) ff::GradientReducer* forgeflow_cuda_nccl_reducer(
    int device, const char* id, int rank, int size, int64_t bucket_bytes, char* message,
    size_t message_size) {
#ifdef FORGEFLOW_HAVE_NCCL
  try {
    ff::cuda::CudaDevice* gpu = ff::cuda::opened_device(device);
    if (!gpu) throw std::runtime_error("GPU " + std::to_string(device) + " is not open");
    FF_CUDA_CHECK(cudaSetDevice(device));
    ncclUniqueId unique;
    std::memcpy(&unique, id, sizeof unique);
    ncclComm_t comm = nullptr;
    FF_NCCL_CHECK(ncclCommInitRank(&comm, size, unique, rank), nullptr);
    try {
      return new ff::cuda::NcclReducer(device, comm, rank, size, gpu->stream(0), bucket_bytes);
    } catch (...) {
      ncclCommDestroy(comm);
      throw;
    }
  } catch (const std::exception& e) {
    ff::cuda::put_message(message, message_size, e.what());
    return nullptr;
  }
#else
  (void)device;
  (void)id;
  (void)rank;
  (void)size;
  (void)bucket_bytes;
  ff::cuda::put_message(message, message_size,
                        "this build of forgeflow's CUDA backend has no NCCL (nccl.h and libnccl "
                        "were not found when it was built: set NCCL_ROOT)");
  return nullptr;
#endif
}

}  // extern "C"
