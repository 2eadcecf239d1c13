// The model on a GPU-like device (tests/cpp/emulated_gpu.h: memory the host cannot address,
// steps captured as graphs with frozen arguments) against the CPU: every loss, metric, optimizer,
// clipping, loss scaling, learning-rate schedules, dropout, errors raised from a replayed step,
// check-numerics, the captured-step bookkeeping (model_loops.cpp, "captured steps") and the host
// reads an epoch makes (docs/backend-contract.md, "When the host reads").
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "core/numerics.h"
#include "emulated_gpu.h"
#include "layers/activation_layer.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "model/sequential.h"
#include "optimizers/loss_scale.h"
#include "test_util.h"

namespace {

constexpr int64_t kFeatures = 5, kClasses = 3, kRows = 70;  // batches of 16: 4 full, one of 6

enum class LossKind { Sparse, Categorical, Binary, Mse, Mae, Huber };

struct Config {
  LossKind loss = LossKind::Sparse;
  std::function<std::unique_ptr<ff::Optimizer>()> optimizer = [] {
    return ff::make_adam({}, {});
  };
  bool dropout = true;
  bool loss_scale = false;
  int epochs = 3;
  int64_t batch = 16;
  // Called between steps (a hook every batch), e.g. to change the learning rate.
  std::function<void(ff::Model&, int64_t)> between_steps;
};

struct Data {
  std::vector<float> x, yf;
  std::vector<int64_t> yi;
  ff::HostArray xs() const { return {x.data(), {kRows, kFeatures}, ff::DType::Float32}; }
  ff::HostArray ys(LossKind k) const {
    if (k == LossKind::Sparse) return {yi.data(), {kRows}, ff::DType::Int64};
    return {yf.data(), {kRows, kClasses}, ff::DType::Float32};
  }
};

Data make_data(LossKind k) {
  Data d;
  d.x = fftest::uniform_values(kRows * kFeatures, 5, -1.0f, 1.0f);
  for (int64_t i = 0; i < kRows; ++i) d.yi.push_back((i * 7) % kClasses);
  if (k == LossKind::Categorical) {
    for (int64_t i = 0; i < kRows; ++i)
      for (int64_t c = 0; c < kClasses; ++c) d.yf.push_back(c == d.yi[i] ? 1.0f : 0.0f);
  } else if (k == LossKind::Binary) {
    for (int64_t i = 0; i < kRows * kClasses; ++i) d.yf.push_back(((i * 5) % 3) == 0 ? 1.0f : 0.0f);
  } else {
    d.yf = fftest::uniform_values(kRows * kClasses, 9, -2.0f, 2.0f);
  }
  return d;
}

ff::OutputSpec output_spec(LossKind k) {
  ff::OutputSpec spec;
  spec.name = "out";
  switch (k) {
    case LossKind::Sparse:
      spec.loss = ff::make_sparse_categorical_crossentropy(true);
      spec.metrics.push_back(ff::make_sparse_categorical_accuracy("accuracy"));
      break;
    case LossKind::Categorical:
      spec.loss = ff::make_categorical_crossentropy(true);
      spec.metrics.push_back(ff::make_categorical_accuracy("accuracy"));
      break;
    case LossKind::Binary:
      spec.loss = ff::make_binary_crossentropy(true);
      spec.metrics.push_back(ff::make_binary_accuracy("binary_accuracy", 0.0f));
      break;
    case LossKind::Mse:
      spec.loss = ff::make_mean_squared_error();
      spec.metrics.push_back(ff::make_mean_error("mae", 1));
      break;
    case LossKind::Mae:
      spec.loss = ff::make_mean_absolute_error();
      spec.metrics.push_back(ff::make_mean_error("mse", 2));
      break;
    case LossKind::Huber:
      spec.loss = ff::make_huber(0.5f);
      break;
  }
  return spec;
}

std::shared_ptr<ff::Sequential> make_model(ff::Backend& be, const Config& c) {
  auto m = std::make_shared<ff::Sequential>(be);
  m->add(std::make_shared<ff::Dense>("hidden", 11, 16, "relu", true, "glorot_uniform", "zeros"));
  if (c.dropout) m->add(std::make_shared<ff::Dropout>("dropout", 12, 0.3f));
  m->add(std::make_shared<ff::Dense>("hidden2", 13, 8, "linear", true, "glorot_uniform", "zeros"));
  m->add(std::make_shared<ff::ActivationLayer>("gelu", 14, "gelu"));
  m->add(std::make_shared<ff::Dense>("out", 15, kClasses, "linear", true, "glorot_uniform",
                                     "zeros"));
  m->build({ff::kNone, kFeatures});
  m->Model::compile({output_spec(c.loss)}, std::shared_ptr<ff::Optimizer>(c.optimizer()));
  if (c.loss_scale) m->set_loss_scale(std::make_shared<ff::DynamicLossScale>(1024.0f, 3));
  return m;
}

struct Run {
  std::vector<float> weights;
  std::vector<ff::Logs> logs;
  ff::Logs eval;
  std::vector<float> predictions;
  ff::Model::GraphStats stats;
  int64_t iterations;
};

Run train(ff::Backend& be, const Config& c) {
  auto m = make_model(be, c);
  const Data d = make_data(c.loss);
  ff::LoopOptions loop;
  loop.batch_size = c.batch;
  if (c.between_steps) {
    loop.hook = [&](bool, int64_t step, const ff::Logs&) {
      c.between_steps(*m, step);
      return false;
    };
    loop.hook_every_batch = true;
  }
  Run r;
  for (int e = 0; e < c.epochs; ++e)
    r.logs.push_back(m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, e),
                                    e, loop));
  loop.hook = nullptr;
  r.eval = m->evaluate({d.xs()}, {d.ys(c.loss)}, loop);
  r.predictions.resize(static_cast<size_t>(kRows * kClasses));
  m->predict({d.xs()}, {r.predictions.data()}, loop);
  r.weights = fftest::all_params(*m);
  r.stats = m->graph_stats();
  r.iterations = m->optimizer()->iterations();
  return r;
}

