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
// 3. Streams and events are checked (a race detector): every device copy, zero and kernel
//    argument is an access to its allocation on a stream (kernels run on the compute stream 0 and
//    count as writes; captured work accesses what it recorded when launched). An access must be
//    ordered after the last write to the allocation, and a write after every read since, by stream
//    order, by an event the stream waited for (record_event, then stream_wait_event) or by a host
//    wait that preceded its enqueueing (wait_event, synchronize, a blocking read), as on CUDA;
//    otherwise it throws std::logic_error naming the streams ("race"). Work runs at once (the
//    emulation is synchronous), so only these checks can show a missing event.
//
// Host reads and synchronisations are counted by Device as on the real GPU.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
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
  // True when [p, p + bytes) lies inside one live allocate_pinned block.
  bool is_pinned(const void* p, size_t bytes) const;
  // Runs `work` now, or records it when capturing (work on the capturing stream only).
  void enqueue(std::function<void()> work, ff::StreamId stream = 0);
  // A kernel's argument: the real address of device pointer p (as real()), recorded as a write
  // on the compute stream by the stream-order checks (null stays null).
  void* kernel_argument(const void* p);
  bool capturing() const { return capturing_; }
  // Graphs alive, launches so far, operations recorded into the last graph.
  int64_t live_graphs() const;
  int64_t graph_launches() const { return launches_; }
  size_t last_graph_size() const { return last_graph_size_; }
  // Memory capacity the device reports (tests of out-of-memory paths); <= 0: the host's.
  void set_memory_capacity(int64_t bytes) { capacity_ = bytes; }

  // ---- the stream operations, logged while logging is on (tests of the input path) ----
  struct Op {
    enum Kind { Record, StreamWait, HostWait, CopyFromHost, Copy, Zero, Launch } kind;
    ff::StreamId stream;   // -1 for a host wait
    ff::EventId event;     // Record, StreamWait, HostWait
    const void* dst;       // copies and zero: the device destination
    const void* src;       // Copy: the device source; CopyFromHost: the host source
    size_t bytes;
  };
  void set_op_log(bool on);
  std::vector<Op> ops() const;

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

  // ---- stream-order checks (see 3. above); all under mu_ ----
  struct Access {
    ff::StreamId stream = -1;
    uint64_t time = 0;
  };
  struct AccessState {
    Access write;
    std::vector<Access> reads;  // since the last write, the latest per stream
  };
  // The real base address of the allocation holding real address r, or 0.
  uintptr_t base_locked(uintptr_t r) const;
  // One operation on `stream` reading `reads` and writing `writes` (real addresses); checked,
  // or added to the capture's set when it is captured work.
  void access(ff::StreamId stream, std::initializer_list<const void*> reads,
              std::initializer_list<const void*> writes);
  void access_bases_locked(ff::StreamId stream, const std::set<uintptr_t>& writes);
  uint64_t tick_locked(ff::StreamId stream);
  void check_locked(const Access& a, ff::StreamId stream, uintptr_t base, const char* what) const;
  std::vector<uint64_t>& clock_locked(ff::StreamId stream);
  void log_locked(const Op& op);

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
  ff::StreamId capture_stream_ = 0;
  std::map<uintptr_t, AccessState> access_;        // by allocation (real base address)
  std::vector<std::vector<uint64_t>> clocks_;       // clocks_[s][t]: stream t's time seen by s
  std::vector<uint64_t> host_clock_;                // what the host has waited for
  std::map<ff::EventId, std::vector<uint64_t>> event_clocks_;
  std::set<uintptr_t> capture_touched_;             // allocations the capture's work accesses
  std::vector<std::set<uintptr_t>> graph_touched_;  // per graph
  bool op_log_ = false;
  std::vector<Op> ops_;
};

// The emulated device with the CPU backend's kernels behind it (one instance per process).
EmulatedGpuDevice& emulated_gpu_device();
ff::Backend& emulated_gpu_backend();

}  // namespace fftest
