// Tests of backend/cpu/matmul_bf16.cpp through the backend's gemm_bf16: for every transpose
// combination and shapes with several row blocks and a remainder, the product of bfloat16
// operands equals float32 GEMM on the rounded operands up to summation order, operands that are
// not bfloat16 values are rounded first (to nearest even, as round_to_bfloat16), the result is
// float32 (not rounded again), and the bits do not depend on the thread count. The same tests
// hold on a CPU without AVX-512 BF16, where gemm_bf16 runs float32 GEMM on the rounded operands:
// CI runs them once more with ONEDNN_MAX_CPU_ISA=AVX512_CORE (.ci/run).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/matmul_bf16.h"
#include "core/half.h"
#include "core/rng.h"
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
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
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

TEST_CASE("gemm_bf16 gives exact bits where every sum is exact, with or without bf16 kernels",
          "[backend][mixed]") {
  // A property of the CPU kernels themselves: on the CPU backend whatever backend the suite
  // runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  // Operands that round to small integers (4 significant bits) from both sides of them, by less
  // than half a bfloat16 spacing or by exactly half of one (a tie, which goes to the even
  // neighbour: the integer itself). Every product and partial sum is then an integer below 2^24,
  // exact in float32 in any order, so the fast path and the fallback must both give exactly the
  // integer products: rounding up or down instead of to nearest even, skipping the rounding,
  // or rounding the result to bfloat16 (the sums reach 14 significant bits) all change them.
  const bool ta = GENERATE(false, true), tb = GENERATE(false, true);
  CAPTURE(ta, tb);
  const int64_t m = 45, n = 21, k = 67;
  const int64_t lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
  auto operand = [](int64_t size, uint64_t seed, std::vector<double>& exact) {
    std::vector<float> v(static_cast<size_t>(size));
    exact.resize(v.size());
    for (int64_t i = 0; i < size; ++i) {
      const int r = static_cast<int>(31 * ff::Philox::uniform(seed, 3, i)) - 15;  // -15..15
      exact[i] = r;
      const float mag = static_cast<float>(std::abs(r));
      // Half the bfloat16 spacing above |r| and below it (half as much below a power of two).
      const float up = mag == 0 ? 0 : std::ldexp(1.0f, std::ilogb(mag) - 8);
      const float down = mag == 0 ? 0 : std::ldexp(1.0f, std::ilogb(mag * 0.999f) - 8);
      const float offsets[] = {0.0f, 0.96f * up, -0.96f * down, up /* the tie */};
      v[i] = std::copysign(mag + offsets[i % 4], static_cast<float>(r));
    }
    return v;
  };
  std::vector<double> ae, be;
  const auto a = operand(m * k, 71, ae), b = operand(k * n, 72, be);
  REQUIRE(a != rounded(a));  // most operands are not bfloat16 values
  std::vector<float> c(static_cast<size_t>(m * n));
  fftest::backend().gemm_bf16(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc);
  int64_t wrong = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t p = 0; p < k; ++p)
        want += ae[ta ? p * lda + i : i * lda + p] * be[tb ? j * ldb + p : p * ldb + j];
      wrong += c[i * ldc + j] != static_cast<float>(want);
    }
  CHECK(wrong == 0);
  // Some sums need more than bfloat16's 8 significant bits.
  CHECK(std::any_of(c.begin(), c.end(), [](float v) { return ff::round_to_bfloat16(v) != v; }));
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
