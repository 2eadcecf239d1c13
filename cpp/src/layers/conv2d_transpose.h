// Conv2DTranspose (Keras's layers.Conv2DTranspose(filters, kernel_size, strides=(1, 1),
// padding="valid", output_padding=None, dilation_rate=(1, 1), ...)): the transpose of a
// convolution, (N, H, W, C) -> (N, OH, OW, filters) with Keras's output size
// (compute_conv_transpose_output_length) and kernel (KH, KW, filters, C) as Keras stores it.
// No kernels of its own: with the convolution g that maps (N, OH, OW, filters) to (N, H, W, C)
// (kernel (KH, KW, filters, C), Keras's transposed-convolution padding as g's "before" padding),
// forward is g's data gradient, the input gradient is g's forward, and the kernel gradient is g's
// filter gradient with x and dy in swapped roles. Bias and activation as in Conv2D.
#pragma once
#include "layers/conv2d.h"

namespace ff {

class Conv2DTranspose final : public ConvolutionBase {
 public:
  // output_padding empty: Keras's None.
  Conv2DTranspose(std::string name, uint64_t seed, int64_t filters,
                  std::vector<int64_t> kernel_size, std::vector<int64_t> strides,
                  const std::string& padding, std::vector<int64_t> output_padding,
                  std::vector<int64_t> dilation_rate, const std::string& activation,
                  bool use_bias, std::string kernel_initializer, std::string bias_initializer);
  // The 16-bit convolution kernels would serve too; not wired (float32 buffers only).
  bool supports_half_io() const override { return false; }

  const std::vector<int64_t>& kernel_size() const { return kernel_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const std::vector<int64_t>& output_padding() const { return output_padding_; }
  const std::vector<int64_t>& dilation_rate() const { return dilation_rate_; }

  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  std::vector<int64_t> kernel_size_, strides_, output_padding_, dilation_rate_;
};

// One axis of a transposed convolution over `in` inputs: Keras's output length and the "before"
// padding of the convolution it transposes (Keras's JAX-backend padding, which agrees with
// TensorFlow's wherever TensorFlow accepts the arguments). output_padding < 0: None.
struct TransposeAxis {
  int64_t out = 0;
  int64_t pad_before = 0;
};
TransposeAxis transpose_axis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                             Padding padding, int64_t output_padding);

}  // namespace ff
