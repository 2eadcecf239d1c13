// Tests of model/input_slots.cpp, the batches' way to a device the host cannot address (the
// emulated GPU): the same training as on the CPU from arrays and from a dataset, the two device
// slots used in turn, the copy stream and the compute stream ordered by events exactly as
// input_slots.h says (the emulated GPU also refuses any unordered access: a race), no host read
// added per step, and the pinned pool and slots allocated in the first epoch only; batches a
// pipeline wrote into pinned memory (by its batch op, and by a map after it: a C++ function's
// new component, csv_dataset's one-hot widening) copied with no staging.
#include <catch2/catch.hpp>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "data/csv/csv_dataset.h"
#include "data/csv/csv_one_hot.h"
#include "data/csv/csv_test_util.h"
#include "data/ops.h"
#include "data/pinned_buffers.h"
#include "emulated_gpu.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "model/dataset_feed.h"
#include "model/input_slots.h"
#include "model/sequential.h"
#include "test_util.h"

namespace {

using Op = fftest::EmulatedGpuDevice::Op;

constexpr int64_t kRows = 70, kFeatures = 5, kClasses = 3, kBatch = 16;  // 4 full batches + 6

struct Data {
  std::vector<uint8_t> x;   // uint8 inputs: converted to float32 while staged
  std::vector<int32_t> y;   // int32 labels: converted to int64
  Data() {
    for (int64_t i = 0; i < kRows * kFeatures; ++i) x.push_back(static_cast<uint8_t>((i * 37) % 251));
    for (int64_t i = 0; i < kRows; ++i) y.push_back(static_cast<int32_t>((i * 7) % kClasses));
  }
  ff::HostArray xs() const { return {x.data(), {kRows, kFeatures}, ff::DType::UInt8}; }
  ff::HostArray ys() const { return {y.data(), {kRows}, ff::DType::Int32}; }
};

std::shared_ptr<ff::Sequential> make_model(ff::Backend& be) {
  auto m = std::make_shared<ff::Sequential>(be);
  m->add(std::make_shared<ff::Dense>("hidden", 21, 8, "relu", true, "glorot_uniform", "zeros"));
  m->add(std::make_shared<ff::Dropout>("dropout", 22, 0.25f));
  m->add(std::make_shared<ff::Dense>("out", 23, kClasses, "linear", true, "glorot_uniform",
                                     "zeros"));
  m->build({ff::kNone, kFeatures});
  ff::OutputSpec spec;
  spec.name = "out";
  spec.loss = ff::make_sparse_categorical_crossentropy(true);
  spec.metrics.push_back(ff::make_sparse_categorical_accuracy("accuracy"));
  m->Model::compile({spec}, std::shared_ptr<ff::Optimizer>(ff::make_adam({0.01f}, {})));
  return m;
}

ff::data::Component component(ff::data::ValueType t, const ff::Shape& shape, const void* src,
                              size_t bytes) {
  void* dst = nullptr;
  ff::data::Component c = ff::data::Component::make(t, shape, &dst);
  std::memcpy(dst, src, bytes);
  return c;
}

// A dataset of (uint8 x, int32 y) batches of kBatch, as ff.data would hand it to fit.
std::unique_ptr<ff::DatasetFeed> dataset_feed(const Data& d) {
  auto ds = ff::data::batch(
      ff::data::from_tensor_slices(
          {component(ff::data::ValueType::UInt8, {kRows, kFeatures}, d.x.data(), d.x.size()),
           component(ff::data::ValueType::Int32, {kRows}, d.y.data(), d.y.size() * 4)}),
      kBatch, false);
  ff::FeedSpec spec;
  spec.inputs = {0};
  spec.input_as_column = {false};
  spec.input_names = {"x"};
  spec.input_shapes = {{ff::kNone, kFeatures}};
  spec.targets = {1};
  spec.target_kinds = {ff::TargetKind::ClassIndex};
  spec.target_names = {"y"};
  spec.loss_names = {"sparse_categorical_crossentropy"};
  return std::make_unique<ff::DatasetFeed>(ds, spec);
}

struct Run {
  std::vector<float> weights;
  std::vector<ff::Logs> logs;
  std::vector<int64_t> reads, syncs;  // per epoch
};

// Three epochs from shuffled arrays, then one from a dataset.
Run train(ff::Backend& be, const std::function<void(ff::Model&, int)>& after_epoch = {}) {
  auto m = make_model(be);
  const Data d;
  ff::LoopOptions loop;
  loop.batch_size = kBatch;
  Run r;
  ff::Device& device = be.device();
  for (int e = 0; e < 4; ++e) {
    const int64_t reads = device.host_reads(), syncs = device.synchronizations();
    if (e < 3) {
      r.logs.push_back(m->train_epoch({d.xs()}, {d.ys()}, ff::Model::shuffled_order(kRows, 5, e),
                                      e, loop));
    } else {
      auto feed = dataset_feed(d);
      r.logs.push_back(m->run_loop(*feed, ff::LoopMode::Train, e, -1, loop));
    }
    r.reads.push_back(device.host_reads() - reads);
    r.syncs.push_back(device.synchronizations() - syncs);
    if (after_epoch) after_epoch(*m, e);
  }
  r.weights = fftest::all_params(*m);
  return r;
}

}  // namespace

