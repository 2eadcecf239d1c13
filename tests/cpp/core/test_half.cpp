// Tests of core/half.h and the backend's round_to_precision: bfloat16 and float16 rounding to
// nearest even at exact bit patterns (ties, overflow to Inf, float16 subnormals and underflow,
// NaN kept), checked against values worked out from the formats' definitions; float16 also bit
// for bit against the compiler's _Float16 conversion over every exponent and sign.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/backend.h"
#include "core/half.h"
#include "test_util.h"

using ff::round_to_bfloat16;
using ff::round_to_float16;

TEST_CASE("bfloat16 keeps 8 significant bits and rounds ties to even", "[half]") {
  CHECK(round_to_bfloat16(1.0f) == 1.0f);
  CHECK(round_to_bfloat16(-2.5f) == -2.5f);
  // bfloat16 spacing at 1 is 2^-7: 1 + 2^-8 is a tie between 1 (even) and 1 + 2^-7.
  CHECK(round_to_bfloat16(1.0f + std::ldexp(1.0f, -8)) == 1.0f);
  // 1 + 3*2^-8 is a tie between 1 + 2^-7 (odd mantissa) and 1 + 2^-6 (even): up.
  CHECK(round_to_bfloat16(1.0f + 3 * std::ldexp(1.0f, -8)) == 1.0f + std::ldexp(1.0f, -6));
  // Just above the tie rounds up.
  CHECK(round_to_bfloat16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) ==
        1.0f + std::ldexp(1.0f, -7));
  // pi: 0x40490fdb -> 0x40490000 (3.140625).
  CHECK(round_to_bfloat16(3.14159265f) == 3.140625f);
  // Same exponent range as float32: tiny values survive, the largest float overflows.
  CHECK(round_to_bfloat16(1e-30f) == Approx(1e-30f).epsilon(0.01));
  CHECK(std::isinf(round_to_bfloat16(std::numeric_limits<float>::max())));
  CHECK(std::isnan(round_to_bfloat16(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isinf(round_to_bfloat16(std::numeric_limits<float>::infinity())));
}

TEST_CASE("float16 has 11 significant bits, overflows above 65504 and keeps subnormals", "[half]") {
  CHECK(round_to_float16(1.0f + std::ldexp(1.0f, -11)) == 1.0f);  // tie to even
  CHECK(round_to_float16(1.0f + 3 * std::ldexp(1.0f, -11)) == 1.0f + std::ldexp(1.0f, -9));
  CHECK(round_to_float16(3.14159265f) == 3.140625f);  // 0x4248
  CHECK(round_to_float16(65504.0f) == 65504.0f);
  CHECK(round_to_float16(65519.0f) == 65504.0f);      // below the midpoint to 65536
  CHECK(std::isinf(round_to_float16(65520.0f)));      // the midpoint rounds to even: Inf
  CHECK(std::isinf(round_to_float16(-1e6f)));
  CHECK(round_to_float16(1e6f) > 0.0f);
  const float smallest = std::ldexp(1.0f, -24);       // the smallest subnormal
  CHECK(round_to_float16(smallest) == smallest);
  CHECK(round_to_float16(3 * smallest) == 3 * smallest);
  CHECK(round_to_float16(0.49f * smallest) == 0.0f);  // underflow: what loss scaling prevents
  CHECK(round_to_float16(1e-8f) == 0.0f);
  CHECK(std::isnan(round_to_float16(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("float16 rounding has the bits of the _Float16 conversion", "[half]") {
  // round_to_float16 computes with integer and float32 operations (portable, vectorisable); the
  // reference is the compiler's conversion (F16C or libgcc). Every upper half of the float32
  // bit pattern (sign, exponent, the mantissa bits that survive) with lower halves around
  // float16's rounding points (bit 12: half a spacing for normal values), and NaN payloads.
  const uint32_t lows[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000,
                           0x2fff, 0x3000, 0x3001, 0x7fff, 0x8000, 0xc000, 0xffff};
  int64_t wrong = 0, checked = 0;
  for (uint32_t high = 0; high <= 0xffff; ++high)
    for (uint32_t low : lows) {
      const uint32_t pattern = high << 16 | low;
      float x, want;
      std::memcpy(&x, &pattern, sizeof x);
      want = static_cast<float>(static_cast<_Float16>(x));
      const float got = round_to_float16(x);
      wrong += std::memcmp(&got, &want, sizeof got) != 0;
      ++checked;
    }
  CHECK(checked == 65536 * 14);
  CHECK(wrong == 0);
}

TEST_CASE("the CPU backend rounds arrays in place and out of place", "[half]") {
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);  // host vectors: the CPU's memory
  // Large enough for the threaded path.
  std::vector<float> src(100000), dst(src.size());
  for (size_t i = 0; i < src.size(); ++i) src[i] = 1.0f + static_cast<float>(i) * 1e-5f;
  be.round_to_precision(dst.data(), src.data(), static_cast<int64_t>(src.size()), ff::DType::BFloat16);
  for (size_t i = 0; i < src.size(); i += 997) CHECK(dst[i] == round_to_bfloat16(src[i]));
  be.round_to_precision(src.data(), src.data(), static_cast<int64_t>(src.size()), ff::DType::Float16);
  for (size_t i = 0; i < src.size(); i += 997)
    CHECK(src[i] == round_to_float16(1.0f + static_cast<float>(i) * 1e-5f));
  CHECK_THROWS(be.round_to_precision(dst.data(), src.data(), 4, ff::DType::Float32));
}
