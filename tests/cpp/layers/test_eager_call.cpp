// call_layer_eagerly (layers/eager_call.h): a layer alone builds, gets weights and computes on
// arrays; a layer of a model computes with that model's weights (its float32 ones under mixed
// precision, through its own 16-bit kernels) and stays bound to the model; a recorded kernel error is raised.
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "layers/dense.h"
#include "layers/eager_call.h"
#include "model/model.h"
#include "test_util.h"

namespace {

std::shared_ptr<ff::Dense> dense(int64_t units, const char* act) {
  return std::make_shared<ff::Dense>("d", 5, units, act, true, "glorot_uniform", "random_normal");
}

std::vector<float> reference(const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& b, int64_t rows, int64_t in,
                             int64_t out) {
  std::vector<float> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = b[o];
      for (int64_t k = 0; k < in; ++k) s += static_cast<double>(x[r * in + k]) * w[k * out + o];
      y[r * out + o] = static_cast<float>(s > 0 ? s : 0);
    }
  return y;
}

}  // namespace

TEST_CASE("eager call: a standalone Dense builds and computes relu(x W + b)", "[layers][eager]") {
  ff::Backend& be = fftest::backend();
  auto d = dense(3, "relu");
  const auto x = fftest::uniform_values(4 * 5, 1, -1.0f, 1.0f);
  const auto out = ff::call_layer_eagerly(*d, {{4, 5}}, {x.data()}, false, 0, &be);
  CHECK(out.shape == ff::Shape{4, 3});
  REQUIRE(d->weights().size() == 2);
  std::vector<float> w(15), b(3);
  be.device().copy_to_host(w.data(), d->weights()[0].raw(), w.size() * sizeof(float));
  be.device().copy_to_host(b.data(), d->weights()[1].raw(), b.size() * sizeof(float));
  const auto ref = reference(x, w, b, 4, 5, 3);
  for (size_t i = 0; i < ref.size(); ++i) CHECK(out.values[i] == Approx(ref[i]).margin(1e-5));
  CHECK_THROWS_WITH(ff::call_layer_eagerly(*d, {{4, 6}}, {x.data()}, false, 0, &be),
                    Catch::Contains("incompatible"));
}

TEST_CASE("eager call: a mixed-precision layer of a model computes with its float32 weights",
          "[layers][eager][mixed]") {
  ff::Backend& be = fftest::backend();
  ff::Model m(be);
  auto d = dense(2, "relu");
  d->set_compute_dtype(ff::DType::BFloat16);
  int x = m.add_input({ff::kNone, 3});
  int h = m.add_node(d, {x});
  int y = m.add_node(std::make_shared<ff::Dense>("out", 6, 1, "linear", true, "glorot_uniform",
                                                  "zeros"),
                     {h});
  m.set_outputs({y});
  m.finalize();
  const auto xv = fftest::uniform_values(2 * 3, 2, -1.0f, 1.0f);
  const auto params_before = d->params();
  const auto out = ff::call_layer_eagerly(*d, {{2, 3}}, {xv.data()}, false, 0, &be);
  std::vector<float> w(6), b(2);
  m.get_parameter(0, w.data());
  m.get_parameter(1, b.data());
  const auto ref = reference(xv, w, b, 2, 3, 2);
  // Its bfloat16 product (operands rounded to bfloat16, float32 accumulation).
  for (size_t i = 0; i < ref.size(); ++i)
    CHECK(out.values[i] == Approx(ref[i]).epsilon(1.0 / 64).margin(1e-3));
  // The model's 16-bit copies are bound again after the call.
  REQUIRE(d->params().size() == params_before.size());
  for (size_t i = 0; i < params_before.size(); ++i)
    CHECK(d->params()[i].raw() == params_before[i].raw());
}