TEST_CASE("batches through pinned memory and two device slots train as on the CPU, with no host "
          "read added per step", "[input_slots]") {
  const Run cpu = train(ff::backend_for(ff::DeviceType::CPU));
  std::vector<ff::InputSlots::Stats> stats;
  std::vector<ff::PinnedPool::Stats> pools;
  const Run gpu = train(fftest::emulated_gpu_backend(), [&](ff::Model& m, int) {
    REQUIRE(m.input_slots() != nullptr);
    stats.push_back(m.input_slots()->stats());
    pools.push_back(m.input_slots()->pool().stats());
  });
  CHECK(gpu.weights == cpu.weights);
  CHECK(gpu.logs == cpu.logs);
  // One read per epoch (its end), as on the CPU and as before the input path existed.
  CHECK(gpu.reads == std::vector<int64_t>(4, 1));
  CHECK(gpu.reads == cpu.reads);
  CHECK(gpu.syncs == std::vector<int64_t>(4, 0));
  // 5 batches an epoch, alternating slots; the two slots and the pinned blocks are allocated in
  // the first epoch and reused ever after (arrays and dataset alike).
  REQUIRE(stats.size() == 4);
  CHECK(stats[3].batches == 20);
  CHECK(stats[3].slot_batches[0] == 10);
  CHECK(stats[3].slot_batches[1] == 10);
  CHECK(stats[0].slot_allocations == 2);
  CHECK(stats[3].slot_allocations == 2);
  CHECK(pools[0].allocations >= 1);
  CHECK(pools[0].blocks <= 3);
  CHECK(pools[3].allocations == pools[0].allocations);
  CHECK(pools[3].frees == 0);
  CHECK(pools[3].acquires == 20);
  // Every batch after the first three reused a block, waiting for its copy first.
  CHECK(pools[3].waits == 20 - pools[0].allocations);
}

