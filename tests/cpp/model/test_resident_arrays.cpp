// Tests of model/resident_arrays.cpp and Model::make_resident on the emulated GPU: fit's arrays
// uploaded once and batches gathered on the device train exactly as the CPU does from the host
// arrays (shuffled and in order, converted dtypes), the arrays cross to the device once (later
// epochs copy only their order and the step-state block), the host reads stay one per epoch, and
// the fallbacks: too small a share of free memory, a fraction of 0, the CPU.
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "emulated_gpu.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "model/array_source.h"
#include "model/input_slots.h"
#include "model/resident_arrays.h"
#include "model/sequential.h"
#include "test_util.h"

namespace {

using Op = fftest::EmulatedGpuDevice::Op;

constexpr int64_t kRows = 70, kFeatures = 5, kClasses = 3, kBatch = 16;

struct Data {
  std::vector<double> x;   // float64 inputs: converted to float32 on upload
  std::vector<uint8_t> y;  // uint8 labels: converted to int64
  Data() {
    for (int64_t i = 0; i < kRows * kFeatures; ++i) x.push_back(static_cast<double>((i * 37) % 23) / 7.0 - 1.5);
    for (int64_t i = 0; i < kRows; ++i) y.push_back(static_cast<uint8_t>((i * 7) % kClasses));
  }
  ff::HostArray xs() const { return {x.data(), {kRows, kFeatures}, ff::DType::Float64}; }
  ff::HostArray ys() const { return {y.data(), {kRows}, ff::DType::UInt8}; }
};

std::shared_ptr<ff::Sequential> make_model(ff::Backend& be) {
  auto m = std::make_shared<ff::Sequential>(be);
  m->add(std::make_shared<ff::Dense>("hidden", 31, 8, "relu", true, "glorot_uniform", "zeros"));
  m->add(std::make_shared<ff::Dropout>("dropout", 32, 0.25f));
  m->add(std::make_shared<ff::Dense>("out", 33, kClasses, "linear", true, "glorot_uniform",
                                     "zeros"));
  m->build({ff::kNone, kFeatures});
  ff::OutputSpec spec;
  spec.name = "out";
  spec.loss = ff::make_sparse_categorical_crossentropy(true);
  spec.metrics.push_back(ff::make_sparse_categorical_accuracy("accuracy"));
  m->Model::compile({spec}, std::shared_ptr<ff::Optimizer>(ff::make_sgd({0.05f}, {0.9f, false})));
  return m;
}

struct Run {
  std::vector<float> weights;
  std::vector<ff::Logs> logs;
  std::vector<int64_t> reads;          // per epoch
  std::vector<size_t> bytes_from_host; // per epoch (emulated GPU only)
  std::shared_ptr<ff::ResidentArrays> resident;
};

// Epochs 0-2 shuffled, epoch 3 in array order, then an evaluate pass; `fraction` as fit's.
Run train(ff::Backend& be, double fraction) {
  auto m = make_model(be);
  const Data d;
  ff::LoopOptions loop;
  loop.batch_size = kBatch;
  Run r;
  r.resident = m->make_resident({d.xs()}, {d.ys()}, fraction);
  auto* emulated = dynamic_cast<fftest::EmulatedGpuDevice*>(&be.device());
  for (int e = 0; e < 4; ++e) {
    if (emulated) emulated->set_op_log(true);
    const int64_t reads = be.device().host_reads();
    ff::ArraySource source({d.xs()}, {d.ys()},
                           e < 3 ? ff::Model::shuffled_order(kRows, 9, e) : std::vector<int64_t>{},
                           kBatch, r.resident);
    r.logs.push_back(m->run_loop(source, ff::LoopMode::Train, e, -1, loop));
    r.reads.push_back(be.device().host_reads() - reads);
    if (emulated) {
      size_t bytes = 0;
      for (const Op& op : emulated->ops())
        if (op.kind == Op::CopyFromHost) bytes += op.bytes;
      r.bytes_from_host.push_back(bytes);
      emulated->set_op_log(false);
    }
  }
  ff::ArraySource eval({d.xs()}, {d.ys()}, {}, kBatch, r.resident);
  r.logs.push_back(m->run_loop(eval, ff::LoopMode::Evaluate, -1, -1, loop));
  r.weights = fftest::all_params(*m);
  return r;
}

}  // namespace

