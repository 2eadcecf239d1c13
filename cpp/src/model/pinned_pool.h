// PinnedPool: a few reusable blocks of host memory from a device's pinned allocator
// (Device::allocate_pinned: cudaHostAlloc on a GPU), where batches are gathered and converted on
// their way to a device whose memory the host cannot address. A copy from pinned memory runs
// asynchronously on a side stream (and may be captured), which a copy from pageable memory cannot.
//
// Pinned memory is never allocated per step: a block is allocated once, handed out again and
// again, and only replaced when a batch needs more bytes than the largest block (a larger batch
// size). A block released with the event of the last device copy that reads it is handed out
// again only after the host waited for that event (Device::wait_event: not a host read; blocks go
// round in least-recently-released order, so the copy waited for is normally long complete). The
// wait is also what keeps the host at most a few batches ahead of the device.
//
// Not thread-safe: the model's loop uses it from its own thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/device.h"

namespace ff {

class PinnedPool {
 public:
  // Keeps at most `max_blocks` blocks (>= 1) of `device`'s pinned memory.
  explicit PinnedPool(Device& device, size_t max_blocks = 3);
  ~PinnedPool();
  PinnedPool(const PinnedPool&) = delete;
  PinnedPool& operator=(const PinnedPool&) = delete;

  struct Block {
    void* data = nullptr;
    size_t capacity = 0;
    int index = -1;  // the pool's slot for it
  };
  // A block of at least `bytes` that the host may write now. Throws std::logic_error when every
  // block is still held (a caller that never releases).
  Block acquire(size_t bytes);
  // Gives a block back; `copied` is the event after the last device copy reading it (0: none).
  void release(const Block& block, EventId copied);

  struct Stats {
    int64_t allocations = 0;  // allocate_pinned calls
    int64_t frees = 0;        // deallocate_pinned calls (blocks replaced by larger ones)
    int64_t acquires = 0;
    int64_t waits = 0;        // acquires that waited for a block's copy event
    EventId last_waited = 0;  // the event of the last such wait
    size_t blocks = 0;        // blocks held now
    size_t bytes = 0;         // their capacity
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Entry {
    void* data = nullptr;
    size_t capacity = 0;
    EventId ready = 0;       // the host may write once this event completed
    bool held = false;
    uint64_t released = 0;   // release order (least recently released goes first)
  };
  void free_entry(Entry& e);

  Device* device_;
  size_t max_blocks_;
  std::vector<Entry> entries_;
  uint64_t releases_ = 0;
  Stats stats_;
};

}  // namespace ff