TEST_CASE("the copy of batch i goes to slot i % 2 on the copy stream, ordered by events",
          "[input_slots]") {
  auto& dev = fftest::emulated_gpu_device();
  auto m = make_model(fftest::emulated_gpu_backend());
  const Data d;
  ff::LoopOptions loop;
  loop.batch_size = kBatch;
  m->train_epoch({d.xs()}, {d.ys()}, ff::Model::shuffled_order(kRows, 5, 0), 0, loop);
  const ff::StreamId copy = m->input_slots()->copy_stream();
  REQUIRE(copy > 0);
  const void* slot[2] = {m->input_slots()->slot_address(0), m->input_slots()->slot_address(1)};
  REQUIRE(slot[0] != nullptr);
  REQUIRE(slot[1] != nullptr);
  REQUIRE(slot[0] != slot[1]);

  dev.set_op_log(true);
  m->train_epoch({d.xs()}, {d.ys()}, ff::Model::shuffled_order(kRows, 5, 1), 1, loop);
  const std::vector<Op> ops = dev.ops();
  dev.set_op_log(false);

  std::map<ff::EventId, size_t> recorded;  // event -> index of its Record op
  for (size_t i = 0; i < ops.size(); ++i)
    if (ops[i].kind == Op::Record) recorded[ops[i].event] = i;
  // The last op before `end` of `kind` on `stream` matching `pred` (or npos).
  auto last_before = [&](size_t end, Op::Kind kind, ff::StreamId stream, auto pred) {
    for (size_t i = end; i-- > 0;)
      if (ops[i].kind == kind && ops[i].stream == stream && pred(ops[i])) return i;
    return std::string::npos;
  };
  auto any = [](const Op&) { return true; };
  int batch = 0;
  std::vector<size_t> h2d_index;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.kind != Op::CopyFromHost || op.stream != copy) continue;
    INFO("batch " << batch);
    // Slot i % 2 (the epoch before had 5 batches: this epoch starts in slot 1).
    const int k = (5 + batch) % 2;
    CHECK(op.dst == slot[k]);
    // Before it, the copy stream waited for the event recorded on the compute stream right after
    // the last device-to-device copy out of this slot (batch i - 2's).
    // (For the first two batches that event was recorded in the epoch before, outside the log.)
    const size_t wait = last_before(i, Op::StreamWait, copy, any);
    REQUIRE(wait != std::string::npos);
    if (batch >= 2) {
      REQUIRE(recorded.count(ops[wait].event) == 1);
      const size_t rec = recorded.at(ops[wait].event);
      CHECK(ops[rec].stream == 0);
      const size_t consumed =
          last_before(rec, Op::Copy, 0, [&](const Op& c) { return c.src == slot[k]; });
      REQUIRE(consumed != std::string::npos);
      CHECK(consumed > h2d_index.at(static_cast<size_t>(batch - 2)));  // batch i - 2's copy out
      const size_t prev_record = last_before(rec, Op::Record, 0, any);
      CHECK((prev_record == std::string::npos || prev_record < consumed));  // first after it
    }
    // After it: an event on the copy stream, the compute stream waits for it, then copies the
    // slot into the plan's buffers (inputs, targets) before the step.
    REQUIRE(i + 2 < ops.size());
    CHECK(ops[i + 1].kind == Op::Record);
    CHECK(ops[i + 1].stream == copy);
    CHECK(ops[i + 2].kind == Op::StreamWait);
    CHECK(ops[i + 2].stream == 0);
    CHECK(ops[i + 2].event == ops[i + 1].event);
    REQUIRE(i + 5 < ops.size());
    CHECK(ops[i + 3].kind == Op::Copy);
    CHECK(ops[i + 3].src == slot[k]);
    CHECK(ops[i + 4].kind == Op::Copy);
    CHECK(static_cast<const char*>(ops[i + 4].src) > static_cast<const char*>(slot[k]));
    CHECK(ops[i + 5].kind == Op::Record);
    CHECK(ops[i + 5].stream == 0);
    h2d_index.push_back(i);
    ++batch;
  }
  CHECK(batch == 5);
  // Nothing but these copies ran on the copy stream.
  for (const Op& op : ops)
    if (op.stream == copy) CHECK((op.kind == Op::CopyFromHost || op.kind == Op::Record ||
                                  op.kind == Op::StreamWait));
}

TEST_CASE("model(x) on a device the host cannot address goes through the slots too",
          "[input_slots]") {
  auto m = make_model(fftest::emulated_gpu_backend());
  auto c = make_model(ff::backend_for(ff::DeviceType::CPU));
  const Data d;
  std::vector<float> a(kRows * kClasses), b(kRows * kClasses);
  m->call({d.xs()}, false, {a.data()});
  c->call({d.xs()}, false, {b.data()});
  CHECK(a == b);
  REQUIRE(m->input_slots() != nullptr);
  CHECK(m->input_slots()->stats().batches == 1);
  CHECK(c->input_slots() == nullptr);  // the CPU writes straight into its buffers
}

