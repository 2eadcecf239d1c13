// 16-bit floating point: rounding float32 values to the nearest bfloat16 or IEEE float16 value
// (round to nearest, ties to even; overflow to +-Inf; float16 subnormals kept), returned as
// float32, and the bits of 16-bit buffers (encode/decode). Mixed precision on the CPU computes with float32 arithmetic on values rounded to the
// layer's 16-bit compute dtype at every layer boundary, the numerics of 16-bit storage with
// float32 accumulation (what tensor cores do). The two rounding functions are FF_HD: the CUDA
// backend's round_to_precision runs them too, so both backends round to the same bits.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "core/host_device.h"

namespace ff {

// Nearest bfloat16 (8 exponent bits, 7 mantissa bits): the float32 bit pattern with its low 16
// bits rounded away. NaN stays NaN (quietened so rounding cannot turn it into Inf).
FF_HD inline float round_to_bfloat16(float x) {
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
// subnormal 2^-24), ties to even, computed with integer and float32 operations that vectorise on
// every x86-64 (F16C, which the compiler's _Float16 conversion needs to be fast, is not in the
// portable baseline). The bits equal those of the conversion through _Float16 (F16C's
// vcvtps2ph / vcvtph2ps, or libgcc's) for every float32, NaN payloads included (checked over all
// 2^32 inputs): a NaN is quietened and keeps the top 10 bits of its payload.
FF_HD inline float round_to_float16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const uint32_t mag = bits & 0x7fffffffu;
  const uint32_t nan = (mag | 0x00400000u) & 0xffffe000u;
  // |x| >= 2^-14, a normal float16: the low 13 of float32's 23 mantissa bits rounded away, to
  // even; 65520 (the midpoint to 65536) and above, and Inf, become Inf.
  uint32_t normal = (mag + 0xfffu + ((mag >> 13) & 1u)) & 0xffffe000u;
  normal = normal >= 0x47800000u ? 0x7f800000u : normal;
  // |x| < 2^-14, a float16 subnormal: the nearest multiple of 2^-24, which is float32's spacing
  // in [0.5, 1), so adding and removing 0.5 rounds there (to even).
  const float scaled = (std::fabs(x) + 0.5f) - 0.5f;
  uint32_t subnormal;
  std::memcpy(&subnormal, &scaled, sizeof subnormal);
  const uint32_t rounded = mag > 0x7f800000u ? nan : (mag >= 0x38800000u ? normal : subnormal);
  bits = (bits & 0x80000000u) | rounded;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// ---- 16-bit storage: the bits of a bfloat16 or float16 buffer (2 bytes per value) ----

// The bfloat16 bits of round_to_bfloat16(x): its high half.
FF_HD inline uint16_t bfloat16_bits(float x) {
  const float r = round_to_bfloat16(x);
  uint32_t bits;
  std::memcpy(&bits, &r, sizeof bits);
  return static_cast<uint16_t>(bits >> 16);
}

FF_HD inline float bfloat16_value(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// The IEEE binary16 bits of round_to_float16(x) (sign, 5 exponent bits biased by 15, 10
// mantissa bits; a NaN keeps the top 10 bits of its payload, quietened).
FF_HD inline uint16_t float16_bits(float x) {
  const float r = round_to_float16(x);
  uint32_t bits;
  std::memcpy(&bits, &r, sizeof bits);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t mag = bits & 0x7fffffffu;
  if (mag >= 0x7f800000u)  // Inf, or NaN with its payload's top bits
    return static_cast<uint16_t>(sign | 0x7c00u | (mag > 0x7f800000u ? ((mag >> 13) & 0x3ffu) | 0x200u : 0u));
  if (mag >= 0x38800000u)  // normal: exponent rebiased from 127 to 15, low 13 bits already zero
    return static_cast<uint16_t>(sign | ((mag - 0x38000000u) >> 13));
  // subnormal (or zero): a whole multiple of 2^-24 below 2^-14, exact in float32
  float a;
  std::memcpy(&a, &mag, sizeof a);
  return static_cast<uint16_t>(sign | static_cast<uint16_t>(a * 16777216.0f));
}

FF_HD inline float float16_value(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1fu) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent == 0) {
    const float a = static_cast<float>(mantissa) * 5.9604644775390625e-8f;  // m * 2^-24, exact
    std::memcpy(&bits, &a, sizeof bits);
    bits |= sign;
  } else {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  }
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// Encode/decode for a 16-bit storage dtype (BFloat16 or Float16; any other is treated as
// Float16 here: callers check the dtype once, outside their loops).
FF_HD inline uint16_t encode_half(bool bfloat16, float x) {
  return bfloat16 ? bfloat16_bits(x) : float16_bits(x);
}
FF_HD inline float decode_half(bool bfloat16, uint16_t h) {
  return bfloat16 ? bfloat16_value(h) : float16_value(h);
}

// The largest finite value of a 16-bit compute dtype (for error messages).
inline float half_precision_max(DType t) { return t == DType::Float16 ? 65504.0f : 3.3895314e38f; }

}  // namespace ff
