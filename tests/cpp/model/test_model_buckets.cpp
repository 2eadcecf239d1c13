// The bucketed gradient all-reduce of Model (model_distribute.cpp's start_buckets/node_done,
// driven by Model::backward), with a GradientReducer over the TCP collective standing in for
// NCCL: buckets are handed over from the end of the gradient buffer as layers finish (a shared
// layer only after its last use, a layer no gradient reaches only at the end, once it is
// zero-filled), cover the buffer exactly once per step, and give the bits of the whole-buffer
// all-reduce.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "backend/registry.h"
#include "distribute/gradient_reducer.h"
#include "distribute/tcp_collective.h"
#include "layers/dense.h"
#include "model/array_source.h"
#include "test_util.h"

namespace {

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

// Sums each bucket at once through the host collective, and records the buckets.
class HostReducer final : public ff::GradientReducer {
 public:
  HostReducer(std::shared_ptr<ff::Collective> c, int64_t bucket_bytes)
      : c_(std::move(c)), bucket_bytes_(bucket_bytes) {}
  std::string name() const override { return "host"; }
  int rank() const override { return c_->rank(); }
  int size() const override { return c_->size(); }
  int64_t bucket_bytes() const override { return bucket_bytes_; }
  int max_buckets() const override { return 64; }
  void prepare(int64_t elements) override { prepared = std::max(prepared, elements); }
  // (Catch's assertions are not for worker threads: misuse throws, and train() rethrows.)
  void begin_step() override {
    if (open) throw std::logic_error("begin_step twice");
    open = true;
    steps.emplace_back();
  }
  void reduce(float* data, int64_t n) override {
    if (!open || n > prepared) throw std::logic_error("reduce outside a step or unprepared");
    steps.back().push_back({data, n});
    c_->allreduce_sum(data, n, "a bucket");
  }
  void end_step() override {
    if (!open) throw std::logic_error("end_step without begin_step");
    open = false;
  }
  struct Bucket {
    float* data;
    int64_t n;
  };
  std::vector<std::vector<Bucket>> steps;
  int64_t prepared = 0;
  bool open = false;

 private:
  std::shared_ptr<ff::Collective> c_;
  int64_t bucket_bytes_;
};

constexpr int64_t kFeatures = 5, kRows = 20;

// in -> A -> B -> B -> C (loss), and A -> D (an output without a loss: no gradient reaches D).
// The gradient buffer holds the layers in first-use order: A, D, B, C.
std::shared_ptr<ff::Model> graph_model() {
  auto m = std::make_shared<ff::Model>(ff::backend_for(ff::DeviceType::CPU));
  const int in = m->add_input({ff::kNone, kFeatures});
  const int a = m->add_node(
      std::make_shared<ff::Dense>("a", 1, 8, "relu", true, "glorot_uniform", "zeros"), {in});
  const int d = m->add_node(
      std::make_shared<ff::Dense>("d", 4, 2, "linear", true, "glorot_uniform", "zeros"), {a});
  auto shared = std::make_shared<ff::Dense>("b", 2, 8, "tanh", true, "glorot_uniform", "zeros");
  const int b1 = m->add_node(shared, {a});
  const int b2 = m->add_node(shared, {b1});
  const int c = m->add_node(
      std::make_shared<ff::Dense>("c", 3, 3, "linear", true, "glorot_uniform", "zeros"), {b2});
  m->set_outputs({c, d});
  m->finalize();
  ff::OutputSpec out_c, out_d;
  out_c.name = "c";
  out_c.loss = ff::make_sparse_categorical_crossentropy(true);
  out_d.name = "d";
  ff::OptimizerOptions o;
  o.learning_rate = 0.05f;
  m->compile({out_c, out_d}, ff::make_adam(o, {}));
  return m;
}

struct Run {
  std::vector<float> weights;
  std::vector<std::vector<HostReducer::Bucket>> buckets;
  int64_t params = 0;
};

// Two workers, 2 epochs in global batches of 6; with buckets of `bucket_bytes` (0: none).
std::vector<Run> train(int64_t bucket_bytes) {
  std::vector<float> x = fftest::uniform_values(kRows * kFeatures, 9, -1.0f, 1.0f);
  std::vector<int64_t> y;
  for (int64_t i = 0; i < kRows; ++i) y.push_back(i % 3);
  const ff::HostArray xs{x.data(), {kRows, kFeatures}, ff::DType::Float32};
  const ff::HostArray ys{y.data(), {kRows}, ff::DType::Int64};
  std::vector<Run> runs(2);
  const int port = free_port();
  std::vector<std::exception_ptr> errors(2);
  auto work = [&](int r) {
    try {
      auto m = graph_model();
      auto c = std::make_shared<ff::TcpCollective>(r, 2, "127.0.0.1", port, 30.0);
      m->set_collective(c);
      std::shared_ptr<HostReducer> reducer;
      if (bucket_bytes > 0) {
        reducer = std::make_shared<HostReducer>(c, bucket_bytes);
        m->set_gradient_reducer(reducer);
      }
      for (int e = 0; e < 2; ++e) {
        ff::ArraySource source({xs}, {ys, ff::HostArray{}}, ff::Model::shuffled_order(kRows, 5, e),
                               6);
        ff::LoopOptions opts;
        m->run_loop(source, ff::LoopMode::Train, e, -1, opts);
      }
      Run& run = runs[static_cast<size_t>(r)];
      run.weights = fftest::all_params(*m);
      run.params = m->param_count();
      if (reducer) run.buckets = reducer->steps;
    } catch (...) {
      errors[static_cast<size_t>(r)] = std::current_exception();
    }
  };
  std::thread t0(work, 0), t1(work, 1);
  t0.join();
  t1.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return runs;
}

}  // namespace

