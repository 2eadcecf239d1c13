// Conv1D: the shared convolution base on the geometry (H=1, W=steps); nothing of its own beyond
// argument checks and the output-shape formula.
#include "layers/conv1d.h"

#include "core/errors.h"

namespace ff {

Conv1D::Conv1D(std::string name, uint64_t seed, int64_t filters, int64_t kernel_size,
               int64_t strides, const std::string& padding, int64_t dilation_rate,
               const std::string& activation, bool use_bias, std::string kernel_initializer,
               std::string bias_initializer)
    : ConvolutionBase(std::move(name), "Conv1D", seed, filters, parse_padding(padding, true),
                      activation, use_bias, std::move(kernel_initializer),
                      std::move(bias_initializer)),
      kernel_size_(kernel_size),
      strides_(strides),
      dilation_rate_(dilation_rate) {
  check_positive_tuple("kernel_size", {kernel_size_});
  check_positive_tuple("strides", {strides_});
  check_positive_tuple("dilation_rate", {dilation_rate_});
}

Shape Conv1D::compute_output_shape(const Shape& in) {
  if (in.size() != 3) incompatible("ndim=3 (batch, steps, channels)", in);
  for (size_t i = 1; i < 3; ++i)
    if (in[i] <= 0) incompatible("known steps and channels", in);
  resolve(in, 1, in[1], in[2], 1, kernel_size_, 1, strides_, 1, dilation_rate_,
          "kernel_size=" + std::to_string(kernel_size_) +
              ", dilation_rate=" + std::to_string(dilation_rate_));
  kernel_shape_ = {kernel_size_, in[2], filters()};
  return {kNone, geom_.OW, filters()};
}

}  // namespace ff