// ---- batches a pipeline wrote into pinned memory (data/pinned_buffers.h) ----
namespace {

// A feed of `ds`'s (x, y) batches, as fit reads them.
std::unique_ptr<ff::DatasetFeed> feed_of(ff::data::DatasetPtr ds) {
  ff::FeedSpec spec;
  spec.inputs = {0};
  spec.input_as_column = {false};
  spec.input_names = {"x"};
  spec.input_shapes = {{ff::kNone, kFeatures}};
  spec.targets = {1};
  spec.target_kinds = {ff::TargetKind::ClassIndex};
  spec.target_names = {"y"};
  spec.loss_names = {"sparse_categorical_crossentropy"};
  return std::make_unique<ff::DatasetFeed>(std::move(ds), spec);
}

// (float32 x, int64 y) batches of kBatch: no conversion, so they can be copied as they are.
ff::data::DatasetPtr float_dataset(const Data& d, int64_t prefetch_depth) {
  std::vector<float> x(d.x.begin(), d.x.end());
  std::vector<int64_t> y(d.y.begin(), d.y.end());
  ff::data::DatasetPtr ds = ff::data::batch(
      ff::data::from_tensor_slices(
          {component(ff::data::ValueType::Float32, {kRows, kFeatures}, x.data(), x.size() * 4),
           component(ff::data::ValueType::Int64, {kRows}, y.data(), y.size() * 8)}),
      kBatch, false);
  if (prefetch_depth > 0) ds = ff::data::prefetch(ds, prefetch_depth);
  return ds;
}

std::unique_ptr<ff::DatasetFeed> float_feed(const Data& d, int64_t prefetch_depth) {
  return feed_of(float_dataset(d, prefetch_depth));
}

// A DatasetFeed that notes, per batch, where the emulated GPU's op log stood when the batch was
// asked for (a pipeline without prefetch makes it then), its arrays' addresses and whether they
// are pinned; `keep` holds every batch's buffers (so the pool runs out).
class Recorder final : public ff::BatchSource {
 public:
  Recorder(std::unique_ptr<ff::DatasetFeed> feed, fftest::EmulatedGpuDevice* dev, bool keep)
      : feed_(std::move(feed)), dev_(dev), keep_(keep) {}
  void begin(const std::shared_ptr<ff::data::PinnedBufferPool>& pinned) override {
    feed_->begin(pinned);
  }
  bool can_pin() const override { return true; }
  bool next(ff::Batch& b) override {
    const size_t at = dev_ ? dev_->ops().size() : 0;
    if (!feed_->next(b)) return false;
    log_at.push_back(at);
    std::vector<const void*> ptrs;
    for (const auto* arrays : {&b.xs, &b.ys})
      for (const ff::HostArray& a : *arrays) {
        ptrs.push_back(a.data);
        pinned.push_back(a.owner && a.owner->pinned());
        if (keep_) kept_.push_back(a.owner);
      }
    addresses.push_back(ptrs);
    return true;
  }
  std::vector<size_t> log_at;
  std::vector<std::vector<const void*>> addresses;
  std::vector<bool> pinned;

 private:
  std::unique_ptr<ff::DatasetFeed> feed_;
  fftest::EmulatedGpuDevice* dev_;
  bool keep_;
  std::vector<std::shared_ptr<const ff::data::HostBuffer>> kept_;
};

struct PinnedRun {
  std::vector<float> weights;
  std::vector<ff::Logs> logs;
  std::vector<ff::InputSlots::Stats> slots;           // after each epoch (device runs)
  std::vector<ff::PinnedPool::Stats> staging;
  std::vector<ff::data::PinnedBufferPool::Stats> batch_pool;
  std::vector<bool> pinned;                           // every array of every batch
};

using FeedMaker = std::function<std::unique_ptr<ff::DatasetFeed>()>;

// `epochs` epochs, each from a new feed of make_feed().
PinnedRun train_from(ff::Backend& be, int epochs, const FeedMaker& make_feed, bool keep,
                     const std::function<void(int)>& before_epoch = {}) {
  auto m = make_model(be);
  ff::LoopOptions loop;
  loop.batch_size = kBatch;
  PinnedRun r;
  for (int e = 0; e < epochs; ++e) {
    if (before_epoch) before_epoch(e);
    Recorder feed(make_feed(), nullptr, keep);
    r.logs.push_back(m->run_loop(feed, ff::LoopMode::Train, e, -1, loop));
    r.pinned.insert(r.pinned.end(), feed.pinned.begin(), feed.pinned.end());
    if (const ff::InputSlots* s = m->input_slots()) {
      r.slots.push_back(s->stats());
      r.staging.push_back(s->pool().stats());
      r.batch_pool.push_back(s->batch_pool()->stats());
    }
  }
  r.weights = fftest::all_params(*m);
  return r;
}

PinnedRun train_from_pipeline(ff::Backend& be, int epochs, int64_t prefetch_depth, bool keep,
                              const std::function<void(int)>& before_epoch = {}) {
  const Data d;
  return train_from(be, epochs, [&] { return float_feed(d, prefetch_depth); }, keep,
                    before_epoch);
}

// The before_epoch hook that logs the device's operations in epochs 1 and 2 and, checked while
// the model and its pool live, that every host-to-device copy on the copy stream reads
// page-locked memory; `copies` gets the number of such copies of each of those epochs.
std::function<void(int)> pinned_copy_checker(fftest::EmulatedGpuDevice& dev,
                                             std::vector<int>& copies) {
  return [&dev, &copies](int e) {
    if (e >= 2) {
      int n = 0;
      for (const Op& op : dev.ops()) {
        if (op.kind != Op::CopyFromHost || op.stream <= 0) continue;
        CHECK(dev.is_pinned(op.src, op.bytes));
        ++n;
      }
      copies.push_back(n);
    }
    dev.set_op_log(e == 1 || e == 2);  // (clears the log)
  };
}

}  // namespace

