// Conv1D: y = activation(conv1d(x, kernel) + bias) on (N, steps, channels) inputs (Keras's
// Conv1D, channels last), kernel (K, C, filters). "valid", "same" or "causal" padding (causal:
// (K-1)*dilation zeros on the left, so output t never sees input after t). Runs the Conv2D code
// path as a convolution of height 1.
#pragma once
#include "layers/conv2d.h"

namespace ff {

class Conv1D final : public ConvolutionBase {
 public:
  Conv1D(std::string name, uint64_t seed, int64_t filters, int64_t kernel_size, int64_t strides,
         const std::string& padding, int64_t dilation_rate, const std::string& activation,
         bool use_bias, std::string kernel_initializer, std::string bias_initializer);

  int64_t kernel_size() const { return kernel_size_; }
  int64_t strides() const { return strides_; }
  int64_t dilation_rate() const { return dilation_rate_; }

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  int64_t kernel_size_, strides_, dilation_rate_;
};

}  // namespace ff