ff::Backend& cpu() { return ff::backend_for(ff::DeviceType::CPU); }
ff::Backend& gpu() { return fftest::emulated_gpu_backend(); }

// The same training on both: bit-identical weights, logs and outputs (the same kernels), and the
// emulated GPU replayed captured steps.
void check_same(const Config& c) {
  const int64_t launches = fftest::emulated_gpu_device().graph_launches();
  const Run a = train(cpu(), c);
  const Run b = train(gpu(), c);
  CHECK(a.weights == b.weights);
  CHECK(a.logs == b.logs);
  CHECK(a.eval == b.eval);
  CHECK(a.predictions == b.predictions);
  CHECK(a.iterations == b.iterations);
  // The bookkeeping is the same on both; only the emulated GPU captures and replays.
  CHECK(a.stats.captures == b.stats.captures);
  CHECK(a.stats.launches == 0);
  CHECK(b.stats.fallbacks == 0);
  CHECK(b.stats.last_error == "");
  CHECK(b.stats.launches > 0);
  CHECK(fftest::emulated_gpu_device().graph_launches() - launches == b.stats.launches);
  CHECK_FALSE(fftest::emulated_gpu_device().capturing());
}

struct NumericsOn {
  NumericsOn() { ff::CheckNumerics::set(true); }
  ~NumericsOn() { ff::CheckNumerics::set(false); }
};

}  // namespace

TEST_CASE("training on the emulated GPU matches the CPU bit for bit, every loss and metric",
          "[captured_steps]") {
  for (LossKind k : {LossKind::Sparse, LossKind::Categorical, LossKind::Binary, LossKind::Mse,
                     LossKind::Mae, LossKind::Huber}) {
    INFO("loss " << static_cast<int>(k));
    Config c;
    c.loss = k;
    check_same(c);
  }
}

