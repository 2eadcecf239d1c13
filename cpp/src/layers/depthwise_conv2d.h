// DepthwiseConv2D (Keras's layers.DepthwiseConv2D(kernel_size, strides=(1, 1), padding="valid",
// depth_multiplier=1, dilation_rate=(1, 1), ...)): each input channel convolved with its own
// depth_multiplier filters, (N, H, W, C) -> (N, OH, OW, C * depth_multiplier), output channel
// c * M + m from channel c; kernel "kernel" (KH, KW, C, M) and bias (C * M) as Keras stores them;
// output sizes as Conv2D. Kernels: depthwise_conv2d_forward / backward_data / backward_filter
// (backend/backend.h), then the bias and activation as Conv2D.
#pragma once
#include "backend/window_geometry.h"
#include "layers/activations.h"
#include "layers/conv_utils.h"
#include "layers/layer.h"

namespace ff {

// The arguments a depthwise convolution shares with SeparableConv2D.
struct DepthwiseArgs {
  std::vector<int64_t> kernel_size, strides, dilation_rate;
  Padding padding = Padding::Valid;
  int64_t depth_multiplier = 1;
};
// Checks the arguments (Keras's messages); ValueError otherwise.
void check_depthwise_args(const DepthwiseArgs& a);
// The geometry (F = the depth multiplier) for input shape `in` (N, H, W, C); when the kernel does
// not fit, *error says why (for the layer's incompatibility message).
Conv2DGeometry depthwise_geometry(const DepthwiseArgs& a, const Shape& in, std::string* error);

class DepthwiseConv2D final : public Layer {
 public:
  DepthwiseConv2D(std::string name, uint64_t seed, std::vector<int64_t> kernel_size,
                  std::vector<int64_t> strides, const std::string& padding,
                  int64_t depth_multiplier, std::vector<int64_t> dilation_rate,
                  const std::string& activation, bool use_bias, std::string depthwise_initializer,
                  std::string bias_initializer);
  const DepthwiseArgs& args() const { return args_; }
  const ActivationSpec& activation() const { return activation_; }
  bool float32_output() const override { return activation_.kind == Activation::Softmax; }
  Conv2DGeometry geometry(int64_t batch) const;

  std::vector<ParamSpec> param_specs() const override;
  std::vector<Shape> scratch_shapes(int64_t batch) const override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  DepthwiseArgs args_;
  ActivationSpec activation_;
  bool use_bias_;
  std::string depthwise_initializer_, bias_initializer_;
  Conv2DGeometry geom_;
};

}  // namespace ff
