// Sliding-window arithmetic shared by the convolution and pooling layers (see conv_utils.h).
#include "layers/conv_utils.h"

#include <algorithm>

#include "core/errors.h"
#include "core/shape.h"

namespace ff {

Padding parse_padding(const std::string& value, bool allow_causal) {
  if (value == "valid") return Padding::Valid;
  if (value == "same") return Padding::Same;
  if (value == "causal" && allow_causal) return Padding::Causal;
  throw ValueError(std::string("The `padding` argument must be one of ") +
                   (allow_causal ? "{'valid', 'same', 'causal'}" : "{'valid', 'same'}") +
                   ". Received: padding=" + value);
}

std::string padding_name(Padding p) {
  switch (p) {
    case Padding::Valid: return "valid";
    case Padding::Same: return "same";
    case Padding::Causal: return "causal";
  }
  return "valid";
}

WindowAxis window_axis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, Padding p) {
  // Every step checked: kernel, stride and dilation may be anything up to 2^63 - 1 through the
  // API (the loader bounds each to 2^31 - 1, not their products).
  const char* what = "the window span (kernel_size - 1) * dilation_rate + 1";
  const int64_t span = size_add(size_mul(kernel - 1, dilation, what), 1, what);
  WindowAxis a;
  // ceil(in / stride) without forming in + stride - 1 (in, stride > 0).
  const int64_t ceil_out = in / stride + (in % stride != 0);
  switch (p) {
    case Padding::Valid:
      // Floor division that stays correct for a negative numerator (span > in + stride).
      a.out = in >= span ? (in - span) / stride + 1 : 0;
      break;
    case Padding::Same: {
      a.out = ceil_out;
      // (out - 1) * stride < in, so the sum below only overflows through a huge span.
      const int64_t covered =
          size_add((a.out - 1) * stride, span, "the padded window extent");
      a.pad_before = std::max<int64_t>(covered - in, 0) / 2;
      break;
    }
    case Padding::Causal:
      a.out = ceil_out;
      a.pad_before = span - 1;
      break;
  }
  return a;
}

std::string tuple_str(const std::vector<int64_t>& values) {
  if (values.size() == 1) return std::to_string(values[0]);
  std::string s = "(";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  return s + ")";
}

void check_positive_tuple(const std::string& name, const std::vector<int64_t>& values,
                          bool allow_zero) {
  std::string bad;
  for (int64_t v : values)
    if (v < 0 || (v == 0 && !allow_zero)) bad += (bad.empty() ? "" : ", ") + std::to_string(v);
  if (bad.empty()) return;
  throw ValueError("The `" + name + "` argument must be a tuple of " +
                   std::to_string(values.size()) + " integers. Received " + name + "=" +
                   tuple_str(values) + ", including values {" + bad +
                   "} that do not satisfy `value " + (allow_zero ? ">= 0" : "> 0") + "`");
}

}  // namespace ff