TEST_CASE("fit's arrays kept on the device train as the CPU does from the host arrays",
          "[resident_arrays]") {
  const Run cpu = train(ff::backend_for(ff::DeviceType::CPU), 0.5);
  CHECK(cpu.resident == nullptr);  // the CPU's arrays are host memory already
  const Run gpu = train(fftest::emulated_gpu_backend(), 0.5);
  REQUIRE(gpu.resident != nullptr);
  CHECK(gpu.weights == cpu.weights);
  CHECK(gpu.logs == cpu.logs);
  CHECK(gpu.reads == std::vector<int64_t>(4, 1));
  // Uploaded once: x as float32 and y as int64; three shuffled epochs uploaded their order.
  const auto& st = gpu.resident->stats();
  CHECK(st.uploads == 1);
  CHECK(st.bytes == kRows * kFeatures * 4 + kRows * 8);
  CHECK(st.order_uploads == 3);
  // Per epoch only the order (8 bytes a row, shuffled epochs) and the step-state block cross.
  const size_t arrays = static_cast<size_t>(kRows * kFeatures * 4);
  for (size_t e = 0; e < 4; ++e) {
    INFO("epoch " << e);
    CHECK(gpu.bytes_from_host[e] < arrays);
    CHECK(gpu.bytes_from_host[e] >= (e < 3 ? static_cast<size_t>(kRows * 8) : 0));
  }
}

TEST_CASE("batches gathered on the device never go through the pinned slots",
          "[resident_arrays]") {
  auto m = make_model(fftest::emulated_gpu_backend());
  const Data d;
  auto resident = m->make_resident({d.xs()}, {d.ys()}, 0.5);
  REQUIRE(resident != nullptr);
  ff::LoopOptions loop;
  loop.batch_size = kBatch;
  ff::ArraySource source({d.xs()}, {d.ys()}, ff::Model::shuffled_order(kRows, 9, 0), kBatch,
                         resident);
  m->run_loop(source, ff::LoopMode::Train, 0, -1, loop);
  CHECK(m->input_slots() == nullptr);
  // Without it, the same arrays stream through the slots.
  ff::ArraySource streamed({d.xs()}, {d.ys()}, ff::Model::shuffled_order(kRows, 9, 1), kBatch);
  m->run_loop(streamed, ff::LoopMode::Train, 1, -1, loop);
  REQUIRE(m->input_slots() != nullptr);
  CHECK(m->input_slots()->stats().batches == 5);
}

TEST_CASE("arrays that do not fit the share of free memory stream instead", "[resident_arrays]") {
  auto& dev = fftest::emulated_gpu_device();
  auto m = make_model(fftest::emulated_gpu_backend());
  const Data d;
  const int64_t needed = kRows * kFeatures * 4 + kRows * 8;
  CHECK(m->make_resident({d.xs()}, {d.ys()}, 0.0) == nullptr);  // turned off
  // A device with little free memory: the share is too small, then large enough.
  dev.set_memory_capacity(dev.bytes_in_use() + 4 * needed);
  CHECK(m->make_resident({d.xs()}, {d.ys()}, 0.2) == nullptr);
  CHECK(m->make_resident({d.xs()}, {d.ys()}, 0.3) != nullptr);
  dev.set_memory_capacity(0);
  // A fallback trains exactly as the CPU does (through the pinned path).
  const Run cpu = train(ff::backend_for(ff::DeviceType::CPU), 0.5);
  const Run streamed = train(fftest::emulated_gpu_backend(), 1e-12);
  CHECK(streamed.resident == nullptr);
  CHECK(streamed.weights == cpu.weights);
  CHECK(streamed.logs == cpu.logs);
}

TEST_CASE("make_resident checks the arrays as a loop would, and sources refuse another's copy",
          "[resident_arrays]") {
  auto m = make_model(fftest::emulated_gpu_backend());
  const Data d;
  std::vector<float> wrong(kRows * 4);
  CHECK_THROWS_AS(m->make_resident({{wrong.data(), {kRows, 4}, ff::DType::Float32}}, {d.ys()}, 0.5),
                  ff::ValueError);
  std::vector<float> float_labels(kRows);
  CHECK_THROWS_AS(m->make_resident({d.xs()}, {{float_labels.data(), {kRows}, ff::DType::Float32}},
                                   0.5),
                  ff::TypeError);
  auto resident = m->make_resident({d.xs()}, {d.ys()}, 0.5);
  REQUIRE(resident != nullptr);
  const Data other;
  CHECK_THROWS_AS(ff::ArraySource({other.xs()}, {other.ys()}, {}, kBatch, resident),
                  ff::ValueError);
}
