// Mixed precision on 16-bit buffers (Backend::half_storage, Layer::supports_half_io; the model's
// plan in model.cpp and its conversions in model_loops.cpp): 16-bit layers keep their values and
// gradients in BFloat16/Float16 buffers (half the bytes), model outputs and layers without a
// 16-bit path stay float32, values read twice and converted inputs get their gradients back,
// and training follows the float32-buffer path (which holds the same 16-bit values) closely.
// On the CPU the backend is switched to 16-bit storage for the test (its *_half functions are
// the decode/float32/encode reference); on the emulated GPU it is on already.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/numerics.h"
#include "layers/batch_normalization.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/global_average_pooling2d.h"
#include "layers/max_pooling2d.h"
#include "layers/merge.h"
#include "model/model.h"
#include "test_util.h"

namespace {

// Sets the backend's 16-bit storage for a scope, then restores it.
class HalfStorage {
 public:
  HalfStorage(ff::Backend& b, bool on) : backend_(&b), saved_(b.half_storage()) {
    b.set_half_storage(on);
  }
  ~HalfStorage() { backend_->set_half_storage(saved_); }
  HalfStorage(const HalfStorage&) = delete;
  HalfStorage& operator=(const HalfStorage&) = delete;

 private:
  ff::Backend* backend_;
  bool saved_;
};

template <class L>
std::shared_ptr<L> in_dtype(std::shared_ptr<L> layer, ff::DType dtype) {
  layer->set_compute_dtype(dtype);
  return layer;
}

std::shared_ptr<ff::Conv2D> conv(const char* name, int64_t filters, ff::DType dtype,
                                 const char* act = "relu") {
  return in_dtype(std::make_shared<ff::Conv2D>(name, 11, filters, std::vector<int64_t>{3, 3},
                                               std::vector<int64_t>{1, 1}, "same",
                                               std::vector<int64_t>{1, 1}, act, true,
                                               "glorot_uniform", "random_normal"),
                  dtype);
}

std::shared_ptr<ff::Dense> dense(const char* name, int64_t units, ff::DType dtype,
                                 const char* act = "linear") {
  return in_dtype(std::make_shared<ff::Dense>(name, 7, units, act, true, "glorot_uniform",
                                              "random_normal"),
                  dtype);
}

ff::HostArray host(const std::vector<float>& v, ff::Shape shape) {
  return ff::HostArray{v.data(), std::move(shape), ff::DType::Float32};
}

ff::OutputSpec mse_output() {
  ff::OutputSpec s;
  s.name = "out";
  s.loss = ff::make_mean_squared_error();
  return s;
}

std::shared_ptr<ff::Optimizer> sgd(float lr) {
  ff::OptimizerOptions o;
  o.learning_rate = lr;
  return ff::make_sgd(o, {});
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

// ||a - b|| / ||a|| over two weight vectors.
double relative_distance(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(a[i]) * a[i];
  }
  return std::sqrt(diff / norm);
}

struct Cnn {
  std::unique_ptr<ff::Model> model;
  int input, conv1, bn, pool, flat, drop, hidden, out;
};

// conv(relu) -> BatchNormalization -> MaxPooling2D -> Flatten -> Dropout -> Dense(relu) ->
// Dense (the output), every layer in `dtype`.
Cnn make_cnn(ff::DType dtype) {
  Cnn c;
  c.model = std::make_unique<ff::Model>(fftest::backend());
  ff::Model& m = *c.model;
  c.input = m.add_input({ff::kNone, 6, 6, 2});
  c.conv1 = m.add_node(conv("conv", 4, dtype), {c.input});
  c.bn = m.add_node(in_dtype(std::make_shared<ff::BatchNormalization>(
                                 "bn", 3, -1, 0.9f, 1e-3f, true, true, "zeros", "ones", "zeros",
                                 "ones"),
                             dtype),
                    {c.conv1});
  c.pool = m.add_node(in_dtype(std::make_shared<ff::MaxPooling2D>(
                                   "pool", 4, std::vector<int64_t>{2, 2},
                                   std::vector<int64_t>{2, 2}, "valid"),
                               dtype),
                      {c.bn});
  c.flat = m.add_node(in_dtype(std::make_shared<ff::Flatten>("flat", 5), dtype), {c.pool});
  c.drop = m.add_node(in_dtype(std::make_shared<ff::Dropout>("drop", 6, 0.25f), dtype), {c.flat});
  c.hidden = m.add_node(dense("hidden", 8, dtype, "relu"), {c.drop});
  c.out = m.add_node(dense("out", 3, dtype), {c.hidden});
  m.set_outputs({c.out});
  m.finalize();
  return c;
}

// Trains `m` for `epochs` on fixed data; returns the final weights.
std::vector<float> train(ff::Model& m, int epochs, int64_t h = 6, int64_t w = 6, int64_t c = 2,
                         int64_t outputs = 3) {
  const int64_t n = 16;
  const auto x = fftest::uniform_values(n * h * w * c, 21, -1.0f, 1.0f);
  const auto y = fftest::uniform_values(n * outputs, 22, -1.0f, 1.0f);
  ff::LoopOptions loop;
  loop.batch_size = 8;
  for (int e = 0; e < epochs; ++e)
    m.train_epoch({host(x, {n, h, w, c})}, {host(y, {n, outputs})}, iota(n), e, loop);
  return fftest::all_params(m);
}

}  // namespace

