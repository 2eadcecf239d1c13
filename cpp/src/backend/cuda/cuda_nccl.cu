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
// Nothing waits for a peer forever (distribute/nccl_wait.h has the waits, tested on the CPU):
// - The communicator is made non-blocking (ncclConfig_t.blocking = 0, ncclCommInitRankConfig,
//   NCCL 2.14 and later): its initialisation returns at once and is polled through
//   ncclCommGetAsyncError until it succeeds, fails, or the strategy's timeout passes; then it is
//   aborted (ncclCommAbort) and the error names the step. A blocking ncclCommInitRank cannot be
//   bounded: it hands out no communicator to abort until every peer came.
// - Non-blocking stays for the communicator's life (NCCL has no switch back), so every later
//   call may answer ncclInProgress (NCCL then finishes it in the background; with send/receive
//   that happens when a group first connects to a peer): every call goes through `call`, which
//   polls the same bounded way before the next call, so nothing is skipped. The model runs a
//   step's first instance eagerly before it captures it, so the connections are made outside
//   any capture; a wait inside a capture would only poll NCCL's host state (no CUDA call).
// - A peer that dies or hangs inside a collective leaves NCCL's kernels waiting on the GPU. A
//   watchdog thread (StepWatch) follows the steps the model launched (step_launched records an
//   event after each) and NCCL's asynchronous errors; a step unfinished for the timeout, or an
//   error, aborts the communicator (its kernels end, the host's waits return) and the training
//   loop raises the error (check). PyTorch's ProcessGroupNCCL watchdog works the same way.
// - The destructor finalises the communicator within the timeout too (ncclCommFinalize, polled),
//   and aborts it when that does not complete.
//
// Built without NCCL (no nccl.h / libnccl found), the entry points say so and return nothing.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_launch.cuh"
#include "distribute/collective.h"
#include "distribute/gradient_reducer.h"
#include "distribute/nccl_wait.h"

