// Helpers of the op layer tests (tests/cpp/layers/ops/): eager runs on host values through
// run_eager (any backend, fftest::backend()), and the Catch matchers they use.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "layers/ops/op_layer.h"
#include "test_util.h"

namespace fftest::ops {

struct HostTensor {
  ff::Shape shape;
  std::vector<float> values;
};

// op run eagerly on the given inputs; returns the result's shape and values.
inline HostTensor eager(ff::OpLayer& op, const std::vector<HostTensor>& inputs) {
  std::vector<ff::Tensor> ts;
  for (const auto& in : inputs) ts.push_back(make_tensor(in.shape, in.values));
  ff::Tensor y = ff::run_eager(op, backend(), ts);
  return {y.shape(), to_vector(y)};
}

// The same float (NaN equals NaN), within a relative tolerance.
inline bool close(float a, double b, double rel = 1e-5, double abs = 1e-6) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= abs + rel * std::fabs(b);
}

inline void require_close(const std::vector<float>& got, const std::vector<double>& want,
                          double rel = 1e-5, double abs = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK(close(got[i], want[i], rel, abs));
  }
}

// The message of the ValueError `fn` raises (empty when none).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ff::ValueError& e) {
    return e.what();
  }
  return "";
}

}  // namespace fftest::ops
