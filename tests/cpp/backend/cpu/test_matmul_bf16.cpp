// Tests of backend/cpu/matmul_bf16.cpp through the backend's gemm_bf16: for every transpose
// combination and shapes with several row blocks and a remainder, the product of bfloat16
// operands equals float32 GEMM on the rounded operands up to summation order, operands that are
// not bfloat16 values are rounded first, and the bits do not depend on the thread count.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "backend/cpu/matmul_bf16.h"
#include "core/half.h"
#include "test_util.h"

using fftest::backend;
using fftest::uniform_values;

namespace {

std::vector<float> rounded(std::vector<float> v) {
  for (float& x : v) x = ff::round_to_bfloat16(x);
  return v;
}

}  // namespace

TEST_CASE("gemm_bf16 equals float32 GEMM of the bfloat16-rounded operands", "[backend][mixed]") {
  const bool ta = GENERATE(false, true), tb = GENERATE(false, true);
  const int64_t m = GENERATE(1, 37, 200), n = 19, k = 70;
  CAPTURE(ta, tb, m);
  const int64_t lda = ta ? m + 3 : k + 2, ldb = tb ? k + 1 : n + 5, ldc = n + 4;
  const auto a = uniform_values((ta ? k : m) * lda, 61, -2, 2);  // not bfloat16 values
  const auto b = uniform_values((tb ? n : k) * ldb, 62, -2, 2);
  std::vector<float> c(static_cast<size_t>(m * ldc), -7.0f), ref(c.size(), -7.0f);
  fftest::backend().gemm_bf16(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc);
  const auto ar = rounded(a), br = rounded(b);
  fftest::backend().gemm(ta, tb, m, n, k, 1.0f, ar.data(), lda, br.data(), ldb, 0.0f, ref.data(), ldc);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = c[i * ldc + j], want = ref[i * ldc + j];
      if (j >= n) {
        CHECK(got == -7.0f);  // the padding between rows is left alone
        continue;
      }
      CHECK(got == Approx(want).margin(1e-4).epsilon(1e-5));
    }
  // The same bits for 1, 2 or 5 threads (and on a second run).
  for (int threads : {1, 2, 5}) {
    CAPTURE(threads);
    std::vector<float> again(c.size(), -7.0f);
    fftest::with_threads(threads, [&] {
      fftest::backend().gemm_bf16(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, again.data(), ldc);
    });
    CHECK(again == c);
  }
}

TEST_CASE("bf16 kernels are used only where the CPU has them", "[backend][mixed]") {
  // Either way the result is the product of the rounded operands (checked above); here, that
  // the low-level entry refuses exactly when the CPU has no bfloat16 kernels.
  const std::vector<float> a{1.0f, 2.0f}, b{3.0f, 4.0f};
  float c = 0.0f;
  const bool ran = ff::cpu::matmul_bf16(false, false, 1, 1, 2, a.data(), 2, b.data(), 1, &c, 1);
  CHECK(ran == ff::cpu::bf16_kernels_available());
  if (ran) CHECK(c == 11.0f);
}
