// Sliding-window arithmetic shared by the convolution and pooling layers: Keras's padding names,
// its output-size formulas (compute_conv_output_shape / compute_pooling_output_shape) and
// TensorFlow's "SAME" split of the padding (the smaller half before, the larger after).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ff {

enum class Padding { Valid, Same, Causal };

// "valid", "same" (and "causal" when allowed); ValueError in Keras's words otherwise.
Padding parse_padding(const std::string& value, bool allow_causal);
std::string padding_name(Padding p);

// One spatial axis of a window of `kernel` taps `dilation` apart moving by `stride`:
//   valid   out = floor((in - (kernel-1)*dilation - 1) / stride) + 1  (<= 0: does not fit)
//   same    out = ceil(in / stride), pad_total = max((out-1)*stride + (kernel-1)*dilation + 1 - in, 0),
//           pad_before = pad_total / 2
//   causal  out = ceil(in / stride), pad_before = (kernel-1)*dilation (Conv1D only)
struct WindowAxis {
  int64_t out = 0;
  int64_t pad_before = 0;
};
WindowAxis window_axis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, Padding p);

// "(3, 3)" / "3" for messages.
std::string tuple_str(const std::vector<int64_t>& values);
// Raises ValueError "The `name` argument must be a tuple of n integers. Received name=(..),
// including values {..} that do not satisfy `value > 0`" (Keras's standardize_tuple) when a
// value is not positive (or negative, with allow_zero).
void check_positive_tuple(const std::string& name, const std::vector<int64_t>& values,
                          bool allow_zero = false);

}  // namespace ff