TEST_CASE("16-bit storage: a CNN keeps its values and gradients in 16-bit buffers",
          "[model][mixed][half_storage]") {
  ff::Backend& be = fftest::backend();
  for (ff::DType dtype : {ff::DType::BFloat16, ff::DType::Float16}) {
    INFO("dtype " << ff::dtype_name(dtype));
    ff::GlobalSeed::set(5);
    const int64_t before_float = be.device().bytes_in_use();
    std::vector<float> float_buffers;
    int64_t float_bytes = 0;
    {
      HalfStorage off(be, false);
      Cnn c = make_cnn(dtype);
      CHECK(c.model->value_storage(c.conv1) == ff::DType::Float32);
      c.model->compile({mse_output()}, sgd(0.05f));
      float_buffers = train(*c.model, 3);
      float_bytes = be.device().bytes_in_use() - before_float;
    }
    ff::GlobalSeed::set(5);
    HalfStorage on(be, true);
    const int64_t before_half = be.device().bytes_in_use();
    Cnn c = make_cnn(dtype);
    ff::Model& m = *c.model;
    CHECK(m.value_storage(c.input) == ff::DType::Float32);  // model inputs stay float32
    for (int v : {c.conv1, c.bn, c.pool, c.flat, c.drop, c.hidden}) {
      INFO("value " << v);
      CHECK(m.value_storage(v) == dtype);
      CHECK(m.value_dtype(v) == dtype);
    }
    CHECK(m.value_storage(c.out) == ff::DType::Float32);  // the loss reads float32
    m.compile({mse_output()}, sgd(0.05f));
    const auto half_buffers = train(m, 3);
    const int64_t half_bytes = be.device().bytes_in_use() - before_half;
    // The 16-bit buffers hold the same numbers: training follows the float32-buffer path up to
    // summation order and the rounding of a few intermediate sums.
    CHECK(relative_distance(float_buffers, half_buffers) < 0.02);
    for (float v : half_buffers) CHECK(std::isfinite(v));
    // Values and gradients take 2 bytes instead of 4 (weights, optimizer and scratch do not
    // shrink, so less than half is saved overall).
    INFO("float32 buffers " << float_bytes << " bytes, 16-bit " << half_bytes);
    CHECK(half_bytes < float_bytes * 0.8);
  }
}

TEST_CASE("16-bit storage: a residual block sums gradients in 16 bits and converts at float32 layers",
          "[model][mixed][half_storage]") {
  // a = conv(x) is read twice (by conv b and by the Add); the float32 head reads a 16-bit value
  // through a converted copy and sends its gradient back converted.
  auto run = [](bool half) {
    ff::Backend& be = fftest::backend();
    HalfStorage storage(be, half);
    ff::GlobalSeed::set(9);
    ff::Model m(be);
    const ff::DType bf16 = ff::DType::BFloat16;
    int x = m.add_input({ff::kNone, 5, 5, 3});
    int a = m.add_node(conv("a", 4, bf16), {x});
    int b = m.add_node(conv("b", 4, bf16, "linear"), {a});
    int sum = m.add_node(in_dtype(std::make_shared<ff::Add>("add", 2), bf16), {a, b});
    int gap = m.add_node(
        in_dtype(std::make_shared<ff::GlobalAveragePooling2D>("gap", 3, false), bf16), {sum});
    int head = m.add_node(dense("head", 2, ff::DType::Float32), {gap});
    m.set_outputs({head});
    m.finalize();
    if (half) {
      CHECK(m.value_storage(a) == bf16);
      CHECK(m.value_storage(sum) == bf16);
      CHECK(m.value_storage(gap) == bf16);
    } else {
      CHECK(m.value_storage(gap) == ff::DType::Float32);
    }
    CHECK(m.value_storage(head) == ff::DType::Float32);
    m.compile({mse_output()}, sgd(0.05f));
    return train(m, 4, 5, 5, 3, 2);
  };
  const auto float_buffers = run(false), half_buffers = run(true);
  CHECK(relative_distance(float_buffers, half_buffers) < 0.02);
  int finite = 0;
  for (float v : half_buffers) finite += std::isfinite(v);
  CHECK(finite == static_cast<int>(half_buffers.size()));
}

TEST_CASE("16-bit storage: check-numerics finds a NaN in a 16-bit value and names its layer",
          "[model][mixed][half_storage]") {
  ff::Backend& be = fftest::backend();
  HalfStorage on(be, true);
  ff::GlobalSeed::set(3);
  Cnn c = make_cnn(ff::DType::BFloat16);
  ff::Model& m = *c.model;
  REQUIRE(m.value_storage(c.hidden) == ff::DType::BFloat16);
  m.compile({mse_output()}, sgd(0.01f));
  // A NaN in the hidden Dense's kernel: its 16-bit output is the first non-finite value.
  const auto& params = m.parameters();
  size_t kernel = params.size();
  for (size_t i = 0; i < params.size(); ++i)
    if (m.layers()[params[i].layer]->name() == "hidden" && params[i].spec.name == "kernel")
      kernel = i;
  REQUIRE(kernel < params.size());
  std::vector<float> k(static_cast<size_t>(params[kernel].value.numel()));
  m.get_parameter(kernel, k.data());
  std::fill(k.begin(), k.end(), std::numeric_limits<float>::quiet_NaN());
  m.set_parameter(kernel, k.data());
  ff::CheckNumerics::set(true);
  try {
    train(m, 1);
    ff::CheckNumerics::set(false);
    FAIL("expected ff::NumericsError");
  } catch (const ff::NumericsError& e) {
    ff::CheckNumerics::set(false);
    CHECK_THAT(std::string(e.what()), Catch::Contains("layer \"hidden\" (Dense)") &&
                                          Catch::Contains("computing in bfloat16") &&
                                          Catch::Contains("forward"));
  }
}
