// Device: the bottom of the core. Memory on one device (stream-ordered on a GPU), pinned host
// memory, host<->device copies, streams, events and synchronisation. Tensors hold device memory
// through it; kernels live one level up (backend/backend.h). The CPU device implements all of it
// trivially: host memory, synchronous copies, one stream, events that are always complete.
//
// The contract every device keeps (docs/backend-contract.md):
// - Work is enqueued on a stream in order; the host never waits except in synchronize(),
//   wait_event() from the host, and the blocking copy_to_host().
// - copy_to_host() and synchronize() are the only host reads of computed values. The device
//   counts them (host_reads(), synchronizations()), so tests can check a loop's budget of reads.
// - Every virtual function is defined in this header (no key function): a device built into a
//   separately loaded library (the CUDA backend, libforgeflow_cuda.so) needs no symbol of the
//   core library.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace ff {

enum class DeviceType { CPU, CUDA };

// An ordered queue of device work (a CUDA stream); the CPU has one, 0.
using StreamId = int;
// A point in a stream's work that other streams or the host can wait for; 0 on the CPU.
using EventId = int;
// A captured, replayable piece of stream work (a CUDA graph); see can_capture().
using GraphId = int;

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceType type() const = 0;
  // "cpu", "cuda:0"
  virtual std::string name() const = 0;

  // ---- memory ----
  // The most bytes this device's memory can hold (the CPU: the machine's physical memory, or
  // the container's limit when lower). The model refuses a buffer plan or weights larger than
  // this with a clear error before allocating anything, instead of failing (or being killed)
  // halfway through.
  virtual int64_t memory_capacity() const = 0;
  // Device memory (stream-ordered on a GPU: usable by work enqueued after the call). Counted:
  // bytes_in_use() and peak_bytes() (ff.config.experimental.get_memory_info). A failed
  // allocation throws ResourceExhaustedError (std::bad_alloc on the CPU) and counts nothing.
  void* allocate(size_t bytes) {
    const int64_t limit = test_limit_.load(std::memory_order_relaxed);
    if (limit > 0 && (bytes > static_cast<uint64_t>(limit) ||
                      bytes_in_use() > limit - static_cast<int64_t>(bytes)))
      throw std::bad_alloc();  // as if the allocator ran out (set_memory_limit_for_testing)
    void* p = allocate_bytes(bytes);
    const int64_t now = in_use_.fetch_add(static_cast<int64_t>(bytes)) + static_cast<int64_t>(bytes);
    int64_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {}
    return p;
  }
  void deallocate(void* ptr, size_t bytes) {
    if (!ptr) return;
    deallocate_bytes(ptr, bytes);
    in_use_.fetch_sub(static_cast<int64_t>(bytes));
  }
  int64_t bytes_in_use() const { return in_use_.load(std::memory_order_relaxed); }
  int64_t peak_bytes() const { return peak_.load(std::memory_order_relaxed); }
  // The peak starts again from what is in use now (tf.config.experimental.reset_memory_stats).
  void reset_peak_bytes() { peak_.store(in_use_.load()); }
  // Tests only: allocations that would take bytes_in_use() past `bytes` fail (std::bad_alloc)
  // as a full device would, below memory_capacity() so that the model's checks before
  // allocating pass; 0 removes the limit. How the out-of-memory path (ResourceExhaustedError
  // naming the layer and the batch) is tested on any device.
  void set_memory_limit_for_testing(int64_t bytes) { test_limit_.store(bytes > 0 ? bytes : 0); }
  // Bytes that allocations could still take now: free device memory plus what the allocator's
  // pool holds unused (a GPU: cudaMemGetInfo), or memory_capacity() - bytes_in_use() (the CPU).
  virtual int64_t memory_free() const {
    const int64_t left = memory_capacity() - bytes_in_use();
    return left > 0 ? left : 0;
  }
  // Host memory the device copies from and to asynchronously (cudaHostAlloc on a GPU).
  virtual void* allocate_pinned(size_t bytes) = 0;
  virtual void deallocate_pinned(void* ptr, size_t bytes) = 0;

  // ---- copies (enqueued on `stream`, the compute stream 0 by default) ----
  // Host to device: the source may be reused once the call returns for pageable memory; a
  // pinned source must stay untouched until the copy completes (an event after it).
  virtual void copy_from_host(void* dst, const void* host_src, size_t bytes,
                              StreamId stream = 0) = 0;
  // Device to host, blocking until the data is there: a host read (counted).
  void copy_to_host(void* host_dst, const void* src, size_t bytes, StreamId stream = 0) {
    host_reads_.fetch_add(1, std::memory_order_relaxed);
    read_to_host(host_dst, src, bytes, stream);
  }
  // Device to pinned host memory without waiting: valid after synchronize() or an event
  // recorded after it completes (counted as a host read when enqueued).
  void copy_to_host_async(void* pinned_dst, const void* src, size_t bytes, StreamId stream = 0) {
    host_reads_.fetch_add(1, std::memory_order_relaxed);
    read_to_host_async(pinned_dst, src, bytes, stream);
  }
  virtual void copy(void* dst, const void* src, size_t bytes, StreamId stream = 0) = 0;
  // dst = bytes of zeros.
  virtual void zero(void* dst, size_t bytes, StreamId stream = 0) = 0;
  // The host address of device memory the host can write directly (the CPU: ptr itself), or
  // null (a GPU): batch assembly then stages on the host and copies.
  virtual void* host_address(void* ptr) const = 0;

  // ---- streams, events, synchronisation ----
  // A new stream (a side stream for input copies); the CPU returns 0.
  virtual StreamId create_stream() = 0;
  virtual EventId record_event(StreamId stream) = 0;
  // Work enqueued on `stream` after this waits for the event (the host does not wait).
  virtual void stream_wait_event(StreamId stream, EventId event) = 0;
  // The host waits for the event.
  virtual void wait_event(EventId event) = 0;
  // The host waits until every stream's work is done (counted).
  void synchronize() {
    synchronizations_.fetch_add(1, std::memory_order_relaxed);
    synchronize_all();
  }

  // ---- graphs: a stream's work recorded once and replayed (CUDA graphs). A device that cannot
  // capture (the CPU) runs every step eagerly; the model keeps its signature bookkeeping the
  // same on both. Between begin_capture and end_capture nothing on `stream` may allocate from
  // the host, synchronise or read to the host. ----
  virtual bool can_capture() const { return false; }
  virtual void begin_capture(StreamId /*stream*/) { throw std::logic_error(name() + ": no graphs"); }
  // The captured work as a replayable graph (an id > 0).
  virtual GraphId end_capture(StreamId /*stream*/) { throw std::logic_error(name() + ": no graphs"); }
  virtual void launch_graph(GraphId /*graph*/, StreamId /*stream*/ = 0) {
    throw std::logic_error(name() + ": no graphs");
  }
  virtual void destroy_graph(GraphId /*graph*/) {}

  // One lock shared by every model on a device that captures: a capture takes all the work
  // enqueued on the compute stream, from any thread, and a host read during a capture breaks it,
  // so models on such a device take turns (Model uses this as its own mutex there).
  const std::shared_ptr<std::recursive_mutex>& models_mutex() const { return models_mutex_; }

  // ---- counters (tests check the budget of host reads in a loop) ----
  int64_t host_reads() const { return host_reads_.load(std::memory_order_relaxed); }
  int64_t synchronizations() const { return synchronizations_.load(std::memory_order_relaxed); }

 protected:
  virtual void* allocate_bytes(size_t bytes) = 0;
  virtual void deallocate_bytes(void* ptr, size_t bytes) = 0;
  virtual void read_to_host(void* host_dst, const void* src, size_t bytes, StreamId stream) = 0;
  virtual void read_to_host_async(void* pinned_dst, const void* src, size_t bytes,
                                  StreamId stream) = 0;
  virtual void synchronize_all() = 0;

 private:
  std::atomic<int64_t> host_reads_{0};
  std::atomic<int64_t> synchronizations_{0};
  std::shared_ptr<std::recursive_mutex> models_mutex_ = std::make_shared<std::recursive_mutex>();
  std::atomic<int64_t> in_use_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> test_limit_{0};
};

// The host CPU as a device (always available).
Device& cpu_device();

}  // namespace ff
