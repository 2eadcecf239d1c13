// Tests of model/pinned_pool.cpp: blocks of a device's pinned memory reused in least-recently-
// released order, the host waiting for a block's copy before it is handed out again, growth only
// for a larger batch, and the refusal when every block is held.
#include <catch2/catch.hpp>

#include "emulated_gpu.h"
#include "model/pinned_pool.h"

TEST_CASE("PinnedPool reuses its blocks and waits for their copies", "[pinned_pool]") {
  auto& d = fftest::emulated_gpu_device();
  ff::PinnedPool pool(d, 2);
  auto a = pool.acquire(1000);
  auto b = pool.acquire(1000);
  CHECK(a.data != b.data);
  CHECK(a.capacity >= 1000);
  CHECK(pool.stats().allocations == 2);
  const ff::EventId ea = d.record_event(0), eb = d.record_event(0);
  pool.release(a, ea);
  pool.release(b, eb);
  // The least recently released block comes back first, after the host waited for its copy.
  auto c = pool.acquire(500);
  CHECK(c.data == a.data);
  CHECK(pool.stats().waits == 1);
  CHECK(pool.stats().last_waited == ea);
  pool.release(c, 0);  // released without a copy: no wait next time
  auto e = pool.acquire(10);
  CHECK(e.data == b.data);
  CHECK(pool.stats().last_waited == eb);
  auto f = pool.acquire(10);
  CHECK(f.data == a.data);
  CHECK(pool.stats().waits == 2);
  CHECK(pool.stats().allocations == 2);  // nothing new for batches that fit
  // Every block held: a caller that never releases is told.
  CHECK_THROWS_WITH(pool.acquire(10), Catch::Contains("held"));
  pool.release(e, d.record_event(0));
  pool.release(f, d.record_event(0));
  // A larger batch replaces the oldest block by a larger one (after its copy).
  auto g = pool.acquire(size_t{1} << 20);
  CHECK(g.capacity >= (size_t{1} << 20));
  CHECK(pool.stats().allocations == 3);
  CHECK(pool.stats().frees == 1);
  CHECK(pool.stats().blocks == 2);
  pool.release(g, 0);
  // Releasing a block twice or one from elsewhere is refused.
  ff::PinnedPool::Block bogus{g.data, g.capacity, 7};
  CHECK_THROWS(pool.release(bogus, 0));
}

TEST_CASE("PinnedPool on the CPU hands out ordinary host memory", "[pinned_pool]") {
  ff::PinnedPool pool(ff::cpu_device(), 3);
  auto a = pool.acquire(64);
  static_cast<char*>(a.data)[63] = 1;  // writable host memory
  pool.release(a, ff::cpu_device().record_event(0));
  auto b = pool.acquire(64);
  CHECK(b.data == a.data);
  pool.release(b, 0);
}
