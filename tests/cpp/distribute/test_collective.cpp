// The collectives of ff.distribute (distribute/collective.h) over the TCP transport
// (distribute/tcp_collective.h), with every worker a thread of this process on localhost: the
// fixed-order all-reduce gives the rank-order sum bit for bit (chunks of every size, empty ones
// included), all-gather, broadcast and barrier, and the failures: a worker that never answers
// (named, after the timeout), one that closed its connection, workers in different collectives
// or with different sizes, and a rendezvous with a missing worker or mismatched world sizes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "distribute/collective.h"
#include "distribute/tcp_collective.h"

namespace {

// A port that was free a moment ago (the kernel's choice for port 0).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Runs body(collective) on `n` workers (threads) joined through one rendezvous; returns each
// worker's exception (null when it finished).
std::vector<std::exception_ptr> run_workers(int n, const std::function<void(ff::Collective&)>& body,
                                            double timeout = 20.0) {
  const int port = free_port();
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      try {
        ff::TcpCollective c(r, n, "127.0.0.1", port, timeout);
        body(c);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  return errors;
}

void rethrow_any(const std::vector<std::exception_ptr>& errors) {
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// The value worker r contributes at index i (distinct, with rounding in the sums).
float value(int r, int64_t i) {
  return 0.1f * static_cast<float>(r + 1) + 1e-3f * static_cast<float>(i % 97) / 3.0f;
}

struct Caught {
  ff::DistributedError::Kind kind;
  std::string what;
};
Caught caught(const std::exception_ptr& e) {
  REQUIRE(e);
  try {
    std::rethrow_exception(e);
  } catch (const ff::DistributedError& d) {
    return {d.kind, d.what()};
  }
  FAIL("not a DistributedError");
  return {};
}

}  // namespace

TEST_CASE("chunk_of splits n among parts, the first n % parts one longer", "[distribute]") {
  CHECK(ff::chunk_of(10, 3, 0).begin == 0);
  CHECK(ff::chunk_of(10, 3, 0).count == 4);
  CHECK(ff::chunk_of(10, 3, 1).begin == 4);
  CHECK(ff::chunk_of(10, 3, 1).count == 3);
  CHECK(ff::chunk_of(10, 3, 2).begin == 7);
  CHECK(ff::chunk_of(10, 3, 2).count == 3);
  CHECK(ff::chunk_of(1, 3, 0).count == 1);
  CHECK(ff::chunk_of(1, 3, 2).count == 0);
  CHECK(ff::chunk_of(1, 3, 2).begin == 1);
}

TEST_CASE("the all-reduce sums in rank order, bit for bit, for any chunking", "[distribute]") {
  for (int n : {2, 3}) {
    for (int64_t len : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{1000}, int64_t{100003}}) {
      std::vector<std::vector<float>> results(static_cast<size_t>(n));
      rethrow_any(run_workers(n, [&](ff::Collective& c) {
        std::vector<float> x(static_cast<size_t>(len));
        for (int64_t i = 0; i < len; ++i) x[static_cast<size_t>(i)] = value(c.rank(), i);
        c.allreduce_sum(x.data(), len, "a test all-reduce");
        results[static_cast<size_t>(c.rank())] = std::move(x);
      }));
      for (int64_t i = 0; i < len; ++i) {
        float expected = value(0, i);
        for (int r = 1; r < n; ++r) expected += value(r, i);
        for (int r = 0; r < n; ++r) {
          INFO("workers " << n << ", length " << len << ", index " << i << ", worker " << r);
          REQUIRE(results[static_cast<size_t>(r)][static_cast<size_t>(i)] == expected);
        }
      }
    }
  }
}

TEST_CASE("doubles, all-gather, broadcast and barrier over three workers", "[distribute]") {
  const int n = 3;
  std::vector<std::vector<double>> sums(n);
  std::vector<std::vector<int64_t>> gathered(n);
  std::vector<std::vector<char>> broadcast(n);
  rethrow_any(run_workers(n, [&](ff::Collective& c) {
    std::vector<double> d = {1.0 + c.rank(), 0.5 * c.rank()};
    c.allreduce_sum(d.data(), 2, "doubles");
    sums[static_cast<size_t>(c.rank())] = d;
    gathered[static_cast<size_t>(c.rank())] = c.allgather({c.rank() * 10, -c.rank()}, "gather");
    std::vector<char> bytes(5, static_cast<char>('a' + c.rank()));
    c.broadcast(bytes.data(), bytes.size(), 1, "broadcast");
    broadcast[static_cast<size_t>(c.rank())] = bytes;
    c.barrier("barrier");
  }));
  for (int r = 0; r < n; ++r) {
    CHECK(sums[r] == std::vector<double>{6.0, 1.5});
    CHECK(gathered[r] == std::vector<int64_t>{0, 0, 10, -1, 20, -2});
    CHECK(broadcast[r] == std::vector<char>(5, 'b'));
  }
}

TEST_CASE("one worker: the collectives are the identity", "[distribute]") {
  ff::LocalCollective c;
  std::vector<float> x = {1.5f, 2.5f};
  c.allreduce_sum(x.data(), 2, "alone");
  CHECK(x == std::vector<float>{1.5f, 2.5f});
  CHECK(c.allgather({4, 5}, "alone") == std::vector<int64_t>{4, 5});
  CHECK(c.size() == 1);
}

TEST_CASE("a worker that never answers is named after the timeout", "[distribute]") {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto errors = run_workers(2, [&](ff::Collective& c) {
    if (c.rank() == 1) {  // hangs (until worker 0 gave up), then leaves
      released.wait();
      return;
    }
    c.set_timeout(0.5);
    std::vector<float> x(10, 1.0f);
    try {
      c.allreduce_sum(x.data(), 10, "the gradient all-reduce of epoch 1, step 3");
    } catch (...) {
      release.set_value();
      throw;
    }
    release.set_value();
  });
  const Caught e = caught(errors[0]);
  CHECK(e.kind == ff::DistributedError::Kind::DeadlineExceeded);
  CHECK_THAT(e.what, Catch::Contains("worker 1 (of 2) sent nothing for 0.5 s during the gradient "
                                     "all-reduce of epoch 1, step 3"));
  CHECK_THAT(e.what, Catch::Contains("FORGEFLOW_DISTRIBUTE_TIMEOUT"));
  // The collective is broken from then on: the next call fails at once, saying so.
}

TEST_CASE("after a failure the collective refuses every later call", "[distribute]") {
  auto errors = run_workers(2, [&](ff::Collective& c) {
    if (c.rank() == 1) return;  // leaves at once: its connection closes
    std::vector<float> x(4, 1.0f);
    try {
      c.allreduce_sum(x.data(), 4, "the first");
    } catch (const ff::DistributedError&) {
    }
    CHECK(c.broken());
    c.barrier("the second");
  });
  const Caught e = caught(errors[0]);
  CHECK(e.kind == ff::DistributedError::Kind::Aborted);
  CHECK_THAT(e.what, Catch::Contains("the second cannot run: an earlier collective"));
}

TEST_CASE("a worker whose process ended is named at once", "[distribute]") {
  // Worker 1 (or 0) may stop on worker 2's end and close its own connections before the other
  // sees worker 2's: then both ends are named, worker 2 always among them (run many times: the
  // order of the two ends varies with the machine's load).
  for (int round = 0; round < 20; ++round) {
    auto errors = run_workers(3, [&](ff::Collective& c) {
      if (c.rank() == 2) return;  // its sockets close when its collective goes
      c.barrier("the barrier");
    });
    for (int r : {0, 1}) {
      const Caught e = caught(errors[static_cast<size_t>(r)]);
      CHECK(e.kind == ff::DistributedError::Kind::Unavailable);
      const bool alone = e.what.find("worker 2 (of 3) closed its connection during the barrier") !=
                         std::string::npos;
      const bool with_other =
          e.what.find(std::string("workers ") + (r == 0 ? "1" : "0") +
                      " and 2 (of 3) closed their connections during the barrier") !=
          std::string::npos;
      INFO(e.what);
      CHECK((alone || with_other));
    }
    CHECK_FALSE(errors[2]);
  }
}

TEST_CASE("workers in different collectives or sizes fail instead of mixing data", "[distribute]") {
  auto errors = run_workers(2, [&](ff::Collective& c) {
    if (c.rank() == 0) {
      c.allgather({1}, "the step agreement");
    } else {
      char b = 0;
      c.broadcast(&b, 1, 1, "a broadcast");
    }
  });
  const Caught e = caught(errors[0]);
  CHECK(e.kind == ff::DistributedError::Kind::Aborted);
  CHECK_THAT(e.what, Catch::Contains("worker 1 (of 2) is in a broadcast"));
  CHECK_THAT(e.what, Catch::Contains("do not run the same program"));

  errors = run_workers(2, [&](ff::Collective& c) {
    std::vector<float> x(c.rank() == 0 ? 10 : 12, 1.0f);  // different models
    c.allreduce_sum(x.data(), static_cast<int64_t>(x.size()), "the gradient all-reduce");
  });
  // One worker sees the size and says so; the other may see it leave first.
  bool named = false;
  for (const auto& err : errors)
    if (err) {
      const Caught c = caught(err);
      if (c.what.find("the workers' models differ") == std::string::npos) continue;
      CHECK(c.kind == ff::DistributedError::Kind::Aborted);
      named = true;
    }
  CHECK(named);
}

TEST_CASE("the rendezvous names a missing worker and mismatched world sizes", "[distribute]") {
  const int port = free_port();
  // Worker 0 of 3 with only worker 1 started.
  std::exception_ptr zero, one;
  std::thread t0([&] {
    try {
      ff::TcpCollective c(0, 3, "127.0.0.1", port, 1.0);
    } catch (...) {
      zero = std::current_exception();
    }
  });
  std::thread t1([&] {
    try {
      ff::TcpCollective c(1, 3, "127.0.0.1", port, 1.0);
    } catch (...) {
      one = std::current_exception();
    }
  });
  t0.join();
  t1.join();
  const Caught e = caught(zero);
  CHECK(e.kind == ff::DistributedError::Kind::DeadlineExceeded);
  CHECK_THAT(e.what, Catch::Contains("worker(s) 2 of 3 did not join worker 0"));
  CHECK(one);

  const int port2 = free_port();
  std::exception_ptr a, b;
  std::thread ta([&] {
    try {
      ff::TcpCollective c(0, 2, "127.0.0.1", port2, 5.0);
    } catch (...) {
      a = std::current_exception();
    }
  });
  std::thread tb([&] {
    try {
      ff::TcpCollective c(1, 3, "127.0.0.1", port2, 1.0);
    } catch (...) {
      b = std::current_exception();
    }
  });
  ta.join();
  tb.join();
  const Caught m = caught(a);
  CHECK(m.kind == ff::DistributedError::Kind::Aborted);
  CHECK_THAT(m.what, Catch::Contains("worker 1 was started for 3 workers, worker 0 for 2"));
  CHECK(b);

  CHECK_THROWS_AS(ff::TcpCollective(2, 2, "127.0.0.1", port2, 1.0), ff::ValueError);
  CHECK_THROWS_AS(ff::TcpCollective(0, 2, "127.0.0.1", 0, 1.0), ff::ValueError);
}
