// Tests for layers/initializers.cpp: Keras formulas (glorot_uniform limit sqrt(6/(in+out)),
// he_normal truncated at 2 stddev with the 0.8796 correction so the sample std is sqrt(2/in)),
// fans of conv kernels, constants, seeding, and unknown names.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "layers/initializers.h"
#include "test_util.h"

using namespace fftest;

namespace {

struct Stats {
  double mean = 0, var = 0, max_abs = 0;
};

Stats stats(const std::vector<float>& v) {
  Stats s;
  for (float x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (float x : v) {
    s.var += (x - s.mean) * (x - s.mean);
    s.max_abs = std::max(s.max_abs, std::fabs(static_cast<double>(x)));
  }
  s.var /= static_cast<double>(v.size() - 1);
  return s;
}

std::vector<float> init(const ff::Shape& shape, const std::string& name, uint64_t seed) {
  ff::Tensor t = ff::Tensor::zeros(fftest::device(), shape);
  ff::initialize(t, name, seed);
  return to_vector(t);
}

}  // namespace

TEST_CASE("glorot_uniform: within sqrt(6/(fan_in+fan_out)) with variance limit^2/3",
          "[layers][initializers]") {
  const auto v = init({200, 100}, "glorot_uniform", 1);
  const double limit = std::sqrt(6.0 / 300.0);
  const Stats s = stats(v);
  CHECK(s.max_abs <= limit);
  CHECK(s.max_abs > 0.98 * limit);  // the range is really used
  CHECK(s.mean == Approx(0.0).margin(0.01 * limit));
  CHECK(s.var == Approx(limit * limit / 3.0).epsilon(0.03));
}

TEST_CASE("he_normal: truncated at 2 stddev, sample std sqrt(2/fan_in)", "[layers][initializers]") {
  const auto v = init({200, 100}, "he_normal", 2);
  const double keras_std = std::sqrt(2.0 / 200.0);           // std of the truncated samples
  const double stddev = keras_std / 0.87962566103423978;     // std of the untruncated normal
  const Stats s = stats(v);
  CHECK(s.max_abs <= 2.0 * stddev * (1 + 1e-6));
  CHECK(s.max_abs > 1.9 * stddev);
  CHECK(s.mean == Approx(0.0).margin(0.02 * keras_std));
  CHECK(std::sqrt(s.var) == Approx(keras_std).epsilon(0.03));
}

TEST_CASE("Uniform initializers use Keras's limits", "[layers][initializers]") {
  struct Case {
    const char* name;
    double limit;
  };
  // fan_in 150, fan_out 50.
  const Case cases[] = {{"he_uniform", std::sqrt(6.0 / 150)},
                        {"lecun_uniform", std::sqrt(3.0 / 150)},
                        {"random_uniform", 0.05}};
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const Stats s = stats(init({150, 50}, c.name, 3));
    CHECK(s.max_abs <= c.limit);
    CHECK(s.max_abs > 0.97 * c.limit);
    CHECK(s.var == Approx(c.limit * c.limit / 3.0).epsilon(0.05));
  }
}

TEST_CASE("Normal initializers: glorot_normal, lecun_normal, random_normal, truncated_normal",
          "[layers][initializers]") {
  CHECK(std::sqrt(stats(init({150, 50}, "glorot_normal", 4)).var) ==
        Approx(std::sqrt(2.0 / 200)).epsilon(0.05));
  CHECK(std::sqrt(stats(init({150, 50}, "lecun_normal", 4)).var) ==
        Approx(std::sqrt(1.0 / 150)).epsilon(0.05));
  CHECK(std::sqrt(stats(init({150, 50}, "random_normal", 4)).var) == Approx(0.05).epsilon(0.05));
  const Stats t = stats(init({150, 50}, "truncated_normal", 4));
  CHECK(t.max_abs <= 0.1 + 1e-7);
  CHECK(std::sqrt(t.var) == Approx(0.05 * 0.87962566103423978).epsilon(0.05));
}

TEST_CASE("Conv-shaped kernels count the receptive field in the fans", "[layers][initializers]") {
  // (3, 3, 16, 32): fan_in = 9*16 = 144, fan_out = 9*32 = 288.
  const Stats s = stats(init({3, 3, 16, 32}, "glorot_uniform", 5));
  const double limit = std::sqrt(6.0 / (144.0 + 288.0));
  CHECK(s.max_abs <= limit);
  CHECK(s.max_abs > 0.97 * limit);
}

TEST_CASE("zeros and ones", "[layers][initializers]") {
  for (float v : init({7, 3}, "zeros", 1)) REQUIRE(v == 0.0f);
  for (float v : init({7}, "ones", 1)) REQUIRE(v == 1.0f);
}

TEST_CASE("Same seed gives the same values, another seed other values", "[layers][initializers]") {
  for (const char* name : {"glorot_uniform", "he_normal"}) {
    CAPTURE(name);
    const auto a = init({20, 10}, name, 123);
    const auto b = init({20, 10}, name, 123);
    const auto c = init({20, 10}, name, 124);
    CHECK(a == b);
    int64_t differ = 0;
    for (size_t i = 0; i < a.size(); ++i) differ += a[i] != c[i];
    CHECK(differ > 190);
  }
}

TEST_CASE("Unknown initializer names raise ValueError listing the known ones",
          "[layers][initializers]") {
  ff::Tensor t = ff::Tensor::zeros(fftest::device(), {2, 2});
  CHECK_THROWS_AS(ff::initialize(t, "glorot", 1), ff::ValueError);
  CHECK_THROWS_WITH(ff::check_initializer_name("xavier"),
                    Catch::Contains("Unknown initializer: 'xavier'") &&
                        Catch::Contains("glorot_uniform"));
  CHECK_NOTHROW(ff::check_initializer_name("he_uniform"));
}
