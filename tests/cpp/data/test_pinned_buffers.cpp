// Tests of data/pinned_buffers.cpp and the pinned batches of a pipeline (HostBuffer over a
// PinnedBufferPool, IterationOptions through batch, prefetch, repeat, take, skip): blocks come
// from the device only in refill(), are bounded per size, go back to the pool when the batch is
// dropped and are reused; a miss, an exhausted bound or a device without pinned memory gives
// pageable memory; a plain pass and an op after the batch stay pageable. A small fake device
// stands in for the GPU (this file also runs in the ThreadSanitizer build, without the backend).
#include <catch2/catch.hpp>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <set>
#include <thread>
#include <vector>

#include "data/ops.h"
#include "data/pinned_buffers.h"
#include "pipeline_util.h"

namespace {

using ff::data::HostBuffer;
using ff::data::PinnedBufferPool;

// Pinned memory is malloc'd and remembered; everything else is unused by the pool.
class FakePinnedDevice final : public ff::Device {
 public:
  explicit FakePinnedDevice(bool can_pin = true) : can_pin_(can_pin) {}
  ~FakePinnedDevice() override = default;
  ff::DeviceType type() const override { return ff::DeviceType::CUDA; }
  std::string name() const override { return "fake-pinned"; }
  int64_t memory_capacity() const override { return int64_t{1} << 30; }
  void* allocate_pinned(size_t bytes) override {
    if (!can_pin_) throw std::bad_alloc();
    void* p = std::malloc(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    live_.insert(p);
    ++allocations_;
    allocation_threads_.insert(std::this_thread::get_id());
    return p;
  }
  void deallocate_pinned(void* ptr, size_t) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_.erase(ptr);
    }
    std::free(ptr);
  }
  bool is_pinned(const void* p) const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_.count(const_cast<void*>(p)) > 0;
  }
  size_t live() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_.size();
  }
  int64_t allocations() const { return allocations_; }
  std::set<std::thread::id> allocation_threads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return allocation_threads_;
  }
  void copy_from_host(void*, const void*, size_t, ff::StreamId) override {}
  void copy(void*, const void*, size_t, ff::StreamId) override {}
  void zero(void*, size_t, ff::StreamId) override {}
  void* host_address(void*) const override { return nullptr; }
  ff::StreamId create_stream() override { return 1; }
  ff::EventId record_event(ff::StreamId) override { return 1; }
  void stream_wait_event(ff::StreamId, ff::EventId) override {}
  void wait_event(ff::EventId) override {}

 protected:
  void* allocate_bytes(size_t) override { throw std::bad_alloc(); }
  void deallocate_bytes(void*, size_t) override {}
  void read_to_host(void*, const void*, size_t, ff::StreamId) override {}
  void read_to_host_async(void*, const void*, size_t, ff::StreamId) override {}
  void synchronize_all() override {}

 private:
  bool can_pin_;
  mutable std::mutex mu_;
  std::set<void*> live_;
  std::atomic<int64_t> allocations_{0};
  std::set<std::thread::id> allocation_threads_;
};

// `rows` float32 rows of 4 values (row r holds r, r, r, r).
ff::data::DatasetPtr float_rows(int64_t rows) {
  void* dst = nullptr;
  auto c = ff::data::Component::make(ff::data::ValueType::Float32, {rows, 4}, &dst);
  for (int64_t i = 0; i < rows * 4; ++i) static_cast<float*>(dst)[i] = static_cast<float>(i / 4);
  return ff::data::from_tensor_slices({c});
}

ff::data::IterationOptions pinned_by(const std::shared_ptr<PinnedBufferPool>& pool) {
  ff::data::IterationOptions o;
  o.pinned = pool;
  return o;
}

}  // namespace

TEST_CASE("PinnedBufferPool misses then refills to its bound and reuses given-back blocks",
          "[data][pinned_buffers]") {
  FakePinnedDevice dev;
  auto pool = std::make_shared<PinnedBufferPool>(dev, 2);
  const int64_t live = HostBuffer::live_count();
  {
    // Nothing allocated yet: pageable, and the miss asks for the size's bound of blocks.
    auto a = HostBuffer::allocate(6000, pool);
    CHECK_FALSE(a->pinned());
    CHECK(HostBuffer::live_count() == live + 1);
    CHECK(dev.allocations() == 0);
  }
  pool->refill();
  CHECK(dev.allocations() == 2);
  void* first = nullptr;
  {
    auto a = HostBuffer::allocate(6000, pool);
    auto b = HostBuffer::allocate(5000, pool);  // the same 8 KiB size
    auto c = HostBuffer::allocate(6000, pool);  // exhausted: pageable
    REQUIRE(a->pinned());
    CHECK(b->pinned());
    CHECK(dev.is_pinned(a->data()));
    CHECK_FALSE(c->pinned());
    CHECK(HostBuffer::live_count() == live + 3);
    CHECK(pool->stats().lent == 2);
    first = a->data();
  }
  // Dropped: the blocks are back in the pool (no longer live buffers), not freed.
  CHECK(HostBuffer::live_count() == live);
  CHECK(pool->stats().lent == 0);
  CHECK(dev.live() == 2);
  pool->refill();  // at the bound: nothing more
  CHECK(dev.allocations() == 2);
  {
    auto a = HostBuffer::allocate(6000, pool);
    CHECK(a->data() == first);  // reused (the last given back first)
    // A smaller size takes a free block of up to twice its size rather than missing.
    auto small = HostBuffer::allocate(4000, pool);
    CHECK(small->pinned());
  }
  CHECK(pool->stats().blocks == 2);
  CHECK(pool->stats().misses == 2);
  // A size over twice the largest has its own blocks.
  { auto big = HostBuffer::allocate(100000, pool); CHECK_FALSE(big->pinned()); }
  pool->refill();
  CHECK(dev.allocations() == 4);
  CHECK(PinnedBufferPool::rounded(100000) == (size_t{128} << 10));
  { auto big = HostBuffer::allocate(100000, pool); CHECK(big->pinned()); }
  pool.reset();
  CHECK(dev.live() == 0);  // the pool freed its blocks
}

