// Shape: a list of dimensions, -1 meaning "None" (unknown, usually the batch dimension).
// Formatting follows Keras: (None, 28, 28, 1). Also the size limits every layer's shapes obey
// and the overflow-checked arithmetic shapes are computed with.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"

namespace ff {

using Shape = std::vector<int64_t>;
constexpr int64_t kNone = -1;

// ---- size limits (docs/saved-model-format.md, "Limits") ----
// Elements per sample of any value a model computes: a model input or a layer's output. 2^31 - 1
// keeps every per-sample offset and every row length within a 32-bit int (BLAS's int dimensions
// and leading dimensions, 32-bit kernel indexing) and is 8 GiB of float32 per sample, far beyond
// any real model, while a wrapped or absurd configuration (a Reshape product past 2^64, pads of
// 2^31) fails at build time instead of reaching a kernel.
constexpr int64_t kMaxSampleElements = (int64_t{1} << 31) - 1;
// Elements of one weight (a Dense kernel fan_in * units, a convolution kernel KH*KW*C*F): the same
// bound, for the same reasons (8 GiB of float32 per weight).
constexpr int64_t kMaxParamElements = (int64_t{1} << 31) - 1;

// A size computation that does not fit int64. A ValueError; Layer::build adds the layer's name.
struct SizeOverflowError : ValueError {
  using ValueError::ValueError;
};

// a * b and a + b on sizes; SizeOverflowError "<what> overflows: a * b" when the result does not
// fit int64.
int64_t size_mul(int64_t a, int64_t b, const char* what);
int64_t size_add(int64_t a, int64_t b, const char* what);
// The product of s[from:] into *out; false (and *out untouched) when it does not fit int64.
// Every dimension must be known (>= 0).
bool checked_product(const Shape& s, size_t from, int64_t* out);

// "(None, 28, 28, 1)"; a one-element shape prints as "(None,)" like a Python tuple.
std::string shape_str(const Shape& s);
// Product of all dimensions; every dimension must be known (>= 0). SizeOverflowError when the
// product does not fit int64.
int64_t shape_numel(const Shape& s);
// Product of all dimensions after the first (SizeOverflowError as shape_numel).
int64_t shape_row_size(const Shape& s);
// The same shape with the first dimension replaced.
Shape with_batch(const Shape& s, int64_t batch);
// True when `actual` matches `spec` where spec dimensions of kNone match anything.
bool shape_compatible(const Shape& spec, const Shape& actual);

// Raises ValueError "<what> shape=(None, ...) has N elements per sample; the limit is
// 2147483647 (2^31 - 1)" when the known dimensions after the batch one multiply to more than
// kMaxSampleElements (or overflow). Unknown (None) dimensions are skipped.
void check_sample_elements(const Shape& s, const std::string& what);
// The same for a weight of shape `s` (all dimensions) against kMaxParamElements.
void check_param_elements(const Shape& s, const std::string& what);

// "8.0 GiB": a byte count for messages.
std::string bytes_str(double bytes);

}  // namespace ff
