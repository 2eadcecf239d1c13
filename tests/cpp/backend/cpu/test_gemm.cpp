// Tests of backend/cpu/gemm.cpp: the backend's float32 GEMM gives the same bits for any thread
// count (oneDNN's own threading did not: it splits the k sum from 8 threads on for a
// 128x512x784 product, and from 2 for a single row), its tiled and k-cut products match a
// double-precision reference with alpha, beta, padded leading dimensions and every transpose,
// and the tile plan covers the product with tiles of a useful size.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "backend/cpu/gemm.h"
#include "test_util.h"

using fftest::backend;
using fftest::uniform_values;

namespace {

struct Product {
  bool ta, tb;
  int64_t m, n, k;
};

std::vector<float> run_gemm(const Product& p, const std::vector<float>& a,
                            const std::vector<float>& b, float alpha, float beta,
                            std::vector<float> c, int64_t pad = 0) {
  const int64_t lda = (p.ta ? p.m : p.k) + pad, ldb = (p.tb ? p.k : p.n) + pad, ldc = p.n + pad;
  fftest::backend().gemm(p.ta, p.tb, p.m, p.n, p.k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  return c;
}

}  // namespace

TEST_CASE("gemm gives the same bits for any thread count", "[backend][cpu][gemm]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  const Product p = GENERATE(Product{false, false, 128, 512, 784},  // the MLP's first layer
                             Product{false, false, 1, 512, 784},    // one sample through it
                             Product{true, false, 784, 512, 128},   // its weight gradient
                             Product{false, true, 128, 512, 512},   // an input gradient
                             Product{true, false, 64, 48, 40000});  // a long k sum (1x1 conv)
  CAPTURE(p.ta, p.tb, p.m, p.n, p.k);
  const auto a = uniform_values(p.m * p.k, 71, -1, 1), b = uniform_values(p.k * p.n, 72, -1, 1);
  const std::vector<float> c0(static_cast<size_t>(p.m * p.n), 0.0f);
  const auto one = fftest::with_threads(1, [&] { return run_gemm(p, a, b, 1.0f, 0.0f, c0); });
  for (int threads : {2, 3, 8, 16}) {
    CAPTURE(threads);
    CHECK(fftest::with_threads(threads, [&] { return run_gemm(p, a, b, 1.0f, 0.0f, c0); }) ==
          one);
  }
}

TEST_CASE("tiled and k-cut gemm match a double-precision product", "[backend][cpu][gemm]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  const bool ta = GENERATE(false, true), tb = GENERATE(false, true);
  const Product shape = GENERATE(Product{false, false, 300, 260, 64},   // several tiles each way
                                 Product{false, false, 40, 30, 20000},  // k cut into chunks
                                 Product{false, false, 1, 700, 300});
  const Product p{ta, tb, shape.m, shape.n, shape.k};
  CAPTURE(ta, tb, p.m, p.n, p.k);
  const int64_t pad = 3;
  const int64_t lda = (ta ? p.m : p.k) + pad, ldb = (tb ? p.k : p.n) + pad, ldc = p.n + pad;
  const auto a = uniform_values((ta ? p.k : p.m) * lda, 81, -1, 1);
  const auto b = uniform_values((tb ? p.n : p.k) * ldb, 82, -1, 1);
  const auto c = uniform_values(p.m * ldc, 83, -1, 1);
  const float alpha = 0.5f, beta = 2.0f;
  const auto got = fftest::with_threads(2, [&] { return run_gemm(p, a, b, alpha, beta, c, pad); });
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= p.n) {
        REQUIRE(got[i * ldc + j] == c[i * ldc + j]);  // the padding is left alone
        continue;
      }
      double acc = 0.0;
      for (int64_t q = 0; q < p.k; ++q)
        acc += double{ta ? a[q * lda + i] : a[i * lda + q]} * (tb ? b[j * ldb + q] : b[q * ldb + j]);
      const double want = alpha * acc + beta * c[i * ldc + j];
      REQUIRE(got[i * ldc + j] == Approx(want).margin(1e-3).epsilon(1e-4));
    }
}

TEST_CASE("gemm with beta 0 ignores NaN in C, and k = 0 scales C by beta", "[backend][cpu][gemm]") {
  // A property of the CPU kernels themselves: on the CPU backend whatever backend the suite
  // runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  const Product p{false, false, 200, 300, 50};
  const auto a = uniform_values(p.m * p.k, 91, -1, 1), b = uniform_values(p.k * p.n, 92, -1, 1);
  const auto got = run_gemm(p, a, b, 1.0f, 0.0f,
                            std::vector<float>(p.m * p.n, std::nanf("")));
  for (float v : got) REQUIRE(std::isfinite(v));
  const Product empty{false, false, 4, 5, 0};
  const auto scaled = run_gemm(empty, {}, {}, 1.0f, 3.0f, std::vector<float>(20, 2.0f));
  for (float v : scaled) REQUIRE(v == 6.0f);
}

TEST_CASE("the gemm plan covers the product with tiles worth a thread", "[backend][cpu][gemm]") {
  const Product p = GENERATE(Product{false, false, 128, 512, 784}, Product{true, false, 784, 512, 128},
                             Product{false, false, 1, 512, 784}, Product{false, false, 128, 10, 512},
                             Product{true, false, 64, 48, 40000}, Product{false, true, 5000, 3000, 7},
                             Product{false, false, 7, 9, 3});
  CAPTURE(p.ta, p.tb, p.m, p.n, p.k);
  const ff::cpu::GemmPlan plan = ff::cpu::gemm_plan(p.ta, p.tb, p.m, p.n, p.k);
  // The tiles cover the product and none is empty.
  CHECK(plan.parts_m * plan.tile_m >= p.m);
  CHECK((plan.parts_m - 1) * plan.tile_m < p.m);
  CHECK(plan.parts_n * plan.tile_n >= p.n);
  CHECK((plan.parts_n - 1) * plan.tile_n < p.n);
  CHECK(plan.parts_k * plan.tile_k >= p.k);
  CHECK((plan.parts_k - 1) * plan.tile_k < p.k);
  // Tiles are 128 on a side at least (the whole side when shorter), and several tiles only
  // when each holds 2M multiply-adds (a thin side counted as 16).
  CHECK(plan.tile_m >= std::min<int64_t>(p.m, 128));
  CHECK(plan.tile_n >= std::min<int64_t>(p.n, 128));
  if (plan.tiles() > 1) CHECK(ff::cpu::gemm_work(p.m, p.n, p.k) / plan.tiles() >= (int64_t{2} << 20));
}

TEST_CASE("a single-row product is cut into column tiles", "[backend][cpu][gemm]") {
  // One sample through a 784 -> 512 layer reads the whole weight matrix: two threads halve it.
  const ff::cpu::GemmPlan plan = ff::cpu::gemm_plan(false, false, 1, 512, 784);
  CHECK(plan.parts_m == 1);
  CHECK(plan.parts_n == 2);
  CHECK(plan.parts_k == 1);
  CHECK(ff::cpu::gemm_work(1, 512, 784) == 16 * 512 * 784);
  CHECK(ff::cpu::gemm_work(300, 200, 7) == 300 * 200 * 7);
}
