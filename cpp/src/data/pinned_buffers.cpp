// PinnedBufferPool (see pinned_buffers.h).
#include "data/pinned_buffers.h"

#include <algorithm>

namespace ff::data {

size_t PinnedBufferPool::rounded(size_t bytes) {
  // Whole 4 KiB pages below 64 KiB, whole 64 KiB above: batches a little smaller than the last
  // (a ragged dataset) share a size, and small columns do not take 64 KiB each.
  const size_t granule = bytes <= (size_t{64} << 10) ? size_t{4} << 10 : size_t{64} << 10;
  if (bytes == 0) return granule;
  if (bytes > SIZE_MAX - granule) return 0;  // never pinned
  return (bytes + granule - 1) / granule * granule;
}

PinnedBufferPool::PinnedBufferPool(Device& device, size_t max_per_size, size_t max_sizes)
    : device_(&device), max_sizes_(max_sizes) {
  stats_.max_per_size = std::min(max_per_size, kMaxPerSize);
}

PinnedBufferPool::~PinnedBufferPool() {
  // Every HostBuffer over a block holds the pool (shared_ptr), so all blocks are back by now.
  for (auto& [capacity, bucket] : buckets_)
    for (void* p : bucket.free) {
      try {
        device_->deallocate_pinned(p, capacity);
      } catch (...) {  // a destructor must not throw (a device shutting down at exit)
      }
    }
}

void PinnedBufferPool::reserve_per_size(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t bound = std::max(stats_.max_per_size, std::min(n, kMaxPerSize));
  if (bound == stats_.max_per_size) return;
  stats_.max_per_size = bound;
  // Every size here missed once and asked for the old bound's blocks: it asks for the rest now.
  for (auto& [capacity, b] : buckets_)
    if (b.blocks < bound) b.wanted = bound - b.blocks;
}

PinnedBufferPool::Block PinnedBufferPool::take(size_t bytes) {
  const size_t capacity = rounded(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  if (capacity == 0 || stats_.max_per_size == 0) return {};
  // Its own size first, else the smallest free block of up to twice the size.
  for (auto it = buckets_.lower_bound(capacity);
       it != buckets_.end() && it->first / 2 <= capacity; ++it) {
    Bucket& b = it->second;
    if (b.free.empty()) continue;
    void* p = b.free.back();
    b.free.pop_back();
    ++stats_.takes;
    ++stats_.lent;
    return {p, it->first};
  }
  ++stats_.misses;
  auto it = buckets_.find(capacity);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sizes_) return {};  // too many sizes: this one stays pageable
    it = buckets_.emplace(capacity, Bucket{}).first;
  }
  Bucket& b = it->second;
  if (b.blocks < stats_.max_per_size) b.wanted = stats_.max_per_size - b.blocks;
  return {};
}

void PinnedBufferPool::give_back(const Block& block) {
  std::lock_guard<std::mutex> lock(mu_);
  buckets_[block.capacity].free.push_back(block.data);
  --stats_.lent;
}

void PinnedBufferPool::refill() {
  // Allocations happen outside the lock (they are slow); the counts are claimed under it first.
  std::vector<std::pair<size_t, size_t>> todo;  // (capacity, blocks)
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [capacity, b] : buckets_) {
      if (!b.wanted) continue;
      todo.emplace_back(capacity, b.wanted);
      b.blocks += b.wanted;  // claimed: a concurrent miss does not ask for them again
      b.wanted = 0;
    }
  }
  for (size_t t = 0; t < todo.size(); ++t) {
    auto [capacity, n] = todo[t];
    for (size_t i = 0; i < n; ++i) {
      void* p = nullptr;
      try {
        p = device_->allocate_pinned(capacity);
      } catch (...) {
        // Out of page-locked memory: stop asking (this and the unallocated claims stay pageable).
        std::lock_guard<std::mutex> lock(mu_);
        for (size_t u = t; u < todo.size(); ++u)
          buckets_[todo[u].first].blocks -= (u == t ? n - i : todo[u].second);
        stats_.max_per_size = 0;
        return;
      }
      std::lock_guard<std::mutex> lock(mu_);
      buckets_[capacity].free.push_back(p);
      ++stats_.allocations;
      ++stats_.blocks;
      stats_.bytes += capacity;
    }
  }
}

PinnedBufferPool::Stats PinnedBufferPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace ff::data