TEST_CASE("a pipeline feeding the device writes its batches into pinned memory, copied with no "
          "staging, as on the CPU, its pool allocated in the first epoch only",
          "[input_slots][pinned_buffers]") {
  auto& dev = fftest::emulated_gpu_device();
  const PinnedRun cpu = train_from_pipeline(ff::backend_for(ff::DeviceType::CPU), 4, 2, false);
  std::vector<int> copies;  // copies from the host in epochs 1 and 2
  const PinnedRun gpu = train_from_pipeline(fftest::emulated_gpu_backend(), 4, 2, false,
                                            pinned_copy_checker(dev, copies));
  CHECK(gpu.weights == cpu.weights);
  CHECK(gpu.logs == cpu.logs);
  // The CPU asks for no pinned memory: its batches stay pageable.
  CHECK(std::count(cpu.pinned.begin(), cpu.pinned.end(), true) == 0);
  REQUIRE(gpu.slots.size() == 4);
  // First epoch: the first batches miss (pageable, staged by the loop) and ask for the blocks;
  // from the second epoch on every array comes straight from a pinned pipeline buffer.
  CHECK(gpu.batch_pool[0].misses > 0);
  CHECK(gpu.slots[0].staged_arrays > 0);
  for (size_t e = 1; e < 4; ++e) {
    INFO("epoch " << e);
    CHECK(gpu.slots[e].staged_arrays == gpu.slots[0].staged_arrays);  // no staging copy
    CHECK(gpu.slots[e].direct_arrays - gpu.slots[e - 1].direct_arrays == 10);
    CHECK(gpu.staging[e].acquires == gpu.staging[0].acquires);
    CHECK(gpu.batch_pool[e].misses == gpu.batch_pool[0].misses);
    CHECK(gpu.batch_pool[e].allocations == gpu.batch_pool[0].allocations);  // no growth
  }
  CHECK(std::count(gpu.pinned.begin() + 10, gpu.pinned.end(), false) == 0);
  // Bounded: (prefetch depth 2 + 3) x 2 components of one size (x and y are both under 4 KiB).
  CHECK(gpu.batch_pool[3].max_per_size == 10);
  CHECK(gpu.batch_pool[3].blocks == 10);
  CHECK(copies == std::vector<int>{10, 10});
}

TEST_CASE("a pipeline's pinned block is rewritten only after the host waited for the copy that "
          "read it", "[input_slots][pinned_buffers]") {
  auto& dev = fftest::emulated_gpu_device();
  auto m = make_model(fftest::emulated_gpu_backend());
  const Data d;
  ff::LoopOptions loop;
  loop.batch_size = kBatch;
  {
    Recorder warm(float_feed(d, 0), &dev, false);  // the first epoch allocates the blocks
    m->run_loop(warm, ff::LoopMode::Train, 0, -1, loop);
  }
  // No prefetch: the batch op writes batch i while the loop asks for it, so the op log position
  // then is after everything the loop did with the batches before. Bound: 3 x 2 blocks for 10
  // arrays an epoch, so blocks are rewritten within the epoch.
  dev.set_op_log(true);
  Recorder feed(float_feed(d, 0), &dev, false);
  m->run_loop(feed, ff::LoopMode::Train, 1, -1, loop);
  const std::vector<Op> ops = dev.ops();
  dev.set_op_log(false);
  const ff::StreamId copy = m->input_slots()->copy_stream();
  REQUIRE(feed.addresses.size() == 5);
  int reused = 0;
  for (size_t b = 0; b < feed.addresses.size(); ++b) {
    for (const void* address : feed.addresses[b]) {
      // Every earlier copy from this address in the log: the host waited for the event recorded
      // after it before the batch that rewrote the block was made.
      for (size_t j = 0; j < feed.log_at[b]; ++j) {
        if (ops[j].kind != Op::CopyFromHost || ops[j].src != address) continue;
        INFO("batch " << b << ", copy at op " << j);
        CHECK(ops[j].stream == copy);
        size_t rec = j + 1;
        while (rec < ops.size() && !(ops[rec].kind == Op::Record && ops[rec].stream == copy)) ++rec;
        REQUIRE(rec < ops.size());
        bool waited = false;
        for (size_t w = rec + 1; w < feed.log_at[b]; ++w)
          waited |= ops[w].kind == Op::HostWait && ops[w].event == ops[rec].event;
        CHECK(waited);
        ++reused;
      }
    }
  }
  CHECK(reused > 0);
  CHECK(std::count(feed.pinned.begin(), feed.pinned.end(), false) == 0);
}

