// The activations' shared FF_HD rules (backend/activation_rules.h) on the CPU: known values and
// NaN propagation, and the CPU backend's kernels computing exactly the rules' bits (its
// vectorised relu, sigmoid and tanh loops included), so the CUDA kernels that run the same rules
// agree with the CPU by construction.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/activation_rules.h"
#include "backend/registry.h"
#include "core/rng.h"

namespace {

using ff::Activation;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

const Activation kElementwise[] = {Activation::Linear, Activation::Relu,      Activation::Sigmoid,
                                   Activation::Tanh,   Activation::LeakyRelu, Activation::Elu,
                                   Activation::Gelu,   Activation::Swish};

// Random values in [-6, 6) with NaN, +-Inf, +-0 and large magnitudes among them.
std::vector<float> inputs(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 12.0f * ff::Philox::uniform(seed, 0, i) - 6.0f;
  const float specials[] = {kNaN, kInf, -kInf, 0.0f, -0.0f, 100.0f, -100.0f, 1e-30f, -1e-30f};
  for (size_t i = 0; i < sizeof specials / sizeof specials[0]; ++i) v[i * 7] = specials[i];
  return v;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("activation rules: values and NaN propagation", "[backend][rules]") {
  CHECK(ff::activate_rule(Activation::Relu, 0.0f, -2.0f) == 0.0f);
  CHECK(ff::activate_rule(Activation::Relu, 0.0f, 3.0f) == 3.0f);
  CHECK(ff::activate_rule(Activation::LeakyRelu, 0.2f, -2.0f) == Approx(-0.4f));
  CHECK(ff::activate_rule(Activation::Elu, 1.5f, -1.0f) == Approx(1.5f * std::expm1(-1.0f)));
  CHECK(ff::activate_rule(Activation::Sigmoid, 0.0f, 0.0f) == 0.5f);
  CHECK(ff::activate_rule(Activation::Sigmoid, 0.0f, -100.0f) > 0.0f);  // stable, no 0/0
  CHECK(ff::activate_rule(Activation::Gelu, 0.0f, 0.0f) == 0.0f);
  CHECK(ff::activate_rule(Activation::Gelu, 0.0f, 1.0f) == Approx(0.8413447f));
  CHECK(ff::activate_rule(Activation::Swish, 0.0f, 1.0f) == Approx(0.7310586f));
  CHECK(ff::softplus_rule(-kInf) == 0.0f);
  CHECK(ff::softplus_rule(50.0f) == 50.0f);
  CHECK(ff::gelu_grad_rule(0.0f) == 0.5f);
  for (Activation act : kElementwise) {
    INFO("activation " << static_cast<int>(act));
    CHECK(std::isnan(ff::activate_rule(act, 0.3f, kNaN)));
    if (act != Activation::Relu)
      CHECK(std::isnan(ff::activation_grad_rule(act, 0.3f, kNaN, kNaN, kNaN)));
  }
  // relu's gradient routes dy where y > 0 only: a NaN y passes no gradient (as the CPU always did)
  CHECK(ff::activation_grad_rule(Activation::Relu, 0.0f, 0.0f, kNaN, 1.0f) == 0.0f);
  CHECK(ff::activation_grad_rule(Activation::Relu, 0.0f, 0.0f, 2.0f, 5.0f) == 5.0f);
  CHECK(ff::activation_grad_rule(Activation::Elu, 1.0f, 0.0f, -0.5f, 2.0f) == 1.0f);
  CHECK(ff::activation_grad_rule(Activation::Sigmoid, 0.0f, 0.0f, 0.5f, 1.0f) == 0.25f);
}

TEST_CASE("the CPU backend's activation kernels compute the shared rules' bits",
          "[backend][rules]") {
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  const float alpha = 0.3f;
  // 70 x 3000: above the parallel threshold, so the split loops run too
  for (int64_t rows : {int64_t{1}, int64_t{70}}) {
    const int64_t cols = 3000, n = rows * cols;
    const auto x = inputs(n, 5);
    const auto dy = inputs(n, 6);
    const auto bias = inputs(cols, 7);
    for (Activation act : kElementwise) {
      INFO("activation " << static_cast<int>(act) << " rows " << rows);
      std::vector<float> y(static_cast<size_t>(n)), dx(static_cast<size_t>(n));
      be.activation_forward(act, alpha, x.data(), y.data(), rows, cols);
      be.activation_backward(act, alpha, x.data(), y.data(), dy.data(), dx.data(), rows, cols);
      std::vector<float> fused = x, preact(static_cast<size_t>(n), -1.0f);
      be.bias_activation(fused.data(), bias.data(), rows, cols, act, alpha, preact.data());
      int64_t forward_off = 0, backward_off = 0, fused_off = 0;
      for (int64_t i = 0; i < n; ++i) {
        forward_off += !same_bits(y[i], ff::activate_rule(act, alpha, x[i]));
        backward_off += !same_bits(dx[i], ff::activation_grad_rule(act, alpha, x[i], y[i], dy[i]));
        fused_off +=
            !same_bits(fused[i], ff::activate_rule(act, alpha, x[i] + bias[i % cols]));
      }
      CHECK(forward_off == 0);
      CHECK(backward_off == 0);
      CHECK(fused_off == 0);
    }
  }
}
