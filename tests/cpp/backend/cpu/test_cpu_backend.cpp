// The CPU backend's kernels that layers do not exercise at every size: GEMM in all four transpose
// combinations (whichever library the build uses: oneDNN or CBLAS) against a naive loop, and the
// OpenMP-split kernels above the size at which they go parallel, against serial references.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/backend.h"
#include "backend/registry.h"
#include "core/rng.h"
#include "test_util.h"

namespace {

std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 2.0f * ff::Philox::uniform(seed, 0, i) - 1.0f;
  return v;
}

}  // namespace

TEST_CASE("gemm matches a naive triple loop for every transpose combination", "[backend][cpu]") {
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  const int64_t m = 37, n = 53, k = 29;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      auto a = random_values(m * k, 1), b = random_values(k * n, 2), c = random_values(m * n, 3);
      const int64_t lda = ta ? m : k, ldb = tb ? k : n;
      std::vector<double> want(static_cast<size_t>(m * n));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0.0;
          for (int64_t p = 0; p < k; ++p) {
            double av = ta ? a[p * lda + i] : a[i * lda + p];
            double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
            acc += av * bv;
          }
          want[i * n + j] = 0.5 * acc + 2.0 * c[i * n + j];
        }
      be.gemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 2.0f, c.data(), n);
      INFO("trans_a=" << ta << " trans_b=" << tb);
      for (int64_t i = 0; i < m * n; ++i) REQUIRE(c[i] == Approx(want[i]).margin(1e-4).epsilon(1e-5));
    }
  }
}

TEST_CASE("large kernels split over threads agree with serial references", "[backend][cpu]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  const int64_t rows = 300, cols = 700;  // 210,000 elements: above the parallel threshold
  const int64_t n = rows * cols;
  auto x = random_values(n, 11);

  SECTION("column_sum") {
    std::vector<float> out(static_cast<size_t>(cols));
    be.column_sum(x.data(), rows, cols, out.data());
    for (int64_t c = 0; c < cols; ++c) {
      float want = 0.0f;
      for (int64_t r = 0; r < rows; ++r) want += x[r * cols + c];  // same order: bit-identical
      REQUIRE(out[c] == want);
    }
  }
  SECTION("add_sum_squares and check_finite write into the step state") {
    double want = 0.0;
    for (float v : x) want += static_cast<double>(v) * v;
    fftest::StateBlock block;
    be.add_sum_squares(x.data(), n, block.get());
    be.add_sum_squares(x.data(), n, block.get());  // adds
    REQUIRE(block.read().norm_squares == Approx(2 * want).epsilon(1e-12));
    be.check_finite(x.data(), n, block.get());
    REQUIRE(block.read().grads_finite == 1);
    for (int64_t at : {int64_t{0}, n / 2, n - 1})
      for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                        -std::numeric_limits<float>::infinity()}) {
        auto y = x;
        y[at] = bad;
        fftest::StateBlock fresh;
        be.check_finite(y.data(), n, fresh.get());
        REQUIRE(fresh.read().grads_finite == 0);
      }
  }
  SECTION("bias + relu and its gradient, NaN propagating") {
    auto bias = random_values(cols, 12);
    auto y = x;
    y[5] = std::numeric_limits<float>::quiet_NaN();
    be.bias_activation(y.data(), bias.data(), rows, cols, ff::Activation::Relu, 0.0f, nullptr);
    REQUIRE(std::isnan(y[5]));
    for (int64_t i = 0; i < n; ++i) {
      if (i == 5) continue;
      float v = x[i] + bias[i % cols];
      REQUIRE(y[i] == (v < 0.0f ? 0.0f : v));
    }
    auto dy = random_values(n, 13);
    std::vector<float> dx(static_cast<size_t>(n));
    be.activation_backward(ff::Activation::Relu, 0.0f, nullptr, y.data(), dy.data(), dx.data(),
                           rows, cols);
    for (int64_t i = 0; i < n; ++i) REQUIRE(dx[i] == (y[i] > 0.0f ? dy[i] : 0.0f));
  }
  SECTION("scale and clip") {
    auto y = x;
    be.scale(y.data(), n, 3.0f);
    for (int64_t i = 0; i < n; ++i) REQUIRE(y[i] == x[i] * 3.0f);
    be.clip(y.data(), n, -0.5f, 0.25f);
    for (int64_t i = 0; i < n; ++i) REQUIRE(y[i] == std::min(std::max(x[i] * 3.0f, -0.5f), 0.25f));
  }
}

TEST_CASE("gather_rows copies the indexed rows and zeros a bad index's row", "[backend][cpu]") {
  // The backend under test (FORGEFLOW_TEST_DEVICE=emulated-gpu: through device memory).
  ff::Backend& be = fftest::backend();
  ff::Device& d = be.device();
  // 2-byte rows (odd widths are bytes to the kernel), 5 source rows, a batch taken from the
  // middle of a longer order: order[2..6) = {4, -1, 0, 5} -> rows 4, zeros, 0, zeros.
  const std::vector<uint8_t> src{10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
  const std::vector<int64_t> order{1, 1, 4, -1, 0, 5};
  ff::Tensor s = ff::Tensor::empty(d, {10}, ff::DType::UInt8);
  ff::Tensor idx = ff::Tensor::empty(d, {6}, ff::DType::Int64);
  ff::Tensor out = ff::Tensor::empty(d, {8}, ff::DType::UInt8);
  d.copy_from_host(s.raw(), src.data(), src.size());
  d.copy_from_host(idx.raw(), order.data(), order.size() * sizeof(int64_t));
  be.gather_rows(out.raw(), s.raw(), 5, 2, idx.data<int64_t>() + 2, 4);
  std::vector<uint8_t> got(8);
  d.copy_to_host(got.data(), out.raw(), 8);
  CHECK(got == std::vector<uint8_t>{50, 51, 0, 0, 10, 11, 0, 0});
  // Enough rows to split over threads: the same as a serial loop.
  const int64_t rows = 100000;
  std::vector<int64_t> host_src(static_cast<size_t>(rows)), perm(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    host_src[static_cast<size_t>(i)] = i * 3 + 1;
    perm[static_cast<size_t>(i)] = (i * 7919) % rows;
  }
  ff::Tensor bs = ff::Tensor::empty(d, {rows}, ff::DType::Int64);
  ff::Tensor bi = ff::Tensor::empty(d, {rows}, ff::DType::Int64);
  ff::Tensor bo = ff::Tensor::empty(d, {rows}, ff::DType::Int64);
  d.copy_from_host(bs.raw(), host_src.data(), bs.nbytes());
  d.copy_from_host(bi.raw(), perm.data(), bi.nbytes());
  be.gather_rows(bo.raw(), bs.raw(), rows, 8, bi.data<int64_t>(), rows);
  std::vector<int64_t> big(static_cast<size_t>(rows));
  d.copy_to_host(big.data(), bo.raw(), bo.nbytes());
  bool same = true;
  for (int64_t i = 0; i < rows; ++i) same = same && big[static_cast<size_t>(i)] == perm[static_cast<size_t>(i)] * 3 + 1;
  CHECK(same);
}