TEST_CASE("when the pinned batch pool is exhausted the batches fall back to pageable memory and "
          "the loop's staging", "[input_slots][pinned_buffers]") {
  // Every batch of an epoch is kept alive, so no block comes back within it: with no prefetch
  // the bound is 3 x 2 blocks for the epoch's 10 arrays, the rest are pageable and staged.
  const PinnedRun cpu = train_from_pipeline(ff::backend_for(ff::DeviceType::CPU), 2, 0, true);
  const PinnedRun gpu = train_from_pipeline(fftest::emulated_gpu_backend(), 2, 0, true);
  CHECK(gpu.weights == cpu.weights);
  CHECK(gpu.logs == cpu.logs);
  REQUIRE(gpu.slots.size() == 2);
  REQUIRE(gpu.pinned.size() == 20);
  const auto pinned = std::count(gpu.pinned.begin() + 10, gpu.pinned.end(), true);  // epoch 1
  CHECK(pinned > 0);
  CHECK(pinned <= 6);
  CHECK(gpu.slots[1].direct_arrays - gpu.slots[0].direct_arrays == pinned);
  CHECK(gpu.slots[1].staged_arrays - gpu.slots[0].staged_arrays == 10 - pinned);
  CHECK(gpu.batch_pool[1].max_per_size == 6);
  CHECK(gpu.batch_pool[1].blocks == 6);
}

// ---- a pass opened before the loop (fit's look at the first batch, _data_adapters.py) ----
namespace {

// Two epochs of fit on a dataset as the Python adapter runs them: the first pass is opened
// before the loop (with the model's input_batch_pool() when `pinned_peek`, plainly otherwise),
// its first batch taken, and the rest of it resumed as epoch 0's source; epoch 1 is a new pass.
PinnedRun fit_after_a_peek(ff::Backend& be, bool pinned_peek) {
  auto m = make_model(be);
  const Data d;
  const ff::data::DatasetPtr ds = float_dataset(d, 2);
  ff::data::IterationOptions options;
  if (pinned_peek) options.pinned = m->input_batch_pool();
  std::unique_ptr<ff::data::Iterator> it = ds->make_iterator_for(options);
  ff::data::Element first;
  REQUIRE(it->next(first));
  ff::LoopOptions loop;
  loop.batch_size = kBatch;
  PinnedRun r;
  for (int e = 0; e < 2; ++e) {
    Recorder feed(feed_of(e == 0 ? ff::data::resume(std::move(it), true, std::move(first),
                                                    ds->cardinality())
                                 : ds),
                  nullptr, false);
    r.logs.push_back(m->run_loop(feed, ff::LoopMode::Train, e, -1, loop));
    r.pinned.insert(r.pinned.end(), feed.pinned.begin(), feed.pinned.end());
    if (const ff::InputSlots* s = m->input_slots()) {
      r.slots.push_back(s->stats());
      r.batch_pool.push_back(s->batch_pool()->stats());
    }
  }
  r.weights = fftest::all_params(*m);
  return r;
}

}  // namespace

TEST_CASE("the model's input batch pool exists before its first batch on a device the host "
          "cannot address, and not on the CPU", "[input_slots][pinned_buffers]") {
  auto m = make_model(fftest::emulated_gpu_backend());
  CHECK(m->input_slots() == nullptr);
  const auto pool = m->input_batch_pool();
  REQUIRE(pool != nullptr);
  REQUIRE(m->input_slots() != nullptr);
  CHECK(m->input_slots()->batch_pool() == pool);  // the one the loop hands its sources
  CHECK(m->input_batch_pool() == pool);
  CHECK(pool->stats().allocations == 0);  // blocks come with the first batches, as before
  CHECK(m->input_slots()->stats().slot_allocations == 0);
  auto c = make_model(ff::backend_for(ff::DeviceType::CPU));
  CHECK(c->input_batch_pool() == nullptr);  // nothing pinned on the CPU
  CHECK(c->input_slots() == nullptr);
}

