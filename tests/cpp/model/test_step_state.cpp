// The training step a GPU can capture (model/model_loops.cpp, backend/step_state.h): an epoch
// reads the step-state block from the host only at its sync points (one read at the end, one per
// hook call, one per step under check-numerics), the per-step values come from the block
// (learning-rate schedules, Adam's bias corrections, the dropout stream), and errors recorded in
// it (a bad label, a NaN under check-numerics) are raised exactly, with the model left as it was
// before the failing step.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "core/numerics.h"
#include "core/rng.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "model/array_source.h"
#include "model/sequential.h"
#include "test_util.h"

namespace {

constexpr int64_t kFeatures = 6, kClasses = 3;

std::shared_ptr<ff::Sequential> small_model(bool dropout = false) {
  auto m = std::make_shared<ff::Sequential>(fftest::backend());
  m->add(std::make_shared<ff::Dense>("hidden", 5, 8, "relu", true, "glorot_uniform", "zeros"));
  if (dropout) m->add(std::make_shared<ff::Dropout>("dropout", 9, 0.5f));
  m->add(std::make_shared<ff::Dense>("out", 7, kClasses, "linear", true, "glorot_uniform",
                                     "zeros"));
  m->build({ff::kNone, kFeatures});
  return m;
}

void compile(ff::Sequential& m, std::unique_ptr<ff::Optimizer> opt) {
  ff::OutputSpec spec;
  spec.name = "out";
  spec.loss = ff::make_sparse_categorical_crossentropy(true);
  spec.metrics.push_back(ff::make_sparse_categorical_accuracy("accuracy"));
  m.Model::compile({spec}, std::shared_ptr<ff::Optimizer>(std::move(opt)));
}

struct Data {
  std::vector<float> x;
  std::vector<int64_t> y;
  int64_t rows;
  ff::HostArray xs() const { return {x.data(), {rows, kFeatures}, ff::DType::Float32}; }
  ff::HostArray ys() const { return {y.data(), {rows}, ff::DType::Int64}; }
};

Data make_data(int64_t rows) {
  Data d{fftest::uniform_values(rows * kFeatures, 3, -1.0f, 1.0f), {}, rows};
  for (int64_t i = 0; i < rows; ++i) d.y.push_back(i % kClasses);
  return d;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

struct NumericsOn {
  NumericsOn() { ff::CheckNumerics::set(true); }
  ~NumericsOn() { ff::CheckNumerics::set(false); }
};

}  // namespace

TEST_CASE("an epoch reads the step state from the host only at its sync points", "[step_state]") {
  auto m = small_model(true);
  ff::OptimizerOptions o;
  o.global_clipnorm = 1.0f;  // clipping by norm stays on the device too
  compile(*m, ff::make_adam(o, {}));
  const Data d = make_data(64);
  ff::Device& device = fftest::device();
  ff::LoopOptions loop;
  loop.batch_size = 8;  // 8 steps

  int64_t before = device.host_reads();
  m->train_epoch({d.xs()}, {d.ys()}, iota(d.rows), 0, loop);
  CHECK(device.host_reads() - before == 1);  // the epoch's end
  CHECK(m->train_steps() == 8);
  CHECK(m->optimizer()->iterations() == 8);

  // A hook that wants every batch: one read per call, plus the end.
  int calls = 0;
  loop.hook = [&](bool, int64_t, const ff::Logs& logs) {
    ++calls;
    CHECK(logs.at(0).first == "loss");
    CHECK(std::isfinite(logs.at(0).second));
    return false;
  };
  loop.hook_every_batch = true;
  before = device.host_reads();
  m->train_epoch({d.xs()}, {d.ys()}, iota(d.rows), 1, loop);
  CHECK(calls == 8);
  CHECK(device.host_reads() - before == calls + 1);

  // evaluate reads once too.
  loop.hook = nullptr;
  before = device.host_reads();
  m->evaluate({d.xs()}, {d.ys()}, loop);
  CHECK(device.host_reads() - before == 1);

  // Check-numerics: one read per step (and nothing else while every value is finite).
  NumericsOn numerics;
  before = device.host_reads();
  m->train_epoch({d.xs()}, {d.ys()}, iota(d.rows), 2, loop);
  CHECK(device.host_reads() - before == 8 + 1);
}

TEST_CASE("the epoch's logs are the mean of per-step losses from the block's sums",
          "[step_state]") {
  auto m = small_model();
  ff::OptimizerOptions o;
  o.learning_rate = 0.0f;  // weights fixed: every step sees the same model
  compile(*m, ff::make_sgd(o, {}));
  const Data d = make_data(20);
  ff::LoopOptions loop;
  loop.batch_size = 20;
  const ff::Logs whole = m->evaluate({d.xs()}, {d.ys()}, loop);
  loop.batch_size = 6;  // 6 + 6 + 6 + 2: sums weighted by rows
  const ff::Logs parts = m->train_epoch({d.xs()}, {d.ys()}, iota(d.rows), 0, loop);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].second == Approx(whole[0].second).epsilon(1e-6));
  CHECK(parts[1].first == "accuracy");
  CHECK(parts[1].second == Approx(whole[1].second).epsilon(1e-12));
}

