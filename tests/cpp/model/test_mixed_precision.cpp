// Mixed precision in the model (model.cpp plan_precision, model_loops.cpp): a 16-bit layer reads
// its inputs and weights rounded to its compute dtype and its output is rounded (a softmax
// output stays float32); a float32 reader of the same value sees it unrounded; the weights'
// gradients are 16-bit values while the weights stay float32; loss scaling rescues float16
// gradients that would underflow and skips steps whose gradients overflow.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "core/half.h"
#include "layers/dense.h"
#include "layers/flatten.h"
#include "model/model.h"
#include "test_util.h"

namespace {

using fftest::backend;

std::vector<float> values(int64_t n, uint64_t seed, float scale = 1.0f) {
  return fftest::uniform_values(n, seed, -scale, scale);
}

std::shared_ptr<ff::Dense> dense(const char* name, int64_t units, ff::DType dtype,
                                 const char* act = "linear") {
  auto d = std::make_shared<ff::Dense>(name, 7, units, act, true, "glorot_uniform", "random_normal");
  d->set_compute_dtype(dtype);
  return d;
}

ff::HostArray host(const std::vector<float>& v, ff::Shape shape) {
  return ff::HostArray{v.data(), std::move(shape), ff::DType::Float32};
}

std::vector<float> param(const ff::Model& m, size_t i) {
  std::vector<float> p(static_cast<size_t>(m.parameters()[i].value.numel()));
  m.get_parameter(i, p.data());
  return p;
}

bool is_bfloat16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & 0xffffu) == 0;
}

// y = x W + b for one (rows x in) @ (in x out) product, in double over the given values.
std::vector<double> affine(const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>& b, int64_t rows, int64_t in, int64_t out) {
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = b[o];
      for (int64_t k = 0; k < in; ++k) s += static_cast<double>(x[r * in + k]) * w[k * out + o];
      y[r * out + o] = s;
    }
  return y;
}

std::vector<float> rounded(std::vector<float> v, float (*round)(float)) {
  for (float& x : v) x = round(x);
  return v;
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

}  // namespace

TEST_CASE("a bfloat16 Dense computes on rounded inputs and weights and rounds its output", "[model][mixed]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 16});
  int y = m.add_node(dense("d", 5, ff::DType::BFloat16), {x});
  m.set_outputs({y});
  m.finalize();
  CHECK(m.value_dtype(x) == ff::DType::Float32);
  CHECK(m.value_dtype(y) == ff::DType::BFloat16);
  const auto xv = values(8 * 16, 1, 3.0f);
  std::vector<float> out(8 * 5);
  ff::LoopOptions loop;
  m.predict({host(xv, {8, 16})}, {out.data()}, loop);
  const auto w = param(m, 0), b = param(m, 1);
  CHECK_FALSE(std::all_of(w.begin(), w.end(), is_bfloat16));  // the weights stay float32
  const auto ref = affine(rounded(xv, ff::round_to_bfloat16), rounded(w, ff::round_to_bfloat16),
                          rounded(b, ff::round_to_bfloat16), 8, 16, 5);
  const auto ref32 = affine(xv, w, b, 8, 16, 5);
  int differs_from_float32 = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    INFO("output " << i << ": " << out[i] << " reference " << ref[i]);
    CHECK(is_bfloat16(out[i]));
    // Within one bfloat16 step (2^-7 relative) of the product of rounded operands.
    CHECK(std::fabs(out[i] - ref[i]) <= std::fabs(ref[i]) * std::ldexp(1.0, -7) + 1e-6);
    differs_from_float32 += std::fabs(out[i] - ref32[i]) > 1e-5 * std::fabs(ref32[i]) + 1e-7;
  }
  CHECK(differs_from_float32 > 0);
}

TEST_CASE("a softmax output stays float32 and a float32 reader sees the value unrounded", "[model][mixed]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 2, 3});
  int f = m.add_node([] {  // a 16-bit view layer casts its float32 input
    auto l = std::make_shared<ff::Flatten>("flatten", 1);
    l->set_compute_dtype(ff::DType::Float16);
    return l;
  }(), {x});
  int p = m.add_node(dense("probs", 4, ff::DType::Float16, "softmax"), {f});
  int exact = m.add_node(dense("exact", 2, ff::DType::Float32), {x});  // reads x itself
  m.set_outputs({p, exact});
  m.finalize();
  CHECK(m.value_dtype(f) == ff::DType::Float16);
  CHECK(m.value_dtype(p) == ff::DType::Float32);
  // Dense on (N, 2, 3) applies over the last axis: output (N, 2, 2).
  const auto xv = values(3 * 6, 2, 2.0f);
  std::vector<float> probs(3 * 4), ex(3 * 2 * 2);
  ff::LoopOptions loop;
  m.predict({host(xv, {3, 2, 3})}, {probs.data(), ex.data()}, loop);
  int not_half = 0;
  for (float v : probs) not_half += ff::round_to_float16(v) != v;
  CHECK(not_half > 0);  // float32 probabilities
  for (int r = 0; r < 3; ++r) {
    double s = 0;
    for (int k = 0; k < 4; ++k) s += probs[r * 4 + k];
    CHECK(s == Approx(1.0).epsilon(1e-6));
  }
  const auto w = param(m, 2), b = param(m, 3);
  const auto ref = affine(xv, w, b, 6, 3, 2);  // unrounded x: the float32 layer's view
  for (size_t i = 0; i < ex.size(); ++i) CHECK(ex[i] == Approx(ref[i]).epsilon(1e-6).margin(1e-6));
}

