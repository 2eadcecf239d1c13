// The backend contract's dense_forward (backend/backend.h) on the CPU backend: bit for bit the
// gemm + bias_activation it replaced in Dense, for every activation, with and without bias and
// pre-activation, NaN and Inf included; the pre-activation stored for every activation (ReLU's
// fast path once skipped it); empty shapes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/backend.h"
#include "backend/registry.h"
#include "core/rng.h"

namespace {

constexpr ff::Activation kActivations[] = {
    ff::Activation::Linear, ff::Activation::Relu,      ff::Activation::Sigmoid,
    ff::Activation::Tanh,   ff::Activation::Softmax,   ff::Activation::LeakyRelu,
    ff::Activation::Elu,    ff::Activation::Gelu,      ff::Activation::Swish};

std::vector<float> random_values(int64_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * (2.0f * ff::Philox::uniform(seed, 0, i) - 1.0f);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("dense_forward equals gemm then bias_activation bit for bit on the CPU",
          "[backend][cpu]") {
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  const int64_t rows = 37, in = 29, units = 53;
  auto x = random_values(rows * in, 1);
  const auto w = random_values(in * units, 2, 0.3f);
  const auto bias = random_values(units, 3);
  x[3 * in + 5] = std::numeric_limits<float>::quiet_NaN();  // row 3 all NaN
  x[7 * in + 1] = std::numeric_limits<float>::infinity();   // row 7 +-Inf
  for (ff::Activation act : kActivations) {
    for (bool with_bias : {false, true}) {
      for (bool with_preact : {false, true}) {
        INFO("activation " << static_cast<int>(act) << " bias " << with_bias << " preact "
                           << with_preact);
        const float alpha = act == ff::Activation::LeakyRelu ? 0.2f : 1.0f;
        const float* b = with_bias ? bias.data() : nullptr;
        std::vector<float> y(rows * units, -5.0f), pre(rows * units, -6.0f);
        be.dense_forward(x.data(), w.data(), b, rows, in, units, act, alpha, y.data(),
                         with_preact ? pre.data() : nullptr);
        std::vector<float> want(rows * units, -5.0f), want_pre(rows * units, -6.0f);
        be.gemm(false, false, rows, units, in, 1.0f, x.data(), in, w.data(), units, 0.0f,
                want.data(), units);
        if (with_bias || act != ff::Activation::Linear || with_preact)
          be.bias_activation(want.data(), b, rows, units, act, alpha,
                             with_preact ? want_pre.data() : nullptr);
        CHECK(same_bits(y, want));
        CHECK(same_bits(pre, want_pre));
        CHECK(std::isnan(y[3 * units]));
      }
    }
  }
}

TEST_CASE("bias_activation stores the pre-activation for every activation, ReLU included",
          "[backend][cpu]") {
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  const int64_t rows = 5, cols = 70;
  const auto z = random_values(rows * cols, 4);
  const auto bias = random_values(cols, 5);
  for (ff::Activation act : kActivations) {
    INFO("activation " << static_cast<int>(act));
    std::vector<float> y = z, pre(rows * cols, 9.0f);
    be.bias_activation(y.data(), bias.data(), rows, cols, act, 0.1f, pre.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        REQUIRE(pre[r * cols + c] == z[r * cols + c] + bias[c]);
  }
}

TEST_CASE("dense_forward with an empty input or batch", "[backend][cpu]") {
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  const std::vector<float> bias{-1.0f, 0.5f, 2.0f};
  SECTION("no input features: y = act(bias)") {
    std::vector<float> y(2 * 3, 7.0f);
    be.dense_forward(nullptr, nullptr, bias.data(), 2, 0, 3, ff::Activation::Relu, 0.0f,
                     y.data(), nullptr);
    CHECK(y == std::vector<float>{0.0f, 0.5f, 2.0f, 0.0f, 0.5f, 2.0f});
  }
  SECTION("no rows: nothing is written") {
    std::vector<float> y(3, 7.0f);
    const std::vector<float> x(4, 1.0f), w(4 * 3, 1.0f);
    be.dense_forward(x.data(), w.data(), bias.data(), 0, 4, 3, ff::Activation::Sigmoid, 0.0f,
                     y.data(), nullptr);
    CHECK(y == std::vector<float>(3, 7.0f));
  }
}

TEST_CASE("gemm with beta 0 never reads C on the CPU", "[backend][cpu]") {
  // The CUDA backend's parity test relies on this rule (cuBLASLt does not read C when beta is 0).
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  const int64_t m = 9, n = 11, k = 5;
  const auto a = random_values(m * k, 6), b = random_values(k * n, 7);
  for (int64_t kk : {k, int64_t{0}}) {
    std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
    be.gemm(false, false, m, n, kk, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    for (float v : c) REQUIRE(std::isfinite(v));
  }
}