TEST_CASE("PinnedBufferPool falls back to pageable memory when the device cannot pin",
          "[data][pinned_buffers]") {
  FakePinnedDevice dev(false);
  auto pool = std::make_shared<PinnedBufferPool>(dev, 4);
  { auto a = HostBuffer::allocate(64, pool); CHECK_FALSE(a->pinned()); }
  CHECK_NOTHROW(pool->refill());
  auto b = HostBuffer::allocate(64, pool);
  CHECK_FALSE(b->pinned());
  CHECK(pool->stats().blocks == 0);
}

TEST_CASE("a pass asked for pinned batches writes them into the pool, within its bound, from "
          "the worker threads, and the device is called from the consumer's thread only",
          "[data][pinned_buffers]") {
  FakePinnedDevice dev;
  auto pool = std::make_shared<PinnedBufferPool>(dev, 0);
  // 10 rows: batches of 4, 4, 2; prefetched two deep, repeated twice.
  auto ds = ff::data::prefetch(ff::data::repeat(ff::data::batch(float_rows(10), 4, false), 2), 2);
  for (int pass = 0; pass < 3; ++pass) {
    auto it = ds->make_iterator_for(pinned_by(pool));
    ff::data::Element e;
    int n = 0;
    std::vector<float> values;
    while (it->next(e)) {
      ++n;
      const auto* p = static_cast<const float*>(e[0].data());
      values.insert(values.end(), p, p + e[0].numel());
      if (pass > 0) {
        // After the first pass every batch finds a free block.
        CHECK(e[0].bytes->pinned());
        CHECK(dev.is_pinned(e[0].data()));
      }
      pool->refill();  // the consumer's part: the blocks the misses asked for
    }
    CHECK(n == 6);
    REQUIRE(values.size() == 80);
    for (size_t i = 0; i < 40; ++i) CHECK(values[i] == static_cast<float>(i / 4));
  }
  // The bound: (prefetch depth 2 + 3) x 1 component; both sizes (4 rows, 2 rows) are one 4 KiB
  // size. Allocated in the first pass only, never more than the bound.
  const auto s = pool->stats();
  CHECK(s.max_per_size == 5);
  CHECK(s.blocks <= 5);
  CHECK(s.blocks >= 1);
  CHECK(dev.allocation_threads() == std::set<std::thread::id>{std::this_thread::get_id()});
  CHECK(s.lent == 0);
}

TEST_CASE("a plain pass and an op after the batch stay pageable", "[data][pinned_buffers]") {
  FakePinnedDevice dev;
  auto pool = std::make_shared<PinnedBufferPool>(dev, 4);
  { auto warm = HostBuffer::allocate(64, pool); }
  pool->refill();
  REQUIRE(pool->stats().blocks == 4);
  auto batched = ff::data::batch(float_rows(4), 4, false);
  ff::data::Element e;
  auto plain = batched->make_iterator();
  REQUIRE(plain->next(e));
  CHECK_FALSE(e[0].bytes->pinned());
  // take/skip forward the options; a map after the batch makes new buffers, so it asks for none.
  auto through = ff::data::skip(ff::data::take(batched, 1), 0)->make_iterator_for(pinned_by(pool));
  REQUIRE(through->next(e));
  CHECK(e[0].bytes->pinned());
  e.clear();
  auto mapped = ff::data::map(batched, [](const ff::data::Element& in, int64_t, uint64_t) {
    return in;
  }, 1, "identity")->make_iterator_for(pinned_by(pool));
  REQUIRE(mapped->next(e));
  CHECK_FALSE(e[0].bytes->pinned());
}

TEST_CASE("PinnedBufferPool is safe to take from and give back to on several threads",
          "[data][pinned_buffers]") {
  FakePinnedDevice dev;
  auto pool = std::make_shared<PinnedBufferPool>(dev, 4);
  { auto b = HostBuffer::allocate(256, pool); (void)b; }
  pool->refill();
  REQUIRE(pool->stats().blocks == 4);
  std::atomic<int64_t> pinned{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto b = HostBuffer::allocate(256, pool);
        static_cast<char*>(b->data())[0] = 1;
        pinned += b->pinned();
      }
    });
  for (auto& t : threads) t.join();
  CHECK(pinned.load() > 0);
  const auto s = pool->stats();
  CHECK(s.lent == 0);
  CHECK(s.takes == pinned.load());
  CHECK(dev.allocations() == 4);
}
