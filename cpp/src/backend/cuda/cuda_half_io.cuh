// Storage policies for the CUDA kernels that serve float32 buffers and the 16-bit buffers of
// mixed precision (backend.h's "16-bit storage" section) with one kernel body: a kernel templated
// on a policy reads values as float (`load`) and writes floats (`store`). Float32Io reads and
// writes the float itself, so its instantiation is the float32 kernel's arithmetic unchanged;
// Half16Io decodes and encodes the bits with core/half.h's FF_HD functions (round to nearest
// even, NaN stays NaN, overflow to +-Inf), so the GPU writes exactly the CPU's bits for the same
// float. The 16-bit type is chosen once per call on the host (dispatch_half, dispatch_storage),
// never inside a kernel.
#pragma once
#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/half.h"

namespace ff::cuda {
namespace {

struct Float32Io {
  using T = float;
  static constexpr DType kType = DType::Float32;
  __device__ static float load(const float* p, int64_t i) { return p[i]; }
  __device__ static void store(float* p, int64_t i, float v) { p[i] = v; }
};

template <bool BFloat16>
struct Half16Io {
  using T = uint16_t;
  static constexpr DType kType = BFloat16 ? DType::BFloat16 : DType::Float16;
  __device__ static float load(const uint16_t* p, int64_t i) { return decode_half(BFloat16, p[i]); }
  __device__ static void store(uint16_t* p, int64_t i, float v) { p[i] = encode_half(BFloat16, v); }
};
using BFloat16Io = Half16Io<true>;
using Float16Io = Half16Io<false>;

// The typed pointer of a policy from a void* buffer.
template <class IO>
typename IO::T* typed(void* p) {
  return static_cast<typename IO::T*>(p);
}
template <class IO>
const typename IO::T* typed(const void* p) {
  return static_cast<const typename IO::T*>(p);
}

// f(BFloat16Io{}) or f(Float16Io{}) for `half`; any other dtype raises ValueError naming `fn`.
template <class F>
void dispatch_half(DType half, const char* fn, F&& f) {
  if (half == DType::BFloat16) {
    f(BFloat16Io{});
  } else if (half == DType::Float16) {
    f(Float16Io{});
  } else {
    throw ValueError(std::string(fn) +
                     ": expected a 16-bit storage dtype (bfloat16 or float16), received " +
                     dtype_name(half));
  }
}

// As dispatch_half, Float32 (Float32Io) accepted too.
template <class F>
void dispatch_storage(DType t, const char* fn, F&& f) {
  if (t == DType::Float32) {
    f(Float32Io{});
  } else if (t == DType::BFloat16) {
    f(BFloat16Io{});
  } else if (t == DType::Float16) {
    f(Float16Io{});
  } else {
    throw ValueError(std::string(fn) + ": expected float32, bfloat16 or float16, received " +
                     dtype_name(t));
  }
}

}  // namespace
}  // namespace ff::cuda
