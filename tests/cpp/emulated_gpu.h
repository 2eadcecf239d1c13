// An emulated GPU for the tests (test-only code): a Device and a Backend that run the CPU
// backend's kernels but behave like a GPU in the two ways that break code written for a CPU.
//
// 1. Device memory is not host-addressable: host_address() is null, and the pointers the device
//    hands out are the real allocation's address plus kDeviceOffset, a non-canonical address on
//    x86-64, so any host dereference of device memory (in the model, layers, losses, metrics or
//    optimizers) crashes the test instead of silently working. Every kernel argument and copy is
//    translated back (and checked to lie inside a live allocation) before the CPU kernel runs,
//    including the device pointers inside a ScheduleSpec (piecewise schedules).
// 2. Graph capture is faithful: between begin_capture and end_capture every kernel call and device
//    copy is recorded, its arguments frozen by value exactly as a CUDA graph freezes kernel
//    parameters (a copy from host memory re-reads that host address at replay), and nothing runs;
//    launch_graph replays the recording. A copy from pageable host memory (anything but
//    allocate_pinned's) cannot be captured, as on CUDA. Synchronising, reading to the host, allocating or waiting
//    on an event during capture throws (CUDA fails there too) and invalidates the capture, and
//    freeing memory during capture makes end_capture throw.
//
// Host reads and synchronisations are counted by Device as on the real GPU.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace fftest {

class EmulatedGpuDevice final : public ff::Device {
 public:
  // Added to every real address: the result is non-canonical (bits 47..63 not all equal), so a
  // host load or store through it faults.
  static constexpr uintptr_t kDeviceOffset = uintptr_t{1} << 62;

  EmulatedGpuDevice() = default;
  ~EmulatedGpuDevice() override;

  ff::DeviceType type() const override { return ff::DeviceType::CUDA; }
  std::string name() const override { return "emulated-gpu:0"; }
  int64_t memory_capacity() const override;
  void* allocate_pinned(size_t bytes) override;
  void deallocate_pinned(void* ptr, size_t bytes) override;
  void copy_from_host(void* dst, const void* host_src, size_t bytes,
                      ff::StreamId stream = 0) override;
  void copy(void* dst, const void* src, size_t bytes, ff::StreamId stream = 0) override;
  void zero(void* dst, size_t bytes, ff::StreamId stream = 0) override;
  void* host_address(void*) const override { return nullptr; }
  ff::StreamId create_stream() override;
  ff::EventId record_event(ff::StreamId stream) override;
  void stream_wait_event(ff::StreamId stream, ff::EventId event) override;
  void wait_event(ff::EventId event) override;

  bool can_capture() const override { return true; }
  void begin_capture(ff::StreamId stream) override;
  ff::GraphId end_capture(ff::StreamId stream) override;
  void launch_graph(ff::GraphId graph, ff::StreamId stream = 0) override;
  void destroy_graph(ff::GraphId graph) override;

  // ---- for the backend and the tests ----
  // The real (host) address of device pointer p, checked to lie with `bytes` inside a live
  // allocation (null stays null); throws std::logic_error naming `what` otherwise.
  void* real(const void* p, const char* what, size_t bytes = 0) const;
  bool is_device_pointer(const void* p) const;
  // Runs `work` now, or records it when capturing.
  void enqueue(std::function<void()> work);
  bool capturing() const { return capturing_; }
  // Graphs alive, launches so far, operations recorded into the last graph.
  int64_t live_graphs() const;
  int64_t graph_launches() const { return launches_; }
  size_t last_graph_size() const { return last_graph_size_; }
  // Memory capacity the device reports (tests of out-of-memory paths); <= 0: the host's.
  void set_memory_capacity(int64_t bytes) { capacity_ = bytes; }

 protected:
  void* allocate_bytes(size_t bytes) override;
  void deallocate_bytes(void* ptr, size_t bytes) override;
  void read_to_host(void* host_dst, const void* src, size_t bytes, ff::StreamId stream) override;
  void read_to_host_async(void* pinned_dst, const void* src, size_t bytes,
                          ff::StreamId stream) override;
  void synchronize_all() override;

 private:
  // Throws (and invalidates the capture) when capturing: `what` is not allowed then.
  void refuse_in_capture(const std::string& what);

  mutable std::mutex mu_;
  std::map<uintptr_t, size_t> allocations_;  // real address -> bytes
  std::map<uintptr_t, size_t> pinned_;       // pinned host memory: address -> bytes
  int64_t capacity_ = 0;
  bool capturing_ = false;
  std::string capture_error_;  // set by an illegal call during capture
  std::vector<std::function<void()>> recording_;
  std::vector<std::pair<void*, size_t>> deferred_frees_;  // freed during capture (real, bytes)
  std::vector<std::unique_ptr<std::vector<std::function<void()>>>> graphs_;
  int64_t launches_ = 0;
  size_t last_graph_size_ = 0;
  int streams_ = 1;
  int events_ = 0;
};

// The emulated device with the CPU backend's kernels behind it (one instance per process).
EmulatedGpuDevice& emulated_gpu_device();
ff::Backend& emulated_gpu_backend();

}  // namespace fftest