TEST_CASE("training on the emulated GPU matches the CPU bit for bit, every optimizer",
          "[captured_steps]") {
  std::vector<std::pair<std::string, std::function<std::unique_ptr<ff::Optimizer>()>>> optimizers{
      {"sgd momentum nesterov", [] { return ff::make_sgd({0.05f}, {0.9f, true}); }},
      {"adam amsgrad", [] { return ff::make_adam({}, {0.9f, 0.999f, 1e-7f, true}); }},
      {"adamw", [] { return ff::make_adamw({0.01f, 0, 0, 0, 0.05f}, {}); }},
      {"rmsprop centered momentum", [] { return ff::make_rmsprop({}, {0.9f, 0.5f, 1e-7f, true}); }},
      {"adagrad", [] { return ff::make_adagrad({0.1f}, {}); }},
      {"clipvalue", [] { return ff::make_sgd({0.1f, 0, 0.01f}, {}); }},
      {"clipnorm", [] { return ff::make_sgd({0.1f, 0.05f}, {}); }},
      {"global_clipnorm", [] { return ff::make_adam({0.01f, 0, 0, 0.1f}, {}); }},
      {"piecewise schedule", [] {
         auto o = ff::make_sgd({0.1f}, {0.5f, false});
         o->set_schedule(ff::make_piecewise_constant_decay({3.0, 7.0}, {0.1, 0.05, 0.01}));
         return o;
       }},
      {"exponential schedule", [] {
         auto o = ff::make_adam({}, {});
         o->set_schedule(ff::make_exponential_decay(0.01, 2.0, 0.5, false));
         return o;
       }},
  };
  for (const auto& [name, make] : optimizers) {
    INFO(name);
    Config c;
    c.optimizer = make;
    check_same(c);
  }
}

TEST_CASE("loss scaling and a learning rate changed between steps replay exactly",
          "[captured_steps]") {
  Config c;
  c.loss_scale = true;
  check_same(c);
  // A callback's learning rate reaches the replayed steps through the step-state block.
  Config lr;
  lr.optimizer = [] { return ff::make_sgd({0.1f}, {}); };
  lr.between_steps = [](ff::Model& m, int64_t step) {
    m.optimizer()->set_learning_rate(0.1f / static_cast<float>(step + 1));
  };
  check_same(lr);
}

TEST_CASE("captures: one per signature, the first step eager, the partial batch its own",
          "[captured_steps]") {
  for (ff::Backend* be : {&cpu(), &gpu()}) {
    INFO(be->name());
    Config c;
    auto m = make_model(*be, c);
    const Data d = make_data(c.loss);
    ff::LoopOptions loop;
    loop.batch_size = 16;
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, 0), 0, loop);
    // Batches 16 (x4) then 6: the second step of 16 was captured, the 6 ran once (eagerly).
    CHECK(m->graph_stats().captures == 1);
    CHECK(m->graph_stats().signatures.at(0) ==
          "train (batch of 16: input (16, 5) float32, target (16,) int64)");
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, 1), 1, loop);
    CHECK(m->graph_stats().captures == 2);  // the partial batch's second sight
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, 2), 2, loop);
    CHECK(m->graph_stats().captures == 2);
    m->evaluate({d.xs()}, {d.ys(c.loss)}, loop);
    CHECK(m->graph_stats().captures == 3);  // evaluate's 16
    // A larger batch grows the training buffers: the training graphs are captured again.
    loop.batch_size = 35;
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, 3), 3, loop);
    CHECK(m->graph_stats().captures == 4);
    // Freezing a layer changes the update: every graph is dropped.
    m->layers().at(0)->trainable = false;
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, 4), 4, loop);
    CHECK(m->graph_stats().captures == 5);
    CHECK(m->graph_stats().train_captures == 4);
    const bool gpu_run = be == &gpu();
    CHECK((m->graph_stats().launches > 0) == gpu_run);
    CHECK(m->graph_stats().eager_steps + m->graph_stats().launches == 5 + 5 + 5 + 5 + 2 + 2);
  }
}

TEST_CASE("captures: switching TF32 or op determinism between epochs captures the steps again",
          "[captured_steps]") {
  // The GEMM and convolution plans a graph froze were chosen under the old setting.
  struct RestoreMathMode {
    bool tf32 = ff::math_mode().tf32, deterministic = ff::math_mode().deterministic;
    ~RestoreMathMode() {
      ff::math_mode().tf32 = tf32;
      ff::math_mode().deterministic = deterministic;
    }
  } restore;
  for (ff::Backend* be : {&cpu(), &gpu()}) {
    INFO(be->name());
    Config c;
    auto m = make_model(*be, c);
    const Data d = make_data(c.loss);
    ff::LoopOptions loop;
    loop.batch_size = 16;
    auto epoch = [&](int e) {
      m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, e), e, loop);
      return m->graph_stats().captures;
    };
    epoch(0);
    const int64_t settled = epoch(1);  // both signatures (16 and the last 6) captured
    CHECK(epoch(2) == settled);
    ff::math_mode().tf32 = !restore.tf32;
    const int64_t after_tf32 = epoch(3);
    CHECK(after_tf32 == settled + 1);  // the 16 again; the 6 is seen once (eager)
    CHECK(epoch(4) == after_tf32 + 1);  // the 6 on its second sight
    CHECK(epoch(5) == after_tf32 + 1);
    ff::math_mode().deterministic = !restore.deterministic;
    CHECK(epoch(6) == after_tf32 + 2);
    ff::math_mode().tf32 = restore.tf32;
    ff::math_mode().deterministic = restore.deterministic;
  }
}

