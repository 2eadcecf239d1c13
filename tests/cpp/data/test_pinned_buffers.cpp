// Tests of data/pinned_buffers.cpp and the pinned batches of a pipeline (HostBuffer over a
// PinnedBufferPool, IterationOptions through batch, prefetch, repeat, take, skip, and a map after
// the batch, whose function's new components go into the pool through an OutputPoolScope):
// blocks come from the device only in refill(), are bounded per size, go back to the pool when
// the batch is dropped and are reused; a miss, an exhausted bound or a device without pinned
// memory gives pageable memory; a plain pass and an op that makes new batches (shuffle, cache)
// stay pageable. A small fake device stands in for the GPU (this file also runs in the
// ThreadSanitizer build, without the backend).
#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
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

TEST_CASE("a plain pass and an op that makes new batches stay pageable, take, skip and a map "
          "forward the pinning", "[data][pinned_buffers]") {
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
  // take/skip forward the options; so does a map (its function may pass components through).
  auto through = ff::data::skip(ff::data::take(batched, 1), 0)->make_iterator_for(pinned_by(pool));
  REQUIRE(through->next(e));
  CHECK(e[0].bytes->pinned());
  e.clear();
  auto mapped = ff::data::map(batched, [](const ff::data::Element& in, int64_t, uint64_t) {
    return in;
  }, 1, "identity")->make_iterator_for(pinned_by(pool));
  REQUIRE(mapped->next(e));
  CHECK(e[0].bytes->pinned());
  e.clear();
  // A shuffle of batches builds no batch of its own: it asks its input for none.
  auto shuffled = ff::data::shuffle(batched, 2, 1, true)->make_iterator_for(pinned_by(pool));
  REQUIRE(shuffled->next(e));
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

// ---- a map after the batch: its function's new components go into the pool ----
namespace {

// The threads a map function ran on.
struct Threads {
  std::mutex mu;
  std::set<std::thread::id> ids;
  void note() {
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  }
};

// Keeps component 0 (float32 rows of 4) as it is and appends a new float32 component: its
// values doubled (the C++ map functions make theirs with Component::make, as here).
ff::data::MapFn doubled(std::shared_ptr<Threads> threads) {
  return [threads](const ff::data::Element& in, int64_t, uint64_t) {
    threads->note();
    void* dst = nullptr;
    auto c = ff::data::Component::make(ff::data::ValueType::Float32, in[0].shape, &dst);
    const auto* x = static_cast<const float*>(in[0].data());
    for (int64_t i = 0; i < in[0].numel(); ++i) static_cast<float*>(dst)[i] = 2 * x[i];
    ff::data::Element out = in;
    out.push_back(c);
    return out;
  };
}

// Every value of every component of every element of a pass.
std::vector<float> values_of(ff::data::Iterator& it, std::vector<bool>* pinned = nullptr,
                             FakePinnedDevice* dev = nullptr,
                             const std::shared_ptr<PinnedBufferPool>& refill = nullptr) {
  std::vector<float> v;
  ff::data::Element e;
  while (it.next(e)) {
    for (const auto& c : e) {
      const auto* p = static_cast<const float*>(c.data());
      v.insert(v.end(), p, p + c.numel());
      if (pinned) pinned->push_back(c.bytes->pinned() && (!dev || dev->is_pinned(c.data())));
    }
    if (refill) refill->refill();  // the consumer's part
  }
  return v;
}

}  // namespace

TEST_CASE("a map after the batch writes the components its function creates into the pinned "
          "pool on the threads that run it, and passed-through components keep their blocks",
          "[data][pinned_buffers][map]") {
  for (int64_t workers : {int64_t{1}, int64_t{3}}) {
    INFO("workers " << workers);
    FakePinnedDevice dev;
    auto pool = std::make_shared<PinnedBufferPool>(dev, 0);
    auto threads = std::make_shared<Threads>();
    // 10 rows: batches of 4, 4, 2; mapped, prefetched two deep.
    auto ds = ff::data::prefetch(
        ff::data::map(ff::data::batch(float_rows(10), 4, false), doubled(threads), workers, "x2"),
        2);
    const std::vector<float> plain = values_of(*ds->make_iterator());
    REQUIRE(plain.size() == 80);
    for (int pass = 0; pass < 3; ++pass) {
      INFO("pass " << pass);
      std::vector<bool> pinned;
      auto it = ds->make_iterator_for(pinned_by(pool));
      CHECK(values_of(*it, &pinned, &dev, pool) == plain);
      REQUIRE(pinned.size() == 6);
      // Both components: the batch op's (passed through) and the function's (new). Misses (the
      // first batches of the first pass) are pageable; every later batch finds free blocks.
      if (pass > 0) CHECK(std::count(pinned.begin(), pinned.end(), false) == 0);
    }
    // Never on the consumer's thread: a worker's (or, inline, the prefetch thread's).
    CHECK(threads->ids.count(std::this_thread::get_id()) == 0);
    CHECK(dev.allocation_threads() == std::set<std::thread::id>{std::this_thread::get_id()});
    // The bound: per batch alive ((prefetch 2 + in the map's slots 2 x workers (none inline)) +
    // 3), its input component and the function's new one, all of one 4 KiB size.
    const auto s = pool->stats();
    const size_t queued = 2 + (workers == 1 ? 0 : 2 * static_cast<size_t>(workers));
    CHECK(s.max_per_size == (queued + 3) * 2);
    CHECK(s.blocks == s.max_per_size);
    CHECK(s.lent == 0);
  }
}

TEST_CASE("a map whose results are all new leaves its input pageable and writes its results "
          "into the pinned pool", "[data][pinned_buffers][map]") {
  FakePinnedDevice dev;
  auto pool = std::make_shared<PinnedBufferPool>(dev, 0);
  auto input_pinned = std::make_shared<std::atomic<int>>(0);
  // As the Python binding's function does: every result a copy.
  ff::data::MapFn copy = [input_pinned](const ff::data::Element& in, int64_t, uint64_t) {
    *input_pinned += in[0].bytes->pinned();
    void* dst = nullptr;
    auto c = ff::data::Component::make(ff::data::ValueType::Float32, in[0].shape, &dst);
    std::memcpy(dst, in[0].data(), in[0].nbytes());
    return ff::data::Element{c};
  };
  auto ds = ff::data::map(ff::data::batch(float_rows(10), 4, false), copy, 2, "copy",
                          ff::data::MapResults::AllNew);
  const std::vector<float> plain = values_of(*ds->make_iterator());
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<bool> pinned;
    auto it = ds->make_iterator_for(pinned_by(pool));
    CHECK(values_of(*it, &pinned, &dev, pool) == plain);
    REQUIRE(pinned.size() == 3);
    if (pass > 0) CHECK(std::count(pinned.begin(), pinned.end(), false) == 0);
  }
  CHECK(input_pinned->load() == 0);
  CHECK(pool->stats().max_per_size == (2 * 2 + 3) * 1);  // only the function's component
  CHECK(pool->stats().lent == 0);
}

