// Reshape layer (see reshape.h).
#include "layers/reshape.h"

#include "core/errors.h"

namespace ff {
namespace {

// The target shape as the user wrote it: -1 stays -1 (shape_str would print it as None).
std::string target_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

}  // namespace

Reshape::Reshape(std::string name, uint64_t seed, Shape target_shape)
    : Layer(std::move(name), "Reshape", seed), target_(std::move(target_shape)) {
  int unknown = 0;
  for (int64_t d : target_) {
    if (d == -1) ++unknown;
    else if (d <= 0)
      throw ValueError("Reshape target_shape must hold positive sizes and at most one -1; "
                       "received target_shape=" + target_str(target_));
  }
  if (unknown > 1)
    throw ValueError("Reshape target_shape may hold at most one -1; received target_shape=" +
                     target_str(target_));
}

Shape Reshape::compute_output_shape(const Shape& in) {
  const int64_t total = shape_row_size(in);
  int64_t known = 1;
  int64_t unknown_at = -1;
  for (size_t i = 0; i < target_.size(); ++i) {
    if (target_[i] == -1) unknown_at = static_cast<int64_t>(i);
    else if (__builtin_mul_overflow(known, target_[i], &known) || known > kMaxSampleElements)
      // A product past the per-sample limit (or past 2^64, where it would wrap) can never be
      // an input's element count: say so rather than compare a wrapped number.
      throw SizeOverflowError("target_shape=" + target_str(target_) + " has more than " +
                              std::to_string(kMaxSampleElements) +
                              " (2^31 - 1) elements per sample, the limit of a layer's output");
  }
  Shape out{kNone};
  out.insert(out.end(), target_.begin(), target_.end());
  std::string want = "an input whose " + std::to_string(known) +
                     (unknown_at >= 0 ? "-divisible" : "") +
                     " element count per sample fits target_shape=" + target_str(target_);
  if (unknown_at >= 0) {
    if (total % known != 0) incompatible(want, in);
    out[unknown_at + 1] = total / known;
  } else if (known != total) {
    incompatible(std::to_string(known) + " elements per sample for target_shape=" +
                     target_str(target_) + ", got " + std::to_string(total),
                 in);
  }
  return out;
}

}  // namespace ff
