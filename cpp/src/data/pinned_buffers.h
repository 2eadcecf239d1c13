// PinnedBufferPool: page-locked host blocks (Device::allocate_pinned) that the pipeline's final
// batch op writes its batches into when the batches go to a device the host cannot address (a
// GPU), and a map after it the components its function creates (data/map.cpp), so that the
// model copies them asynchronously on its side stream without first staging them into pinned
// memory of its own (docs/backend-contract.md, "Batches").
//
// Thread-safe where it must be: take() runs on whichever pipeline worker makes the batch, and a
// block goes back (give_back, from HostBuffer's destructor) on whichever thread drops the last
// reference to its batch. Everything that talks to the device (allocate_pinned, deallocate_pinned)
// runs on the consumer's thread only, in refill() and the destructor: pinned allocation is slow
// (it may synchronise the device) and a worker thread must never call into the device while the
// model captures a step graph on another thread.
//
// So the pool never allocates on a take(): a take() that finds no free block of its size (nor a
// free one of up to twice the size: the last, smaller batch of an epoch takes a full batch's
// block) falls back to pageable memory (the model then stages that batch itself, as before) and
// asks for the size's whole bound of blocks (set by the batch op: (its prefetch depth + 3) x the
// batch's components of that size, the batches the pipeline and the consumer can hold at once;
// raised by a map after it for its workers' batches and the components its function creates),
// which the consumer's next refill() allocates. So the first few batches of the first epoch are
// pageable, every later one finds a free block, and nothing is allocated again (epochs reuse the
// blocks) unless the bound rises (a deeper prefetch).
//
// When may a block be reused? A block returns here as soon as the last HostBuffer over it is
// destroyed; the pool does not know about device copies. The rule that keeps it safe is the
// consumer's: whoever enqueues an asynchronous copy from a pinned batch keeps a reference to that
// HostBuffer until the host has waited for an event recorded after the copy (model/input_slots.h
// holds the last two batches and waits for the older one's event before dropping it). Holding the
// buffer, rather than handing the pool an event to check, keeps every device call (event waits
// included) on the model's thread and outside a capture.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "core/device.h"

namespace ff::data {

class PinnedBufferPool {
 public:
  // At most `max_per_size` blocks per rounded size and `max_sizes` sizes; 0 blocks: never pinned.
  explicit PinnedBufferPool(Device& device, size_t max_per_size = 3, size_t max_sizes = 8);
  ~PinnedBufferPool();  // frees every block (all must have been given back)
  PinnedBufferPool(const PinnedBufferPool&) = delete;
  PinnedBufferPool& operator=(const PinnedBufferPool&) = delete;

  // Raises the bound of blocks per size to at least n (capped at kMaxPerSize). A size that
  // missed already asks for the blocks the raise adds (the next refill() allocates them): a map
  // after the batch op raises the bound only once its function's first results exist, after
  // the batch op's first miss asked for the batch op's bound.
  void reserve_per_size(size_t n);
  static constexpr size_t kMaxPerSize = 256;

  // A free pinned block of at least `bytes`, or {null, 0} (none free: a miss is counted).
  // Any thread.
  struct Block {
    void* data = nullptr;
    size_t capacity = 0;
  };
  Block take(size_t bytes);
  // Returns a block from take(). Any thread. (HostBuffer's destructor calls it.)
  void give_back(const Block& block);
  // Allocates the blocks that misses asked for, within the bounds. The consumer's thread only,
  // never while it captures a graph.
  void refill();

  Device& device() const { return *device_; }
  struct Stats {
    int64_t allocations = 0;  // allocate_pinned calls
    int64_t takes = 0;        // take() calls that got a block
    int64_t misses = 0;       // take() calls that found none (the batch went pageable)
    size_t blocks = 0;        // blocks held by the pool (free or lent)
    size_t lent = 0;          // blocks lent out now
    size_t bytes = 0;         // capacity of all blocks
    size_t max_per_size = 0;  // the bound now
  };
  Stats stats() const;

  // The capacity (the bucket) a take(bytes) uses.
  static size_t rounded(size_t bytes);

 private:
  struct Bucket {
    std::vector<void*> free;  // most recently given back last (taken first: warm in cache)
    size_t blocks = 0;        // allocated for this size
    size_t wanted = 0;        // misses not yet refilled
  };
  Device* device_;
  size_t max_sizes_;
  mutable std::mutex mu_;
  std::map<size_t, Bucket> buckets_;  // by rounded capacity
  Stats stats_;
};

}  // namespace ff::data