#ifdef FORGEFLOW_HAVE_NCCL
#include <nccl.h>
#if NCCL_VERSION_CODE < NCCL_VERSION(2, 14, 0)
#error "forgeflow needs NCCL 2.14 or later (non-blocking communicators: ncclCommInitRankConfig)"
#endif
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

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void pause_for(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// NCCL's words for an error on `comm`: its code's string and its last message.
std::string nccl_text(int code, ncclComm_t comm) {
  std::string text = ncclGetErrorString(static_cast<ncclResult_t>(code));
  if (comm) {
    const char* last = ncclGetLastError(comm);
    if (last && *last) text += std::string(" (") + last + ")";
  }
  return text;
}

int async_state(ncclComm_t comm) {
  ncclResult_t state = ncclSuccess;
  const ncclResult_t asked = ncclCommGetAsyncError(comm, &state);
  return asked != ncclSuccess ? asked : state;
}

// The bounded wait of a non-blocking communicator (nccl_wait.h): the result of `result` (a call
// that answered it), done when ncclSuccess; aborted on an error or the timeout, with NCCL's last
// error (read before the abort frees the communicator) in `last`.
NcclWaitOutcome settle(ncclResult_t result, ncclComm_t comm, double timeout_s,
                       std::atomic<bool>* aborted, std::string* last) {
  if (result == ncclSuccess) return {};
  NcclWaitHooks hooks;
  hooks.state = [&] { return async_state(comm); };
  hooks.abort = [&] {
    if (aborted && aborted->exchange(true)) return;
    if (last) {
      const char* text = ncclGetLastError(comm);
      if (text && *text) *last = std::string(" (") + text + ")";
    }
    ncclCommAbort(comm);
  };
  hooks.now = seconds_now;
  hooks.sleep = pause_for;
  if (result != ncclInProgress) {
    hooks.abort();
    return {NcclWaitOutcome::End::Failed, result};
  }
  return wait_for_nccl(hooks, timeout_s);
}

std::string worker_of(int rank, int size) {
  return "worker " + std::to_string(rank) + " (of " + std::to_string(size) + ")";
}

class NcclReducer final : public GradientReducer {
 public:
  static constexpr int kMaxBuckets = 32;

  NcclReducer(int device, ncclComm_t comm, int rank, int size, cudaStream_t compute,
              int64_t bucket_bytes, double timeout_s)
      : device_(device),
        comm_(comm),
        rank_(rank),
        size_(size),
        compute_(compute),
        bucket_bytes_(bucket_bytes),
        timeout_s_(timeout_s) {
    FF_CUDA_CHECK(cudaSetDevice(device_));
    FF_CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
    events_.resize(kMaxBuckets);
    for (cudaEvent_t& e : events_)
      FF_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    FF_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
    launched_.resize(StepWatch::kSlots);
    for (cudaEvent_t& e : launched_)
      FF_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    StepWatch::Hooks hooks;
    hooks.reached = [this](int slot) {
      return cudaEventQuery(launched_[static_cast<size_t>(slot)]) == cudaSuccess;
    };
    hooks.state = [this] { return async_state(comm_); };
    hooks.abort = [this] {
      if (!aborted_.exchange(true)) ncclCommAbort(comm_);
    };
    hooks.describe = [this](int code) { return nccl_text(code, comm_); };
    watch_ = std::make_unique<StepWatch>(std::move(hooks), timeout_s_, worker_of(rank_, size_));
    watchdog_ = std::thread([this] { watch(); });
  }

  ~NcclReducer() override {
    // Nothing may throw here; a failure leaves the resources to the process's end.
    {
      std::lock_guard<std::mutex> lock(stop_mutex_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    cudaSetDevice(device_);
    if (!aborted_) {
      // The queued work, then NCCL's own, within the timeout; else the communicator is aborted.
      const double start = seconds_now();
      cudaError_t q = cudaStreamQuery(side_);
      while (q == cudaErrorNotReady && seconds_now() - start < timeout_s_ &&
             async_state(comm_) == ncclSuccess) {
        pause_for(1e-3);
        q = cudaStreamQuery(side_);
      }
      if (q != cudaSuccess) {
        aborted_ = true;
        ncclCommAbort(comm_);
      } else {
        const NcclWaitOutcome o =
            settle(ncclCommFinalize(comm_), comm_, timeout_s_, &aborted_, nullptr);
        if (o.end == NcclWaitOutcome::End::Done) ncclCommDestroy(comm_);
      }
    }
    for (cudaEvent_t e : launched_) cudaEventDestroy(e);
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
    watch_->check();
    // The watchdog polls and aborts the communicator under this lock: an aborted one is freed.
    std::lock_guard<std::recursive_mutex> lock(comm_mutex_);
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
    call(ncclGroupStart(), "ncclGroupStart");
    for (int p = 0; p < size_; ++p) {
      const Chunk c = chunk_of(n, size_, p);
      if (c.count)
        call(ncclSend(data + c.begin, static_cast<size_t>(c.count), ncclFloat, p, comm_, side_),
             "ncclSend");
      if (mine.count)
        call(ncclRecv(scratch_ + static_cast<int64_t>(p) * mine.count,
                      static_cast<size_t>(mine.count), ncclFloat, p, comm_, side_),
             "ncclRecv");
    }
    call(ncclGroupEnd(), "ncclGroupEnd");
    if (mine.count) {
      sum_in_rank_order<<<grid_blocks(mine.count), kLaunchThreads, 0, side_>>>(
          data + mine.begin, scratch_, mine.count, size_);
      FF_CUDA_LAUNCH_CHECK("sum_in_rank_order");
    }
    if (size_ == 1) return;
    // All-gather: the summed chunk to every other worker, theirs into place.
    call(ncclGroupStart(), "ncclGroupStart");
    for (int p = 0; p < size_; ++p) {
      if (p == rank_) continue;
      const Chunk c = chunk_of(n, size_, p);
      if (mine.count)
        call(ncclSend(data + mine.begin, static_cast<size_t>(mine.count), ncclFloat, p, comm_,
                      side_),
             "ncclSend");
      if (c.count)
        call(ncclRecv(data + c.begin, static_cast<size_t>(c.count), ncclFloat, p, comm_, side_),
             "ncclRecv");
    }
    call(ncclGroupEnd(), "ncclGroupEnd");
  }

  void end_step() override {
    FF_CUDA_CHECK(cudaEventRecord(done_, side_));
    FF_CUDA_CHECK(cudaStreamWaitEvent(compute_, done_, 0));
  }

  void abort() override {
    std::lock_guard<std::recursive_mutex> lock(comm_mutex_);
    if (!aborted_.exchange(true)) ncclCommAbort(comm_);
  }

  void step_launched() override {
    // Outside any capture (after the step's launch): an event after the step, for the watchdog.
    watch_->check();
    if (aborted_) return;
    int slot = watch_->launched(seconds_now());
    while (slot < 0) {
      // kSlots steps unfinished: wait for the oldest (the watchdog bounds it: on the timeout it
      // aborts NCCL, whose kernels then end).
      FF_CUDA_CHECK(cudaEventSynchronize(launched_[static_cast<size_t>(watch_->oldest())]));
      {
        std::lock_guard<std::recursive_mutex> lock(comm_mutex_);
        if (!aborted_) watch_->poll(seconds_now());
      }
      watch_->check();
      if (aborted_) return;
      slot = watch_->launched(seconds_now());
    }
    FF_CUDA_CHECK(cudaEventRecord(launched_[static_cast<size_t>(slot)], compute_));
  }

  void check() override { watch_->check(); }

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
  double timeout_s_;
  std::atomic<bool> aborted_{false};
  std::vector<cudaEvent_t> launched_;  // StepWatch's slots
  std::unique_ptr<StepWatch> watch_;
  std::thread watchdog_;
  std::recursive_mutex comm_mutex_;  // comm_'s calls from the training thread and the watchdog
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;

  // A call on the (non-blocking) communicator: ncclInProgress is waited for within the timeout;
  // an error or the timeout aborts the communicator and raises.
  void call(ncclResult_t result, const char* what) {
    if (result == ncclSuccess) return;
    std::string last;
    const NcclWaitOutcome o = settle(result, comm_, timeout_s_, &aborted_, &last);
    if (o.end == NcclWaitOutcome::End::Done) return;
    throw nccl_wait_error(o, std::string("the gradient all-reduce (") + what + ")",
                          worker_of(rank_, size_), timeout_s_, nccl_text(o.code, nullptr) + last);
  }

  void watch() {
    cudaSetDevice(device_);
    std::unique_lock<std::mutex> lock(stop_mutex_);
    while (!stop_) {
      stop_cv_.wait_for(lock, std::chrono::milliseconds(20));
      if (stop_) break;
      std::lock_guard<std::recursive_mutex> comm_lock(comm_mutex_);
      if (!aborted_ && !watch_->poll(seconds_now())) break;
    }
  }
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
// (every worker calls it with worker 0's id) within `timeout_s` seconds and returns its reducer,
// or null with the reason in `message` and in `status`: 1 an NCCL or CUDA error, 2 the timeout
// (the communicator was aborted; the message names NCCL's communicator initialisation).
__attribute__((visibility("default"))) ff::GradientReducer* forgeflow_cuda_nccl_reducer(
    int device, const char* id, int rank, int size, int64_t bucket_bytes, double timeout_s,
    char* message, size_t message_size, int* status) {
  if (status) *status = 1;
#ifdef FORGEFLOW_HAVE_NCCL
  try {
    ff::cuda::CudaDevice* gpu = ff::cuda::opened_device(device);
    if (!gpu) throw std::runtime_error("GPU " + std::to_string(device) + " is not open");
    FF_CUDA_CHECK(cudaSetDevice(device));
    ncclUniqueId unique;
    std::memcpy(&unique, id, sizeof unique);
    ncclComm_t comm = nullptr;
    // Non-blocking, so that the initialisation can be bounded (see the top of this file).
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    const ncclResult_t started = ncclCommInitRankConfig(&comm, size, unique, rank, &config);
    if (started != ncclSuccess && started != ncclInProgress) {
      if (comm) ncclCommAbort(comm);
      throw ff::nccl_wait_error({ff::NcclWaitOutcome::End::Failed, started},
                                "NCCL's communicator initialisation",
                                ff::cuda::worker_of(rank, size), timeout_s,
                                ff::cuda::nccl_text(started, nullptr));
    }
    std::string last;
    const ff::NcclWaitOutcome o = ff::cuda::settle(started, comm, timeout_s, nullptr, &last);
    if (o.end != ff::NcclWaitOutcome::End::Done) {
      if (status && o.end == ff::NcclWaitOutcome::End::TimedOut) *status = 2;
      throw ff::nccl_wait_error(o, "NCCL's communicator initialisation",
                                ff::cuda::worker_of(rank, size), timeout_s,
                                ff::cuda::nccl_text(o.code, nullptr) + last);
    }
    try {
      auto* reducer = new ff::cuda::NcclReducer(device, comm, rank, size, gpu->stream(0),
                                                bucket_bytes, timeout_s);
      if (status) *status = 0;
      return reducer;
    } catch (...) {
      ncclCommAbort(comm);
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
  (void)timeout_s;
  ff::cuda::put_message(message, message_size,
                        "this build of forgeflow's CUDA backend has no NCCL (nccl.h and libnccl "
                        "were not found when it was built: set NCCL_ROOT)");
  return nullptr;
#endif
}

}  // extern "C"