TEST_CASE("a learning-rate schedule is evaluated from the block's iteration count",
          "[step_state]") {
  // SGD on a fixed gradient direction: each step moves the weights by lr(step) * g, so the
  // final weights after an epoch tell whether every step used schedule(iterations).
  auto run = [](bool scheduled) {
    auto m = small_model();
    ff::OptimizerOptions o;
    o.learning_rate = 0.1f;
    auto opt = ff::make_sgd(o, {});
    if (scheduled) opt->set_schedule(ff::make_piecewise_constant_decay({1.0, 2.0}, {0.1, 0.05, 0.0}));
    compile(*m, std::move(opt));
    const Data d = make_data(12);
    ff::LoopOptions loop;
    loop.batch_size = 4;  // 3 steps: rates 0.1 (step 0), 0.1 (step 1), 0.05 (step 2)
    const std::vector<float> w0 = fftest::all_params(*m);
    m->train_epoch({d.xs()}, {d.ys()}, iota(d.rows), 0, loop);
    std::vector<float> w1 = fftest::all_params(*m);
    for (size_t i = 0; i < w1.size(); ++i) w1[i] -= w0[i];
    return std::make_pair(w1, m->optimizer()->learning_rate());
  };
  const auto [fixed_moves, fixed_lr] = run(false);
  const auto [scheduled_moves, scheduled_lr] = run(true);
  CHECK(fixed_lr == Approx(0.1f));
  CHECK(scheduled_lr == Approx(0.0f));  // the host mirror after 3 iterations
  // Different rates gave different trajectories (the schedule reached the kernels).
  double diff = 0.0;
  for (size_t i = 0; i < fixed_moves.size(); ++i)
    diff += std::fabs(fixed_moves[i] - scheduled_moves[i]);
  CHECK(diff > 1e-4);
}

TEST_CASE("dropout draws its mask from the block's step: a resumed count gives the same masks",
          "[step_state]") {
  const Data d = make_data(16);
  ff::LoopOptions loop;
  loop.batch_size = 8;
  auto train = [&](uint64_t start_step) {
    auto m = small_model(true);
    compile(*m, ff::make_sgd({}, {}));
    m->set_train_steps(start_step);
    m->train_epoch({d.xs()}, {d.ys()}, iota(d.rows), 0, loop);
    CHECK(m->train_steps() == start_step + 2);
    return fftest::all_params(*m);
  };
  CHECK(train(5) == train(5));  // the same stream: bit-identical
  CHECK(train(5) != train(6));  // another stream: other masks
}

