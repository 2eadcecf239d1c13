// SeparableConv2D (Keras's layers.SeparableConv2D(filters, kernel_size, strides=(1, 1),
// padding="valid", dilation_rate=(1, 1), depth_multiplier=1, ...)): a depthwise convolution
// (layers/depthwise_conv2d.h, no bias) then a pointwise 1x1 convolution to `filters` channels,
// the bias and the activation. Weights as Keras stores them: depthwise_kernel (KH, KW, C, M),
// pointwise_kernel (1, 1, C * M, filters), bias (filters). The pointwise step is the Dense
// step over the N * OH * OW positions (dense_forward; GEMMs backward).
#pragma once
#include "layers/depthwise_conv2d.h"

namespace ff {

class SeparableConv2D final : public Layer {
 public:
  SeparableConv2D(std::string name, uint64_t seed, int64_t filters,
                  std::vector<int64_t> kernel_size, std::vector<int64_t> strides,
                  const std::string& padding, int64_t depth_multiplier,
                  std::vector<int64_t> dilation_rate, const std::string& activation,
                  bool use_bias, std::string depthwise_initializer,
                  std::string pointwise_initializer, std::string bias_initializer);
  int64_t filters() const { return filters_; }
  const DepthwiseArgs& args() const { return args_; }
  const ActivationSpec& activation() const { return activation_; }
  bool float32_output() const override { return activation_.kind == Activation::Softmax; }
  Conv2DGeometry geometry(int64_t batch) const;

  std::vector<ParamSpec> param_specs() const override;
  // [0] the depthwise output z, [1] its gradient, [2] the gradient before the activation (not
  // for a linear one), [3] the pre-activation (when the activation's gradient needs it).
  std::vector<Shape> scratch_shapes(int64_t batch) const override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  int64_t filters_;
  DepthwiseArgs args_;
  ActivationSpec activation_;
  bool use_bias_;
  std::string depthwise_initializer_, pointwise_initializer_, bias_initializer_;
  Conv2DGeometry geom_;
};

}  // namespace ff
