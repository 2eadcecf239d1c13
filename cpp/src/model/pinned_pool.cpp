// PinnedPool (see pinned_pool.h).
#include "model/pinned_pool.h"

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

namespace ff {
namespace {

// Capacities are rounded up to whole 64 KiB so that batches a little larger than the last one
// (a ragged dataset) reuse the block.
constexpr size_t kGranule = size_t{64} << 10;

size_t rounded(size_t bytes) {
  if (bytes > SIZE_MAX - kGranule) throw std::bad_alloc();
  return bytes == 0 ? kGranule : (bytes + kGranule - 1) / kGranule * kGranule;
}

}  // namespace

PinnedPool::PinnedPool(Device& device, size_t max_blocks)
    : device_(&device), max_blocks_(max_blocks < 1 ? 1 : max_blocks) {}

PinnedPool::~PinnedPool() {
  for (Entry& e : entries_) {
    try {
      free_entry(e);
    } catch (...) {  // a destructor must not throw
    }
  }
}

void PinnedPool::free_entry(Entry& e) {
  if (!e.data) return;
  // A copy may still read it: wait for it first (a block is never freed under a copy).
  if (e.ready) device_->wait_event(e.ready);
  device_->deallocate_pinned(e.data, e.capacity);
  ++stats_.frees;
  stats_.bytes -= e.capacity;
  e.data = nullptr;
  e.capacity = 0;
  e.ready = 0;
}

PinnedPool::Block PinnedPool::acquire(size_t bytes) {
  ++stats_.acquires;
  // The least recently released free block that is large enough; else the least recently
  // released free block of all (replaced by a larger one when the pool is full).
  Entry* best = nullptr;
  Entry* oldest = nullptr;
  for (Entry& e : entries_) {
    if (e.held) continue;
    if (!oldest || e.released < oldest->released) oldest = &e;
    if (e.capacity >= bytes && (!best || e.released < best->released)) best = &e;
  }
  if (!best) {
    if (entries_.size() < max_blocks_) {
      entries_.emplace_back();
      best = &entries_.back();
    } else if (oldest) {
      free_entry(*oldest);
      best = oldest;
    } else {
      throw std::logic_error("PinnedPool: all " + std::to_string(entries_.size()) +
                             " blocks are held (a block was never released)");
    }
    const size_t capacity = rounded(bytes);
    best->data = device_->allocate_pinned(capacity);
    best->capacity = capacity;
    best->ready = 0;
    ++stats_.allocations;
    stats_.bytes += capacity;
  } else if (best->ready) {
    device_->wait_event(best->ready);
    ++stats_.waits;
    stats_.last_waited = best->ready;
    best->ready = 0;
  }
  best->held = true;
  stats_.blocks = entries_.size();
  return Block{best->data, best->capacity, static_cast<int>(best - entries_.data())};
}

void PinnedPool::release(const Block& block, EventId copied) {
  if (block.index < 0 || static_cast<size_t>(block.index) >= entries_.size() ||
      entries_[static_cast<size_t>(block.index)].data != block.data)
    throw std::logic_error("PinnedPool: release of a block this pool did not hand out");
  Entry& e = entries_[static_cast<size_t>(block.index)];
  e.held = false;
  e.ready = copied;
  e.released = ++releases_;
}

}  // namespace ff