TEST_CASE("a long run through a map after the batch stays within the pool's bound and every "
          "block goes back when its batch is dropped", "[data][pinned_buffers][map]") {
  FakePinnedDevice dev;
  auto pool = std::make_shared<PinnedBufferPool>(dev, 0);
  auto threads = std::make_shared<Threads>();
  // 64 batches a pass, 30 passes; every fifth pass abandoned after 5 batches (the map's workers
  // and the prefetch thread hold batches then).
  auto ds = ff::data::prefetch(
      ff::data::map(ff::data::batch(float_rows(256), 4, false), doubled(threads), 3, "x2"), 2);
  const int64_t live = HostBuffer::live_count();  // the source's array
  int64_t allocations_after_first = 0;
  int64_t pinned_later = 0, batches_later = 0;
  for (int pass = 0; pass < 30; ++pass) {
    {
      auto it = ds->make_iterator_for(pinned_by(pool));
      ff::data::Element e;
      int n = 0;
      while ((pass % 5 != 4 || n < 5) && it->next(e)) {
        ++n;
        if (pass > 0) {
          ++batches_later;
          pinned_later += e[0].bytes->pinned() && e[1].bytes->pinned();
        }
        pool->refill();
      }
      CHECK(n == (pass % 5 == 4 ? 5 : 64));
    }
    INFO("pass " << pass);
    // The iterator is gone: every block is back in the pool, no buffer is alive.
    const auto s = pool->stats();
    CHECK(s.lent == 0);
    CHECK(HostBuffer::live_count() == live);
    CHECK(s.blocks <= s.max_per_size);
    CHECK(dev.live() == s.blocks);
    if (pass == 0) allocations_after_first = dev.allocations();
  }
  CHECK(dev.allocations() == allocations_after_first);  // epochs reuse the blocks
  CHECK(pinned_later == batches_later);
  CHECK(pool->stats().max_per_size == (2 + 6 + 3) * 2);
}

TEST_CASE("OutputPoolScope: Component::make without a pool uses the innermost scope's pool on "
          "its thread only", "[data][pinned_buffers]") {
  FakePinnedDevice dev;
  auto pool = std::make_shared<PinnedBufferPool>(dev, 4);
  { auto warm = HostBuffer::allocate(64, pool); }
  pool->refill();
  auto make = [] {
    void* dst = nullptr;
    return ff::data::Component::make(ff::data::ValueType::Float32, {4}, &dst);
  };
  CHECK_FALSE(make().bytes->pinned());
  {
    ff::data::OutputPoolScope scope(pool);
    CHECK(make().bytes->pinned());
    bool other_thread = true;
    std::thread([&] { other_thread = make().bytes->pinned(); }).join();
    CHECK_FALSE(other_thread);
    {
      ff::data::OutputPoolScope plain(nullptr);  // an inner plain scope wins
      CHECK_FALSE(make().bytes->pinned());
    }
    CHECK(make().bytes->pinned());  // restored
  }
  CHECK_FALSE(make().bytes->pinned());
  CHECK(pool->stats().lent == 0);
}
