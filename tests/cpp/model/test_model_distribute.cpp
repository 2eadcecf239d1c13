// Data-parallel training of Model (model/model_distribute.cpp, the loop's side in
// model_loops.cpp), each worker a thread of this process with its own model, joined by the TCP
// collective on localhost: 2 and 3 workers sharing each global batch train to the weights of one
// model on the same global batches (within float rounding) and bit-identically run to run,
// including a last global batch with fewer rows than workers (a worker with an empty share);
// weights are broadcast from worker 0; logs are summed over the workers; a stop asked on one
// worker stops all at the same step; a worker whose data ends first takes part with empty steps;
// diverged weights are named at the end of the epoch.
//
// Worker 0 runs on fftest::backend() (the emulated GPU under FORGEFLOW_TEST_DEVICE=emulated-gpu:
// its gradients then go through host memory and its steps are not captured), the others on the
// CPU: one emulated device cannot serve several threads as several workers, and a mix of
// devices must train alike anyway.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "backend/registry.h"
#include "core/errors.h"
#include "distribute/tcp_collective.h"
#include "layers/dense.h"
#include "model/array_source.h"
#include "model/sequential.h"
#include "test_util.h"

namespace {

constexpr int64_t kFeatures = 5, kClasses = 3;

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

ff::Backend& backend_of(int worker) {
  return worker == 0 ? fftest::backend() : ff::backend_for(ff::DeviceType::CPU);
}

// `seed_offset` changes the initial weights (worker 0's are broadcast to the others).
std::shared_ptr<ff::Sequential> mlp(uint64_t seed_offset = 0, int worker = 0) {
  auto m = std::make_shared<ff::Sequential>(backend_of(worker));
  m->add(std::make_shared<ff::Dense>("hidden", 11 + seed_offset, 8, "relu", true, "glorot_uniform",
                                     "zeros"));
  m->add(std::make_shared<ff::Dense>("out", 13 + seed_offset, kClasses, "linear", true,
                                     "glorot_uniform", "zeros"));
  m->build({ff::kNone, kFeatures});
  ff::OutputSpec spec;
  spec.name = "out";
  spec.loss = ff::make_sparse_categorical_crossentropy(true);
  spec.metrics.push_back(ff::make_sparse_categorical_accuracy("accuracy"));
  ff::OptimizerOptions o;
  o.learning_rate = 0.1f;
  m->Model::compile({spec}, ff::make_adam(o, {}));
  return m;
}

struct Data {
  std::vector<float> x;
  std::vector<int64_t> y;
  int64_t rows;
  ff::HostArray xs() const { return {x.data(), {rows, kFeatures}, ff::DType::Float32}; }
  ff::HostArray ys() const { return {y.data(), {rows}, ff::DType::Int64}; }
};

Data make_data(int64_t rows) {
  Data d{fftest::uniform_values(rows * kFeatures, 5, -1.0f, 1.0f), {}, rows};
  for (int64_t i = 0; i < rows; ++i) d.y.push_back((i * 7) % kClasses);
  return d;
}

std::vector<int64_t> epoch_order(int64_t rows, int64_t epoch) {
  return ff::Model::shuffled_order(rows, 99, epoch);
}

struct Result {
  std::vector<float> weights;
  std::vector<ff::Logs> logs;  // per epoch
  int64_t steps = 0;           // of the last epoch
};

// `epochs` epochs over `d` in global batches of `batch`, on `n` workers (threads); `per_epoch`
// runs on each worker before each epoch (tests make it misbehave).
std::vector<Result> train(int n, const Data& d, int64_t batch, int epochs,
                          const std::function<void(int, int, ff::Model&)>& per_epoch = {},
                          std::vector<std::exception_ptr>* errors = nullptr,
                          const std::function<bool(int, int64_t)>& hook = {}) {
  std::vector<Result> results(static_cast<size_t>(n));
  std::vector<std::exception_ptr> caught(static_cast<size_t>(n));
  const int port = free_port();
  auto work = [&](int r) {
    try {
      auto m = mlp(static_cast<uint64_t>(r), r);  // different initial weights on every worker
      if (n > 1) {
        m->set_collective(std::make_shared<ff::TcpCollective>(r, n, "127.0.0.1", port, 30.0));
        m->broadcast_weights(0);
      }
      for (int e = 0; e < epochs; ++e) {
        if (per_epoch) per_epoch(r, e, *m);
        ff::ArraySource source({d.xs()}, {d.ys()}, epoch_order(d.rows, e), batch);
        ff::LoopOptions opts;
        opts.batch_size = batch;
        if (hook) {
          opts.hook = [&, r](bool, int64_t step, const ff::Logs&) { return hook(r, step); };
          opts.hook_every_batch = true;
        }
        int64_t steps = 0;
        results[static_cast<size_t>(r)].logs.push_back(
            m->run_loop(source, ff::LoopMode::Train, e, -1, opts, nullptr, &steps));
        results[static_cast<size_t>(r)].steps = steps;
      }
      results[static_cast<size_t>(r)].weights = fftest::all_params(*m);
    } catch (...) {
      caught[static_cast<size_t>(r)] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) threads.emplace_back(work, r);
  for (auto& t : threads) t.join();
  if (errors) {
    *errors = caught;
  } else {
    for (auto& e : caught)
      if (e) std::rethrow_exception(e);
  }
  return results;
}

}  // namespace

TEST_CASE("2 and 3 workers train to one model's weights on the same global batches",
          "[distribute][model]") {
  fftest::ScopedThreads one(1);
  // 26 rows in global batches of 8: 8, 8, 8, 2 (with 3 workers the last shares are 1, 1, 0).
  const Data d = make_data(26);
  const std::vector<Result> single = train(1, d, 8, 3);
  for (int n : {2, 3}) {
    INFO(n << " workers");
    const std::vector<Result> a = train(n, d, 8, 3);
    const std::vector<Result> b = train(n, d, 8, 3);
    for (int r = 0; r < n; ++r) {
      // Bit-identical on every worker and from run to run.
      REQUIRE(a[static_cast<size_t>(r)].weights == a[0].weights);
      REQUIRE(b[static_cast<size_t>(r)].weights == a[0].weights);
      // The logs are the global batch's: the same on every worker, and one model's.
      for (size_t e = 0; e < 3; ++e)
        for (size_t k = 0; k < single[0].logs[e].size(); ++k) {
          CHECK(a[static_cast<size_t>(r)].logs[e][k].second == a[0].logs[e][k].second);
          CHECK(a[static_cast<size_t>(r)].logs[e][k].second ==
                Approx(single[0].logs[e][k].second).epsilon(1e-5));
        }
    }
    REQUIRE(a[0].weights.size() == single[0].weights.size());
    for (size_t i = 0; i < a[0].weights.size(); ++i)
      REQUIRE(a[0].weights[i] == Approx(single[0].weights[i]).margin(1e-5));
  }
  // The workers started from different weights (worker 0's were broadcast).
  CHECK(fftest::all_params(*mlp(0)) != fftest::all_params(*mlp(1)));
}

TEST_CASE("a stop asked on one worker stops every worker at the same step", "[distribute][model]") {
  fftest::ScopedThreads one(1);
  const Data d = make_data(64);
  // Worker 1's hook asks to stop after its 3rd step; worker 0's never does.
  const std::vector<Result> r =
      train(2, d, 8, 1, {}, nullptr, [](int rank, int64_t step) { return rank == 1 && step == 3; });
  CHECK(r[0].steps == 3);
  CHECK(r[1].steps == 3);
  CHECK(r[0].weights == r[1].weights);
}

TEST_CASE("diverged weights are named at the end of the epoch", "[distribute][model]") {
  fftest::ScopedThreads one(1);
  const Data d = make_data(24);
  std::vector<std::exception_ptr> errors;
  // Before epoch 2, worker 1 changes one weight on its own.
  train(
      3, d, 6, 2,
      [](int rank, int epoch, ff::Model& m) {
        if (rank != 1 || epoch != 1) return;
        std::vector<float> w(static_cast<size_t>(m.parameters()[0].value.numel()));
        m.get_parameter(0, w.data());
        w[0] += 0.5f;
        m.set_parameter(0, w.data());
      },
      &errors);
  for (int r = 0; r < 3; ++r) {
    REQUIRE(errors[static_cast<size_t>(r)]);
    try {
      std::rethrow_exception(errors[static_cast<size_t>(r)]);
    } catch (const ff::DistributedError& e) {
      CHECK(e.kind == ff::DistributedError::Kind::Aborted);
      CHECK_THAT(std::string(e.what()),
                 Catch::Contains("after epoch 2 the weights of worker 1 differ from those of "
                                 "workers 0 and 2 (the majority): worker 1 has diverged"));
    }
  }
  // With two workers there is no majority: worker 1 is named against worker 0.
  train(
      2, d, 6, 2,
      [](int rank, int epoch, ff::Model& m) {
        if (rank != 1 || epoch != 1) return;
        std::vector<float> w(static_cast<size_t>(m.parameters()[0].value.numel()));
        m.get_parameter(0, w.data());
        w[1] -= 0.25f;
        m.set_parameter(0, w.data());
      },
      &errors);
  REQUIRE(errors[0]);
  CHECK_THROWS_WITH(std::rethrow_exception(errors[0]),
                    Catch::Contains("worker 1 differ from those of worker 0 (no majority"));
}

TEST_CASE("a worker without data takes part in the steps of the others", "[distribute][model]") {
  fftest::ScopedThreads one(1);
  // Each worker's own data (a source sharded by file): worker 0 has 3 batches, worker 1 one.
  const Data d0 = make_data(24), d1 = make_data(8);
  std::vector<std::vector<float>> weights(2);
  std::vector<int64_t> steps(2);
  std::vector<ff::Logs> logs(2);
  const int port = free_port();
  auto work = [&](int r) {
    auto m = mlp(0, r);
    m->set_collective(std::make_shared<ff::TcpCollective>(r, 2, "127.0.0.1", port, 30.0));
    const Data& d = r == 0 ? d0 : d1;
    // A source that ignores set_replica (its data is this worker's already).
    struct Own final : ff::BatchSource {
      ff::ArraySource inner;
      explicit Own(const Data& d) : inner({d.xs()}, {d.ys()}, {}, 8) {}
      bool next(ff::Batch& b) override { return inner.next(b); }
    } source(d);
    ff::LoopOptions opts;
    opts.batch_size = 8;
    logs[static_cast<size_t>(r)] = m->run_loop(source, ff::LoopMode::Train, 0, -1, opts, nullptr,
                                               &steps[static_cast<size_t>(r)]);
    weights[static_cast<size_t>(r)] = fftest::all_params(*m);
  };
  std::thread t0(work, 0), t1(work, 1);
  t0.join();
  t1.join();
  CHECK(steps[0] == 3);
  CHECK(steps[1] == 3);
  CHECK(weights[0] == weights[1]);
  CHECK(logs[0] == logs[1]);
}

TEST_CASE("ArraySource gives each worker its rows of every global batch", "[distribute]") {
  const Data d = make_data(5);
  const std::vector<int64_t> order = {4, 3, 2, 1, 0};
  // Global batches of 4 and 1 rows over 3 workers: shares 2, 1, 1 then 1, 0, 0.
  std::vector<std::vector<int64_t>> rows(3), counts(3);
  for (int r = 0; r < 3; ++r) {
    ff::ArraySource source({d.xs()}, {d.ys()}, order, 4);
    source.set_replica(r, 3);
    ff::Batch b;
    while (source.next(b)) {
      CHECK(b.global_count == (counts[static_cast<size_t>(r)].empty() ? 4 : 1));
      counts[static_cast<size_t>(r)].push_back(b.count);
      for (int64_t i = 0; i < b.count; ++i) rows[static_cast<size_t>(r)].push_back(b.rows[i]);
    }
  }
  CHECK(counts[0] == std::vector<int64_t>{2, 1});
  CHECK(counts[1] == std::vector<int64_t>{1, 0});
  CHECK(counts[2] == std::vector<int64_t>{1, 0});
  CHECK(rows[0] == std::vector<int64_t>{4, 3, 0});
  CHECK(rows[1] == std::vector<int64_t>{2});
  CHECK(rows[2] == std::vector<int64_t>{1});
}
