// NCCL's gradient reducer (distribute/nccl_reducer.cpp, backend/cuda/cuda_nccl.cu) on a GPU
// machine with one worker (scripts/gpu-check.sh runs it: "[nccl]"): NCCL starts through the
// host collective, buckets are summed (with one worker: their own values, through NCCL's send to
// itself and the rank-order kernel), and a model whose captured training steps hold the bucketed
// all-reduce trains to exactly the bits of the same model without it; the non-blocking
// initialisation completes, and one whose peer never comes ends at the timeout (aborted) instead
// of waiting forever. On a machine without a GPU these tests fail loudly; they are only selected
// where there is one.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda_loader.h"
#include "backend/parity_util.h"
#include "core/rng.h"
#include "distribute/nccl_reducer.h"
#include "layers/dense.h"
#include "model/array_source.h"
#include "model/sequential.h"
#include "test_util.h"

namespace {

std::vector<float> train(ff::Backend& gpu, std::shared_ptr<ff::GradientReducer> reducer,
                         ff::Model::GraphStats* stats) {
  ff::Sequential m(gpu);
  m.add(std::make_shared<ff::Dense>("hidden", 21, 64, "relu", true, "glorot_uniform", "zeros"));
  m.add(std::make_shared<ff::Dense>("out", 22, 10, "linear", true, "glorot_uniform", "zeros"));
  m.build({ff::kNone, 32});
  ff::OutputSpec spec;
  spec.name = "out";
  spec.loss = ff::make_sparse_categorical_crossentropy(true);
  ff::OptimizerOptions o;
  o.learning_rate = 0.01f;
  m.Model::compile({spec}, ff::make_adam(o, {}));
  if (reducer) m.set_gradient_reducer(reducer);
  const int64_t rows = 200;
  const std::vector<float> x = fftest::uniform_values(rows * 32, 4, -1.0f, 1.0f);
  std::vector<int64_t> y;
  for (int64_t i = 0; i < rows; ++i) y.push_back(i % 10);
  const ff::HostArray xs{x.data(), {rows, 32}, ff::DType::Float32};
  const ff::HostArray ys{y.data(), {rows}, ff::DType::Int64};
  for (int e = 0; e < 3; ++e) {
    ff::ArraySource source({xs}, {ys}, ff::Model::shuffled_order(rows, 3, e), 16);
    m.run_loop(source, ff::LoopMode::Train, e, -1, ff::LoopOptions{});
  }
  if (stats) *stats = m.graph_stats();
  return fftest::all_params(m);
}

}  // namespace

TEST_CASE("NCCL with one worker: buckets sum to their own values", "[cuda][nccl]") {
  ff::Backend& gpu = fftest::parity::gpu();
  std::string why;
  const bool available = ff::nccl_available(&why);
  INFO(why);
  REQUIRE(available);
  ff::LocalCollective host;
  auto reducer = ff::nccl_reducer(host, gpu, 64);
  CHECK(reducer->name() == "nccl");
  CHECK(reducer->size() == 1);
  const std::vector<float> values = fftest::uniform_values(1000, 8, -2.0f, 2.0f);
  ff::Tensor t = fftest::parity::put(gpu, {1000}, values);
  reducer->prepare(1000);
  reducer->begin_step();
  reducer->reduce(t.data<float>() + 600, 400);
  reducer->reduce(t.data<float>(), 600);
  reducer->end_step();
  CHECK(fftest::parity::get(t) == values);
}

TEST_CASE("NCCL with one worker: captured steps hold the bucketed all-reduce", "[cuda][nccl]") {
  ff::Backend& gpu = fftest::parity::gpu();
  ff::LocalCollective host;
  // Buckets of 4 KiB: the 2,762 weights go in several, overlapping the backward pass.
  auto reducer = ff::nccl_reducer(host, gpu, 4096);
  ff::Model::GraphStats plain_stats, nccl_stats;
  const std::vector<float> plain = train(gpu, nullptr, &plain_stats);
  const std::vector<float> with_nccl = train(gpu, reducer, &nccl_stats);
  CHECK(with_nccl == plain);
  CHECK(nccl_stats.fallbacks == 0);
  INFO(nccl_stats.last_error);
  CHECK(nccl_stats.train_captures == plain_stats.train_captures);
  CHECK(nccl_stats.launches > 0);
}

TEST_CASE("NCCL with one worker: the non-blocking start completes, the watchdog stays quiet",
          "[cuda][nccl]") {
  ff::Backend& gpu = fftest::parity::gpu();
  ff::LocalCollective host;
  host.set_timeout(30.0);
  auto reducer = ff::nccl_reducer(host, gpu, 64);
  REQUIRE(reducer);
  // Steps launched and finished: no failure to raise (the watchdog follows them).
  const std::vector<float> values = fftest::uniform_values(300, 9, -1.0f, 1.0f);
  ff::Tensor t = fftest::parity::put(gpu, {300}, values);
  for (int step = 0; step < 3 * 8; ++step) {  // more steps than the watchdog's slots
    reducer->prepare(300);
    reducer->begin_step();
    reducer->reduce(t.data<float>(), 300);
    reducer->end_step();
    reducer->step_launched();
  }
  CHECK(fftest::parity::get(t) == values);
  CHECK_NOTHROW(reducer->check());
}

TEST_CASE("NCCL: an initialisation whose peer never comes ends at the timeout, aborted",
          "[cuda][nccl]") {
  // A communicator of 2 workers that only worker 0 joins: NCCL's rendezvous never completes.
  ff::Backend& gpu = fftest::parity::gpu();
  const std::string device = gpu.device().name();
  REQUIRE(device.rfind("cuda:", 0) == 0);
  const ff::CudaNcclApi& api = ff::cuda_nccl_api();
  REQUIRE(api.unique_id);
  REQUIRE(api.reducer);
  char id[128] = {0};
  char message[1024] = {0};
  REQUIRE(api.unique_id(id, message, sizeof message) == 1);
  int status = -1;
  ff::GradientReducer* reducer = api.reducer(std::atoi(device.c_str() + 5), id, 0, 2, 4096, 2.0,
                                             message, sizeof message, &status);
  INFO(message);
  CHECK(reducer == nullptr);
  CHECK(status == 2);
  CHECK(std::string(message).find("NCCL's communicator initialisation did not complete within "
                                  "2 s on worker 0 (of 2)") != std::string::npos);
  delete reducer;
}