namespace {

// An identity layer that synchronises the device in its forward pass when asked: a step that
// cannot be captured.
class SyncingLayer final : public ff::Layer {
 public:
  explicit SyncingLayer(bool* sync) : Layer("syncing", "SyncingLayer", 1), sync_(sync) {}
  void forward(const ff::Tensor& x, ff::Tensor& y, std::vector<ff::Tensor>&,
               const ff::StepContext& ctx) override {
    ctx.backend->copy(y.raw(), x.raw(), x.nbytes());
    if (*sync_) ctx.backend->device().synchronize();
  }
  void backward(const ff::Tensor&, const ff::Tensor&, const ff::Tensor& dy, ff::Tensor* dx,
                std::vector<ff::Tensor>&, const ff::StepContext& ctx) override {
    if (dx) ctx.backend->copy(dx->raw(), dy.raw(), dy.nbytes());
  }

 protected:
  ff::Shape compute_output_shape(const ff::Shape& in) override { return in; }

 private:
  bool* sync_;
};

}  // namespace

TEST_CASE("a step that cannot be captured ends the capture and runs eagerly", "[captured_steps]") {
  bool sync = false;
  auto build = [&](ff::Backend& be) {
    auto m = std::make_shared<ff::Sequential>(be);
    m->add(std::make_shared<ff::Dense>("hidden", 11, 8, "relu", true, "glorot_uniform", "zeros"));
    m->add(std::make_shared<SyncingLayer>(&sync));
    m->add(std::make_shared<ff::Dense>("out", 15, kClasses, "linear", true, "glorot_uniform",
                                       "zeros"));
    m->build({ff::kNone, kFeatures});
    m->Model::compile({output_spec(LossKind::Sparse)}, ff::make_adam({}, {}));
    return m;
  };
  const Data d = make_data(LossKind::Sparse);
  ff::LoopOptions loop;
  loop.batch_size = 14;  // 5 steps
  sync = true;
  auto on_gpu = build(gpu());
  auto on_cpu = build(cpu());
  on_gpu->train_epoch({d.xs()}, {d.ys(LossKind::Sparse)}, {}, 0, loop);
  on_cpu->train_epoch({d.xs()}, {d.ys(LossKind::Sparse)}, {}, 0, loop);
  const ff::Model::GraphStats& s = on_gpu->graph_stats();
  CHECK(s.captures == 1);
  CHECK(s.fallbacks == 1);
  CHECK(s.launches == 0);
  CHECK(s.eager_steps == 5);
  CHECK_THAT(s.last_error, Catch::Contains("synchronize") &&
                               Catch::Contains("train (batch of 14"));
  CHECK_FALSE(fftest::emulated_gpu_device().capturing());
  // Every step ran once, eagerly: the same weights as the CPU.
  CHECK(fftest::all_params(*on_gpu) == fftest::all_params(*on_cpu));
  CHECK(on_gpu->optimizer()->iterations() == 5);
}

