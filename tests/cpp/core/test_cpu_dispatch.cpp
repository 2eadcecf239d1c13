// Tests of core/cpu_dispatch.h: the kernels that run through the dispatched clones (AVX-512,
// AVX2 or baseline, whichever this CPU picks) give the bits of plain float32 arithmetic in the
// written order: no fused multiply-add and no reordered sum in any clone, so a model computes the
// same bits whichever clone runs (and in a -march=native build). Sizes take the threaded path and
// leave vector remainders.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "core/half.h"
#include "test_util.h"

using fftest::backend;
using fftest::uniform_values;

namespace {

// a * b + c with the product rounded to float32 first (never one fused operation).
float mul_add(float a, float b, float c) {
  volatile float product = a * b;
  return product + c;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("dispatched elementwise kernels round every product before adding", "[backend][dispatch]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  const int64_t n = 100003;
  const auto x = uniform_values(n, 81, -3, 3);
  const float scale = 0.3712891f, offset = -1.2345678f;
  std::vector<float> y(x.size()), want(x.size());
  fftest::backend().scale_shift(x.data(), y.data(), n, scale, offset);
  for (int64_t i = 0; i < n; ++i) want[i] = mul_add(x[i], scale, offset);
  CHECK(same_bits(y, want));

  // Normalization, inverted: y = mean + x * s per channel.
  const int64_t rows = 4001, channels = 25;
  const auto xr = uniform_values(rows * channels, 82, -3, 3);
  const auto mean = uniform_values(channels, 83, -1, 1), var = uniform_values(channels, 84, 0.5, 2);
  std::vector<float> yr(xr.size()), wr(xr.size());
  fftest::backend().normalize(xr.data(), yr.data(), rows, channels, mean.data(), var.data(), true);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c)
      wr[r * channels + c] =
          mul_add(xr[r * channels + c], std::max(std::sqrt(var[c]), 1e-7f), mean[c]);
  CHECK(same_bits(yr, wr));
}

TEST_CASE("dispatched column sums add the rows in order", "[backend][dispatch]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  const int64_t rows = 3001, cols = 37;
  const auto x = uniform_values(rows * cols, 85, -1, 1);
  std::vector<float> got(cols), want(cols, 0.0f);
  fftest::backend().column_sum(x.data(), rows, cols, got.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) want[c] += x[r * cols + c];
  CHECK(same_bits(got, want));
}

TEST_CASE("dispatched float16 rounding has the bits of the _Float16 conversion", "[backend][dispatch]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  const int64_t n = 100003;
  auto x = uniform_values(n, 86, -70000, 70000);
  for (int64_t i = 0; i < n; i += 3) x[i] *= 1e-9f;  // float16 subnormals and underflow
  std::vector<float> got(x.size()), want(x.size());
  fftest::backend().round_to_precision(got.data(), x.data(), n, ff::DType::Float16);
  for (int64_t i = 0; i < n; ++i) want[i] = static_cast<float>(static_cast<_Float16>(x[i]));
  CHECK(same_bits(got, want));
}
