// The CUDA device (core/device.h on one GPU): device memory from a stream-ordered pool
// (cudaMallocAsync on the compute stream, the pool keeping freed memory), pinned host memory,
// non-blocking streams (stream 0 is the compute stream), events, and CUDA graph capture and
// replay. Every CUDA call is checked (cuda_check.h); an allocation the GPU cannot satisfy raises
// ResourceExhaustedError with nothing half-allocated.
#pragma once
#include <cuda_runtime.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/device.h"

namespace ff::cuda {

class CudaDevice final : public Device {
 public:
  // Opens GPU `index` (cudaSetDevice), creates the compute stream and configures its memory pool.
  explicit CudaDevice(int index);
  ~CudaDevice() override;

  DeviceType type() const override { return DeviceType::CUDA; }
  std::string name() const override { return "cuda:" + std::to_string(index_); }
  int index() const { return index_; }

  int64_t memory_capacity() const override;
  // cudaMemGetInfo's free bytes plus what the memory pool keeps reserved but unused.
  int64_t memory_free() const override;
  void* allocate_pinned(size_t bytes) override;
  void deallocate_pinned(void* ptr, size_t bytes) override;

  void copy_from_host(void* dst, const void* host_src, size_t bytes, StreamId stream) override;
  void copy(void* dst, const void* src, size_t bytes, StreamId stream) override;
  void zero(void* dst, size_t bytes, StreamId stream) override;
  void* host_address(void*) const override { return nullptr; }

  StreamId create_stream() override;
  EventId record_event(StreamId stream) override;
  void stream_wait_event(StreamId stream, EventId event) override;
  void wait_event(EventId event) override;

  bool can_capture() const override { return true; }
  void begin_capture(StreamId stream) override;
  GraphId end_capture(StreamId stream) override;
  void launch_graph(GraphId graph, StreamId stream) override;
  void destroy_graph(GraphId graph) override;

  // The CUDA stream behind a StreamId (0: the compute stream every kernel runs on).
  cudaStream_t stream(StreamId id = 0) const;
  // Free and total bytes of the GPU (cudaMemGetInfo).
  void memory_info(size_t* free_bytes, size_t* total_bytes) const;

 protected:
  void* allocate_bytes(size_t bytes) override;
  void deallocate_bytes(void* ptr, size_t bytes) override;
  void read_to_host(void* host_dst, const void* src, size_t bytes, StreamId stream) override;
  void read_to_host_async(void* pinned_dst, const void* src, size_t bytes,
                          StreamId stream) override;
  void synchronize_all() override;

 private:
  int index_;
  cudaMemPool_t pool_ = nullptr;
  mutable std::mutex mu_;                 // guards the tables below
  std::vector<cudaStream_t> streams_;     // [0] is the compute stream
  // Events are a ring reused in turn: an EventId stays valid until kEventRing more events have
  // been recorded (enough for any loop, which waits on its few events long before).
  static constexpr size_t kEventRing = 256;
  std::vector<cudaEvent_t> events_;       // EventId - 1
  uint64_t next_event_ = 0;
  std::vector<cudaGraphExec_t> graphs_;   // GraphId - 1; null once destroyed
};

}  // namespace ff::cuda