TEST_CASE("errors recorded in a replayed step are raised exactly", "[captured_steps]") {
  Config c;
  c.dropout = false;
  Data d = make_data(LossKind::Sparse);
  ff::LoopOptions loop;
  loop.batch_size = 10;  // 7 steps
  SECTION("a bad label") {
    auto m = make_model(gpu(), c);
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, {}, 0, loop);  // captured from step 2
    REQUIRE(m->graph_stats().launches == 6);
    d.yi[43] = 7;  // batch 4, row 3
    const std::vector<float> w0 = fftest::all_params(*m);
    REQUIRE_THROWS_WITH(m->train_epoch({d.xs()}, {d.ys(c.loss)}, {}, 1, loop),
                        Catch::Contains("label value of 7") &&
                            Catch::Contains("sample index 43"));
    // Batches 0..3 applied, none after.
    CHECK(m->optimizer()->iterations() == 7 + 4);
    CHECK(m->train_steps() == 7 + 4);
    CHECK(fftest::all_params(*m) != w0);
  }
  SECTION("check-numerics names the layer from a replayed step") {
    NumericsOn numerics;
    auto m = make_model(gpu(), c);
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, {}, 0, loop);
    REQUIRE(m->graph_stats().launches == 6);
    std::vector<float> kernel(static_cast<size_t>(8 * kClasses), 0.1f);
    kernel[2] = std::numeric_limits<float>::quiet_NaN();
    m->set_parameter(4, kernel.data());  // "out"'s kernel
    REQUIRE_THROWS_WITH(m->train_epoch({d.xs()}, {d.ys(c.loss)}, {}, 1, loop),
                        Catch::Contains("layer \"out\" (Dense)") && Catch::Contains("forward") &&
                            Catch::Contains("epoch 2, step 1"));
    CHECK(m->graph_stats().launches == 7);  // the failing step was a replay
    CHECK(m->optimizer()->iterations() == 7);
  }
}

TEST_CASE("an epoch on the emulated GPU reads the host only at its sync points",
          "[captured_steps]") {
  Config c;
  auto m = make_model(gpu(), c);
  const Data d = make_data(c.loss);
  fftest::EmulatedGpuDevice& device = fftest::emulated_gpu_device();
  ff::LoopOptions loop;
  loop.batch_size = 8;  // 9 steps
  for (int e = 0; e < 2; ++e) {
    const int64_t reads = device.host_reads(), syncs = device.synchronizations();
    m->train_epoch({d.xs()}, {d.ys(c.loss)}, ff::Model::shuffled_order(kRows, 3, e), e, loop);
    CHECK(device.host_reads() - reads == 1);  // the epoch's end
    CHECK(device.synchronizations() - syncs == 0);
  }
  CHECK(m->graph_stats().launches >= 7 + 8);
  // A hook every batch (a callback asked for batch logs): one read per call.
  int calls = 0;
  loop.hook = [&](bool, int64_t, const ff::Logs&) {
    ++calls;
    return false;
  };
  loop.hook_every_batch = true;
  int64_t reads = device.host_reads();
  m->train_epoch({d.xs()}, {d.ys(c.loss)}, {}, 2, loop);
  CHECK(calls == 9);
  CHECK(device.host_reads() - reads == calls + 1);
  // The progress bar: at most one read per interval (an interval longer than the epoch: none).
  loop.hook_every_batch = false;
  loop.hook_interval_s = 3600.0;
  calls = 0;
  reads = device.host_reads();
  m->train_epoch({d.xs()}, {d.ys(c.loss)}, {}, 3, loop);
  CHECK(calls == 0);
  CHECK(device.host_reads() - reads == 1);
  // evaluate reads once; predict once per output plus the end, whatever the number of batches.
  loop.hook = nullptr;
  reads = device.host_reads();
  m->evaluate({d.xs()}, {d.ys(c.loss)}, loop);
  CHECK(device.host_reads() - reads == 1);
  std::vector<float> out(static_cast<size_t>(kRows * kClasses));
  reads = device.host_reads();
  const int64_t syncs = device.synchronizations();
  m->predict({d.xs()}, {out.data()}, loop);
  CHECK(device.host_reads() - reads == 1 + 1);
  CHECK(device.synchronizations() - syncs == 0);
}

TEST_CASE("models on a device that captures share one lock, on the CPU each has its own",
          "[captured_steps]") {
  // A capture takes every piece of work on the compute stream, whichever thread enqueued it: two
  // models on one GPU in two threads must take turns, or one's kernels land in the other's graph.
  ff::Sequential a(gpu()), b(gpu());
  CHECK(&a.mutex() == &b.mutex());
  CHECK(&a.mutex() == gpu().device().models_mutex().get());
  ff::Sequential c(cpu()), d(cpu());
  CHECK(&c.mutex() != &d.mutex());
  // While one thread holds a GPU model's lock, another cannot enter a second GPU model.
  std::unique_lock<std::recursive_mutex> held(a.mutex());
  bool entered = true;
  std::thread other([&] { entered = b.mutex().try_lock(); if (entered) b.mutex().unlock(); });
  other.join();
  CHECK_FALSE(entered);
}
