// DType: the element types the core knows. Tensors hold float32 (labels int32/int64); BFloat16
// and Float16 name a layer's compute dtype under mixed precision (core/half.h rounds to them).
// The host-only types (Bool ... Float64) describe the caller's arrays (NumPy), which the model
// converts batch by batch at its boundary (core/convert.h), never as a whole.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ff {

enum class DType : uint8_t {
  Float32, Int32, Int64, BFloat16, Float16,
  // host arrays only
  Bool, UInt8, Int8, UInt16, Int16, UInt32, UInt64, Float64, HostFloat16
};

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::BFloat16: return 2;
    case DType::Float16: return 2;
    case DType::Bool: return 1;
    case DType::UInt8: return 1;
    case DType::Int8: return 1;
    case DType::UInt16: return 2;
    case DType::Int16: return 2;
    case DType::UInt32: return 4;
    case DType::UInt64: return 8;
    case DType::Float64: return 8;
    case DType::HostFloat16: return 2;
  }
  return 0;
}

inline std::string dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::BFloat16: return "bfloat16";
    case DType::Float16: return "float16";
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int8: return "int8";
    case DType::UInt16: return "uint16";
    case DType::Int16: return "int16";
    case DType::UInt32: return "uint32";
    case DType::UInt64: return "uint64";
    case DType::Float64: return "float64";
    case DType::HostFloat16: return "float16";
  }
  return "?";
}

// True for the 16-bit floating types a mixed-precision layer computes in.
inline bool is_half_precision(DType t) { return t == DType::BFloat16 || t == DType::Float16; }

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };

}  // namespace ff