TEST_CASE("a bad label halts the epoch: the error names the sample and no later step applies",
          "[step_state]") {
  auto m = small_model();
  compile(*m, ff::make_adam({}, {}));
  Data d = make_data(24);
  d.y[13] = kClasses;  // batch 1 (rows 8..15) of a shuffled epoch reaches it
  ff::LoopOptions loop;
  loop.batch_size = 8;
  std::vector<int64_t> order = iota(d.rows);
  std::swap(order[10], order[13]);  // sample 13 sits at position 10: batch 1, row 2
  const std::vector<float> w0 = fftest::all_params(*m);
  REQUIRE_THROWS_WITH(m->train_epoch({d.xs()}, {d.ys()}, order, 0, loop),
                      Catch::Contains("label value of 3") &&
                          Catch::Contains("sample index 13") && Catch::Contains("[0, 3)"));
  // Only the first batch was applied: one iteration, one training step.
  CHECK(m->optimizer()->iterations() == 1);
  CHECK(m->train_steps() == 1);
  CHECK(fftest::all_params(*m) != w0);

  // The same from the start: nothing applied at all.
  auto fresh = small_model();
  compile(*fresh, ff::make_adam({}, {}));
  std::swap(order[0], order[10]);
  const std::vector<float> f0 = fftest::all_params(*fresh);
  REQUIRE_THROWS_WITH(fresh->train_epoch({d.xs()}, {d.ys()}, order, 0, loop),
                      Catch::Contains("sample index 13"));
  CHECK(fresh->optimizer()->iterations() == 0);
  CHECK(fftest::all_params(*fresh) == f0);
}

TEST_CASE("check-numerics trips in a kernel, re-runs the step eagerly and names the layer",
          "[step_state]") {
  auto m = small_model();
  compile(*m, ff::make_sgd({}, {}));
  // A NaN weight in "out": its forward pass is the first to produce NaN.
  std::vector<float> kernel(static_cast<size_t>(8 * kClasses), 0.1f);
  kernel[4] = std::numeric_limits<float>::quiet_NaN();
  m->set_parameter(2, kernel.data());
  const Data d = make_data(16);
  ff::LoopOptions loop;
  loop.batch_size = 8;
  const std::vector<float> w0 = fftest::all_params(*m);
  NumericsOn numerics;
  REQUIRE_THROWS_WITH(m->train_epoch({d.xs()}, {d.ys()}, iota(d.rows), 4, loop),
                      Catch::Contains("layer \"out\" (Dense)") && Catch::Contains("forward") &&
                          Catch::Contains("epoch 5, step 1") && Catch::Contains("NaN"));
  CHECK(m->optimizer()->iterations() == 0);
  std::vector<float> w1 = fftest::all_params(*m);
  for (size_t i = 0; i < w0.size(); ++i)
    CHECK((w1[i] == w0[i] || (std::isnan(w1[i]) && std::isnan(w0[i]))));
}

TEST_CASE("the standalone state kernels follow the step-state rules", "[step_state]") {
  ff::Backend& be = fftest::backend();
  fftest::StateBlock block(2);
  ff::StepState h = block.read();
  h.loss_scaling = 1;
  h.loss_scale = 4.0f;
  h.iterations = 3;
  h.base_learning_rate = 0.5f;
  block.write(h);
  be.step_begin(block.get(), true);
  block.write_step_sum(0, 2.0);
  block.write_step_sum(1, 1.0);
  ff::Tensor g = fftest::make_tensor({2}, {8.0f, std::numeric_limits<float>::infinity()});
  be.check_finite(g.data<float>(), 2, block.get());
  be.loss_scale_update(block.get(), 10);
  ff::ScheduleSpec none;
  be.prepare_update(block.get(), none, 0.9f, 0.999f);
  be.finish_update(block.get());
  be.step_end(block.get(), true, 4.0);
  h = block.read();
  CHECK(h.grads_finite == 0);
  CHECK(h.apply_update == 0);  // a skipped step
  CHECK(h.iterations == 3);
  CHECK(h.loss_scale == 2.0f);
  CHECK(h.skipped_steps == 1);
  CHECK(h.learning_rate == 0.5f);
  CHECK(h.bias_correction1 == Approx(1.0 - std::pow(0.9, 4.0)));
  CHECK(h.step == 1);
  CHECK(h.samples == 4.0);
  std::vector<double> sums(2);
  fftest::device().copy_to_host(sums.data(), ff::loop_sums(block.get()), sizeof(double) * 2);
  CHECK(sums == std::vector<double>{2.0, 1.0});
}
