// Shared data for the optimizer tests: a small parameter vector and the gradients of three steps,
// and a float-precision comparison of a run against a closed-form reference computed in double.
#pragma once
#include <catch2/catch.hpp>

#include <vector>

namespace fftest {

inline const std::vector<float>& p0() {
  static const std::vector<float> p{1.0f, -2.0f, 0.5f, 0.0f};
  return p;
}

inline const std::vector<std::vector<float>>& three_grads() {
  static const std::vector<std::vector<float>> g{{0.5f, -1.0f, 2.0f, -0.1f},
                                                 {0.3f, -0.8f, -1.5f, 0.2f},
                                                 {-0.2f, -0.5f, 1.0f, 0.4f}};
  return g;
}

inline void check_close(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("parameter " << i);
    CHECK(got[i] == Approx(want[i]).epsilon(1e-5).margin(1e-6));
  }
}

}  // namespace fftest