TEST_CASE("16-bit layers get 16-bit weight gradients applied to float32 weights", "[model][mixed]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 6});
  int y = m.add_node(dense("d", 3, ff::DType::BFloat16), {x});
  m.set_outputs({y});
  m.finalize();
  m.compile({mse_output()}, sgd(1.0f));
  // Zero weights: after one SGD step with learning rate 1 the weights are minus the gradient.
  std::vector<float> zeros_w(18, 0.0f), zeros_b(3, 0.0f);
  m.set_parameter(0, zeros_w.data());
  m.set_parameter(1, zeros_b.data());
  const auto xv = values(4 * 6, 3), yv = values(4 * 3, 4, 0.7f);
  std::vector<int64_t> order{0, 1, 2, 3};
  ff::LoopOptions loop;
  loop.batch_size = 4;
  m.train_epoch({host(xv, {4, 6})}, {host(yv, {4, 3})}, order, 0, loop);
  const auto w = param(m, 0);
  int nonzero = 0;
  for (float v : w) {
    CHECK(is_bfloat16(v));
    nonzero += v != 0.0f;
  }
  CHECK(nonzero > 12);
  // A second step from there: float32 weights minus a bfloat16 gradient need not be bfloat16.
  for (int i = 0; i < 5; ++i) m.train_epoch({host(xv, {4, 6})}, {host(yv, {4, 3})}, order, 0, loop);
  const auto w2 = param(m, 0);
  CHECK_FALSE(std::all_of(w2.begin(), w2.end(), is_bfloat16));
}

TEST_CASE("loss scaling keeps float16 gradients that would underflow", "[model][mixed]") {
  // Targets 1e-7 away from the outputs: the loss gradient (about 2e-8 per element with the
  // batch mean) is below float16's smallest subnormal, so unscaled it rounds to zero.
  auto run = [](bool scaled) {
    ff::Model m(fftest::backend());
    int x = m.add_input({ff::kNone, 4});
    int y = m.add_node(dense("d", 2, ff::DType::Float16), {x});
    m.set_outputs({y});
    m.finalize();
    m.compile({mse_output()}, sgd(1.0f));
    if (scaled) m.set_loss_scale(std::make_shared<ff::DynamicLossScale>(32768.0f, 2000));
    std::vector<float> w(8, 0.0f), b(2, 0.0f);
    m.set_parameter(0, w.data());
    m.set_parameter(1, b.data());
    std::vector<float> xv(8 * 4, 1.0f), yv(8 * 2, 1e-7f);
    std::vector<int64_t> order{0, 1, 2, 3, 4, 5, 6, 7};
    ff::LoopOptions loop;
    loop.batch_size = 8;
    m.train_epoch({host(xv, {8, 4})}, {host(yv, {8, 2})}, order, 0, loop);
    return param(m, 1);  // the bias moved by -gradient
  };
  const auto plain = run(false), scaled = run(true);
  CHECK(plain[0] == 0.0f);
  // d/db mean((b - t)^2) over 2 outputs = (b - t) = -1e-7 at b = 0: the step adds ~1e-7.
  CHECK(scaled[0] == Approx(1e-7).epsilon(0.01));
}

TEST_CASE("an overflowing float16 step is skipped and the scale halves until steps fit", "[model][mixed]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 4});
  int y = m.add_node(dense("d", 2, ff::DType::Float16), {x});
  m.set_outputs({y});
  m.finalize();
  m.compile({mse_output()}, sgd(0.01f));
  auto scale = std::make_shared<ff::DynamicLossScale>(std::ldexp(1.0f, 40), 2000);
  m.set_loss_scale(scale);
  const auto xv = values(8 * 4, 5), yv = values(8 * 2, 6);
  const auto before = param(m, 0);
  std::vector<int64_t> order{0, 1, 2, 3, 4, 5, 6, 7};
  ff::LoopOptions loop;
  loop.batch_size = 8;
  m.train_epoch({host(xv, {8, 4})}, {host(yv, {8, 2})}, order, 0, loop);
  CHECK(param(m, 0) == before);  // skipped
  CHECK(scale->scale() == std::ldexp(1.0f, 39));
  CHECK(m.optimizer()->iterations() == 0);
  for (int i = 0; i < 40 && m.optimizer()->iterations() == 0; ++i)
    m.train_epoch({host(xv, {8, 4})}, {host(yv, {8, 2})}, order, 0, loop);
  CHECK(m.optimizer()->iterations() == 1);
  CHECK(param(m, 0) != before);
  // Every skipped step halved the scale from 2^40; the first good step left it unchanged.
  CHECK(scale->skipped_steps() >= 20);
  CHECK(scale->scale() == std::ldexp(1.0f, 40 - static_cast<int>(scale->skipped_steps())));
}