TEST_CASE("a pass opened with the model's input batch pool before the loop and resumed by it "
          "is pinned in its first epoch: only the batches that missed a block are staged",
          "[input_slots][pinned_buffers]") {
  const PinnedRun cpu = fit_after_a_peek(ff::backend_for(ff::DeviceType::CPU), true);
  const PinnedRun plain = fit_after_a_peek(fftest::emulated_gpu_backend(), false);
  const PinnedRun gpu = fit_after_a_peek(fftest::emulated_gpu_backend(), true);
  CHECK(gpu.weights == cpu.weights);
  CHECK(gpu.logs == cpu.logs);
  CHECK(plain.weights == cpu.weights);
  CHECK(std::count(cpu.pinned.begin(), cpu.pinned.end(), true) == 0);
  REQUIRE(plain.slots.size() == 2);
  REQUIRE(gpu.slots.size() == 2);
  REQUIRE(gpu.pinned.size() == 20);
  // A plain first pass (fit before the fix): every array of epoch 0 staged.
  CHECK(plain.slots[0].staged_arrays == 10);
  CHECK(plain.batch_pool[0].misses == 0);
  // Opened with the pool: the first batches miss (no block yet: the peeked one, and those the
  // prefetch made before the loop's first refill) and are staged, every later one is copied
  // straight from its pinned buffer.
  const int64_t missed = gpu.batch_pool[0].misses;
  CHECK(missed > 0);
  CHECK(missed < 10);
  CHECK(gpu.slots[0].staged_arrays == missed);
  CHECK(gpu.slots[0].direct_arrays == 10 - missed);
  CHECK(std::count(gpu.pinned.begin(), gpu.pinned.begin() + 10, true) == 10 - missed);
  // Epoch 1, a new pass: no staging, no miss, no allocation.
  CHECK(gpu.slots[1].staged_arrays == gpu.slots[0].staged_arrays);
  CHECK(gpu.slots[1].direct_arrays - gpu.slots[0].direct_arrays == 10);
  CHECK(gpu.batch_pool[1].misses == missed);
  CHECK(gpu.batch_pool[1].allocations == gpu.batch_pool[0].allocations);
}

// ---- a map after the batch (data/map.cpp): its function's components are pinned too ----
namespace {

// A device run's epochs after the first: every array of every batch was in pinned memory and
// copied straight from the pipeline's buffer (the loop staged nothing), and the pools grew in
// the first epoch only. `arrays` per epoch.
void check_pinned_after_first_epoch(const PinnedRun& gpu, int64_t arrays) {
  REQUIRE(gpu.slots.size() >= 2);
  for (size_t e = 1; e < gpu.slots.size(); ++e) {
    INFO("epoch " << e);
    CHECK(gpu.slots[e].staged_arrays == gpu.slots[0].staged_arrays);  // no staging copy
    CHECK(gpu.slots[e].direct_arrays - gpu.slots[e - 1].direct_arrays == arrays);
    CHECK(gpu.staging[e].acquires == gpu.staging[0].acquires);
    CHECK(gpu.batch_pool[e].misses == gpu.batch_pool[0].misses);
    CHECK(gpu.batch_pool[e].allocations == gpu.batch_pool[0].allocations);  // no growth
    CHECK(gpu.batch_pool[e].blocks <= gpu.batch_pool[e].max_per_size);
  }
  REQUIRE(gpu.pinned.size() == gpu.slots.size() * static_cast<size_t>(arrays));
  CHECK(std::count(gpu.pinned.begin() + arrays, gpu.pinned.end(), false) == 0);
}

// Runs `make_feed` for 4 epochs on the CPU and the emulated GPU: the same weights and logs, and
// on the GPU, from the second epoch on, every host-to-device copy reads page-locked memory.
void check_pinned_training(const FeedMaker& make_feed, int64_t arrays_per_epoch) {
  auto& dev = fftest::emulated_gpu_device();
  const PinnedRun cpu = train_from(ff::backend_for(ff::DeviceType::CPU), 4, make_feed, false);
  std::vector<int> copies;
  const PinnedRun gpu = train_from(fftest::emulated_gpu_backend(), 4, make_feed, false,
                                   pinned_copy_checker(dev, copies));
  CHECK(gpu.weights == cpu.weights);
  CHECK(gpu.logs == cpu.logs);
  CHECK(std::count(cpu.pinned.begin(), cpu.pinned.end(), true) == 0);
  CHECK(gpu.batch_pool[0].misses > 0);  // the first batches, before the blocks exist
  check_pinned_after_first_epoch(gpu, arrays_per_epoch);
  const int per_epoch = static_cast<int>(arrays_per_epoch);
  CHECK(copies == std::vector<int>{per_epoch, per_epoch});
}

}  // namespace

