// 16-bit floating point: rounding float32 values to the nearest bfloat16 or IEEE float16 value
// (round to nearest, ties to even; overflow to +-Inf; float16 subnormals kept), returned as
// float32. Mixed precision on the CPU computes with float32 arithmetic on values rounded to the
// layer's 16-bit compute dtype at every layer boundary, the numerics of 16-bit storage with
// float32 accumulation (what tensor cores do).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace ff {

// Nearest bfloat16 (8 exponent bits, 7 mantissa bits): the float32 bit pattern with its low 16
// bits rounded away. NaN stays NaN (quietened so rounding cannot turn it into Inf).
inline float round_to_bfloat16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    bits |= 0x00400000u;
  } else {
    bits += 0x7fffu + ((bits >> 16) & 1u);
  }
  bits &= 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// Nearest IEEE 754 binary16 (5 exponent bits, 10 mantissa bits; largest finite 65504, smallest
// subnormal 2^-24) through the compiler's _Float16 conversion (F16C instructions where the CPU
// has them), which rounds to nearest even.
inline float round_to_float16(float x) { return static_cast<float>(static_cast<_Float16>(x)); }

// The largest finite value of a 16-bit compute dtype (for error messages).
inline float half_precision_max(DType t) { return t == DType::Float16 ? 65504.0f : 3.3895314e38f; }

}  // namespace ff