TEST_CASE("bucketed gradient sums give the whole buffer's bits", "[distribute][model]") {
  fftest::ScopedThreads one(1);
  const std::vector<Run> whole = train(0);
  const std::vector<Run> bucketed = train(64);  // 16 floats: a bucket per layer or two
  REQUIRE(whole[0].weights == whole[1].weights);
  REQUIRE(bucketed[0].weights == whole[0].weights);
  REQUIRE(bucketed[1].weights == whole[0].weights);
  // Every step (4 steps of 6, 6, 6, 2 rows per epoch) hands over the buffer exactly once, from
  // its end down, in several buckets.
  const Run& r = bucketed[0];
  REQUIRE(r.buckets.size() == 8);
  for (const auto& step : r.buckets) {
    REQUIRE(step.size() > 1);
    int64_t covered = 0;
    const float* end = step.front().data + step.front().n;
    for (const auto& b : step) {
      REQUIRE(b.data + b.n == end);  // contiguous, descending
      end = b.data;
      covered += b.n;
    }
    REQUIRE(covered == r.params);
  }
}

TEST_CASE("a shared layer's bucket waits for its last use and an unreached one for the end",
          "[distribute][model]") {
  fftest::ScopedThreads one(1);
  // Buckets of one float: each layer is handed over as soon as it is final and everything
  // after it in the buffer is: C first, then B after its second (earlier) use, not its first;
  // A is final next but waits behind D, which no gradient reaches (zero-filled at the end), so
  // A and D go together last.
  const std::vector<Run> runs = train(4);
  auto m = graph_model();
  std::vector<int64_t> sizes;  // in buffer order: a, d, b, c
  for (const auto& layer : m->layers()) {
    int64_t n = 0;
    for (const auto& spec : layer->param_specs()) n += ff::shape_numel(spec.shape);
    sizes.push_back(n);
  }
  REQUIRE(m->layers()[1]->name() == "d");
  for (const auto& step : runs[0].buckets) {
    REQUIRE(step.size() == 3);
    CHECK(step[0].n == sizes[3]);             // c
    CHECK(step[1].n == sizes[2]);             // b
    CHECK(step[2].n == sizes[0] + sizes[1]);  // a and d
  }
}
