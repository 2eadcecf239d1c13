// Batch conversion at the model boundary (see convert.h).
#include "core/convert.h"

#include <cstring>
#include <string>

#include "core/errors.h"

namespace ff {
namespace {

// IEEE binary16 bits to float32 (exact: every half value is a float).
float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu, bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // Inf, NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // +-0
  } else {  // subnormal: normalise
    exponent = 113;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <typename Out, typename In>
void convert_typed(const In* src, int64_t row_elems, const int64_t* rows, int64_t count, Out* dst) {
  for (int64_t r = 0; r < count; ++r) {
    const In* s = src + (rows ? rows[r] : r) * row_elems;
    Out* d = dst + r * row_elems;
    for (int64_t i = 0; i < row_elems; ++i) d[i] = static_cast<Out>(s[i]);
  }
}

template <typename Out>
void convert_from(const void* src, DType from, int64_t row_elems, const int64_t* rows,
                  int64_t count, Out* dst) {
  switch (from) {
    case DType::Float32: convert_typed(static_cast<const float*>(src), row_elems, rows, count, dst); return;
    case DType::Float64: convert_typed(static_cast<const double*>(src), row_elems, rows, count, dst); return;
    case DType::Int64: convert_typed(static_cast<const int64_t*>(src), row_elems, rows, count, dst); return;
    case DType::Int32: convert_typed(static_cast<const int32_t*>(src), row_elems, rows, count, dst); return;
    case DType::Int16: convert_typed(static_cast<const int16_t*>(src), row_elems, rows, count, dst); return;
    case DType::Int8: convert_typed(static_cast<const int8_t*>(src), row_elems, rows, count, dst); return;
    case DType::UInt64: convert_typed(static_cast<const uint64_t*>(src), row_elems, rows, count, dst); return;
    case DType::UInt32: convert_typed(static_cast<const uint32_t*>(src), row_elems, rows, count, dst); return;
    case DType::UInt16: convert_typed(static_cast<const uint16_t*>(src), row_elems, rows, count, dst); return;
    case DType::UInt8:
    case DType::Bool: convert_typed(static_cast<const uint8_t*>(src), row_elems, rows, count, dst); return;
    case DType::HostFloat16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t r = 0; r < count; ++r) {
        const uint16_t* s = h + (rows ? rows[r] : r) * row_elems;
        Out* d = dst + r * row_elems;
        for (int64_t i = 0; i < row_elems; ++i) d[i] = static_cast<Out>(half_bits_to_float(s[i]));
      }
      return;
    }
    case DType::BFloat16:
    case DType::Float16:
      break;
  }
  throw TypeError("cannot convert an array of dtype " + dtype_name(from));
}

}  // namespace

bool is_integer_dtype(DType t) {
  switch (t) {
    case DType::Int32: case DType::Int64: case DType::Bool: case DType::UInt8: case DType::Int8:
    case DType::UInt16: case DType::Int16: case DType::UInt32: case DType::UInt64:
      return true;
    default:
      return false;
  }
}

bool is_numeric_dtype(DType t) {
  return is_integer_dtype(t) || t == DType::Float32 || t == DType::Float64 ||
         t == DType::HostFloat16;
}

void convert_rows(const void* src, DType from, int64_t row_elems, const int64_t* rows,
                  int64_t count, void* dst, DType to) {
  if (from == to) {  // a plain gather
    const size_t row_bytes = static_cast<size_t>(row_elems) * dtype_size(from);
    const auto* s = static_cast<const char*>(src);
    auto* d = static_cast<char*>(dst);
    if (!rows) {
      std::memcpy(d, s, row_bytes * static_cast<size_t>(count));
      return;
    }
    for (int64_t r = 0; r < count; ++r) std::memcpy(d + r * row_bytes, s + rows[r] * row_bytes, row_bytes);
    return;
  }
  if (to == DType::Float32)
    convert_from(src, from, row_elems, rows, count, static_cast<float*>(dst));
  else if (to == DType::Int64)
    convert_from(src, from, row_elems, rows, count, static_cast<int64_t*>(dst));
  else
    throw TypeError("internal: batches are converted to float32 or int64, not " + dtype_name(to));
}

}  // namespace ff
