// InputSlots: how a batch reaches a device whose memory the host cannot address (a GPU), so that
// copying batch i+1 overlaps step i and the captured step graphs still read fixed addresses.
//
// Per batch i (docs/backend-contract.md, "Batches"):
//  1. the host gathers and converts the batch's rows (a shuffled order, uint8 images, int labels)
//     into a block of pinned memory from a PinnedPool (never allocated per step);
//  2. on a side stream (Device::create_stream) one asynchronous copy moves the block into device
//     slot i % 2, after waiting for the event recorded when slot i % 2 was last emptied (by batch
//     i - 2); an event `copied` is recorded after it;
//  3. on the compute stream, after waiting for `copied`, the slot is copied device-to-device into
//     the plan's input and target buffers, and an event `consumed` is recorded (the slot is free
//     again for batch i + 2); the pinned block goes back to the pool with `copied`.
// The step (eager, captured or replayed) is enqueued after this on the compute stream.
//
// Why the slot -> plan copy, outside the graph: a captured step freezes the addresses it reads,
// and the plan's buffers are the only ones every step of a signature shares. Capturing one graph
// per slot instead would double the captures (and the graph memory) of every signature and tie
// the graph cache to the alternation; copying straight into the plan buffers on the side stream
// would have to wait for the whole previous step (its backward pass still reads the inputs), so
// no copy would overlap a step. A device-to-device copy costs a few microseconds per batch at
// device bandwidth, and being outside the graph it is ordinary stream work, ordered by the same
// events eagerly, captured or replayed. Host reads: none (no counted read or synchronisation);
// the host only waits, in the pool, for a copy of a batch two or three steps back.
//
// Batches already in pinned memory (a pipeline's final batch op wrote them into blocks of
// batch_pool(), data/pinned_buffers.h) skip step 1 when they need no conversion: each such array
// is copied to the slot straight from the pipeline's buffer. Such a buffer returns to its pool
// when its last reference goes, and the pool hands it to a worker thread to overwrite, so the
// slots keep a reference to the buffers of the last two batches: at load(i), after the host
// waited for the `copied` event of batch i - 2, its buffers are dropped (release_held() drops
// them all after waiting). No block is rewritten while a copy may still read it, and the host
// waits, as with the staging pool, only for a copy two batches back.
//
// Used by the model's loop thread only (not thread-safe); the batch pool itself is thread-safe.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "model/pinned_pool.h"

namespace ff::data {
class HostBuffer;
class PinnedBufferPool;
}  // namespace ff::data

namespace ff {

struct HostArray;

class InputSlots {
 public:
  explicit InputSlots(Device& device);
  ~InputSlots();
  InputSlots(const InputSlots&) = delete;
  InputSlots& operator=(const InputSlots&) = delete;

  // One array of a batch and the device buffer (a plan's input or target) it is loaded into:
  // `count` rows of `src` (the rows listed in `rows`, or its first `count`), converted to
  // dst's dtype (Float32 or Int64). dst holds exactly `count` rows.
  struct Item {
    Tensor* dst;
    const HostArray* src;
  };
  // Arrays whose HostArray::owner is pinned, in dst's dtype, with rows null, are copied from
  // there directly; the others are staged.
  void load(const std::vector<Item>& items, const int64_t* rows, int64_t count);
  // Waits for the copies of the batches still held and drops their buffers (end of a loop).
  void release_held();

  // The pool a pipeline writes its batches into for this device (made with the slots; the
  // model's loop refills it between batches, never during a capture).
  const std::shared_ptr<data::PinnedBufferPool>& batch_pool() const { return batch_pool_; }

  struct Stats {
    int64_t batches = 0;
    int64_t slot_batches[2] = {0, 0};  // batches that went through each slot
    int64_t slot_allocations = 0;      // device slot buffers allocated (grown)
    int64_t copy_stream_waits = 0;     // waits of the copy stream for a slot to be emptied
    int64_t compute_stream_waits = 0;  // waits of the compute stream for a batch's copy
    int64_t direct_arrays = 0;         // arrays copied straight from a pipeline's pinned buffer
    int64_t staged_arrays = 0;         // arrays gathered/converted into the staging pool first
    int64_t held_waits = 0;            // host waits before dropping a held pinned batch
  };
  const Stats& stats() const { return stats_; }
  const PinnedPool& pool() const { return pool_; }
  StreamId copy_stream() const { return copy_stream_; }
  // The device address of slot k (for tests of the alternation); null before its first batch.
  const void* slot_address(int k) const { return slots_[k & 1].buffer; }

 private:
  struct Slot {
    void* buffer = nullptr;
    size_t capacity = 0;
    EventId consumed = 0;  // recorded on the compute stream after the slot was last read
  };
  struct Held {
    std::vector<std::shared_ptr<const data::HostBuffer>> buffers;
    EventId copied = 0;
  };
  Device* device_;
  PinnedPool pool_;
  std::shared_ptr<data::PinnedBufferPool> batch_pool_;
  std::deque<Held> held_;  // pinned pipeline buffers of the last batches, with their copy's event
  StreamId copy_stream_ = -1;
  Slot slots_[2];
  int next_ = 0;
  Stats stats_;
};

}  // namespace ff