TEST_CASE("a map after the batch feeds the device from pinned memory written by its workers, "
          "with no staging copy, as on the CPU", "[input_slots][pinned_buffers][map]") {
  // (uint8 x, int64 y) batches; a C++ function on two workers makes float32 x / 255 (a new
  // component) and passes y through; prefetched two deep (as fit's pipelines are).
  const Data d;
  std::vector<int64_t> y(d.y.begin(), d.y.end());
  const ff::data::MapFn scale = [](const ff::data::Element& in, int64_t, uint64_t) {
    void* dst = nullptr;
    auto x = ff::data::Component::make(ff::data::ValueType::Float32, in[0].shape, &dst);
    const auto* u = static_cast<const uint8_t*>(in[0].data());
    for (int64_t i = 0; i < in[0].numel(); ++i) static_cast<float*>(dst)[i] = u[i] / 255.0f;
    return ff::data::Element{x, in[1]};
  };
  const FeedMaker make_feed = [&] {
    return feed_of(ff::data::prefetch(
        ff::data::map(
            ff::data::batch(
                ff::data::from_tensor_slices(
                    {component(ff::data::ValueType::UInt8, {kRows, kFeatures}, d.x.data(),
                               d.x.size()),
                     component(ff::data::ValueType::Int64, {kRows}, y.data(), y.size() * 8)}),
                kBatch, false),
            scale, 2, "scale"),
        2));
  };
  check_pinned_training(make_feed, 10);
}

TEST_CASE("csv_dataset's one-hot widening after the batch feeds the device from pinned memory, "
          "with no staging copy, as on the CPU", "[input_slots][pinned_buffers][csv]") {
  // A categorical column of 3 values (one-hot: slots 0-2) and two numbers: 5 features, widened
  // from compact rows of 3 slots per batch by the one-hot map, inline on the prefetch thread
  // (the pipeline csv_dataset builds: source, batch, CsvOneHot, prefetch).
  namespace csv = ff::data::csv;
  std::string text = "c,x1,x2,y\n";
  for (int64_t i = 0; i < kRows; ++i)
    text += std::string(1, static_cast<char>('a' + (i * 5) % 3)) + "," +
            std::to_string(((i * 37) % 251) / 10.0) + "," + std::to_string((i * 11) % 7) + "," +
            std::to_string((i * 7) % kClasses) + "\n";
  auto vocab = std::make_shared<csv::Vocabulary>(csv::Vocabulary{{"a", 0}, {"b", 1}, {"c", 2}});
  std::vector<csv::FeatureColumn> f(3);
  f[0].kind = csv::FeatureColumn::Kind::CategoricalIndex;  // compact: the index in one slot
  f[0].vocabulary = vocab;
  f[1].column = 1;
  f[1].offset = 1;
  f[2].column = 2;
  f[2].offset = 2;
  csv::LabelColumn label;
  label.present = true;
  label.column = 3;
  label.kind = csv::LabelColumn::Kind::Int64;
  csv::CsvSourceOptions o;
  o.plan = csv_test::make_plan({text}, {"c", "x1", "x2", "y"},
                               std::make_shared<csv::FeaturesParser>(f, 3, label, ""));
  const FeedMaker make_feed = [&] {
    return feed_of(ff::data::prefetch(
        ff::data::map(ff::data::batch(csv::make_csv_dataset(o), kBatch, false),
                      csv::expand_one_hot(0, {3, 0, 0}), 1, "CsvOneHot"),
        2));
  };
  {  // What the model reads: one-hot rows of 5 (the widening is the map's).
    auto it = make_feed();
    it->begin(nullptr);
    ff::Batch b;
    REQUIRE(it->next(b));
    CHECK(b.xs.at(0).shape == ff::Shape{kBatch, kFeatures});
  }
  check_pinned_training(make_feed, 10);
}
