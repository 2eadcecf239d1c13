// Conv2D: y = activation(conv2d(x, kernel) + bias) on NHWC inputs (Keras's Conv2D, channels
// last). kernel (KH, KW, C, filters) as Keras stores it; "valid" or "same" (TensorFlow's split)
// padding, strides and dilation. ConvolutionBase holds what Conv2D and Conv1D share: the
// parameters, the fused bias/activation and the backward pass, all on a Conv2DGeometry
// (Conv1D is the height-1 case).
#pragma once
#include "backend/window_geometry.h"
#include "layers/activations.h"
#include "layers/conv_utils.h"
#include "layers/layer.h"

namespace ff {

class ConvolutionBase : public Layer {
 public:
  bool supports_half_io() const override { return true; }
  bool scratch_follows_io() const override { return true; }
  int64_t filters() const { return filters_; }
  const ActivationSpec& activation() const { return activation_; }
  bool float32_output() const override { return activation_.kind == Activation::Softmax; }
  bool use_bias() const { return use_bias_; }
  Padding padding() const { return padding_; }

  std::vector<ParamSpec> param_specs() const override;
  std::vector<Shape> scratch_shapes(int64_t batch) const override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

  // The geometry for a batch of `batch` (valid once built).
  Conv2DGeometry geometry(int64_t batch) const;

 protected:
  ConvolutionBase(std::string name, std::string class_name, uint64_t seed, int64_t filters,
                  Padding padding, const std::string& activation, bool use_bias,
                  std::string kernel_initializer, std::string bias_initializer);
  // Resolves geom_ (all but N) for the spatial size (h, w) with `channels` input channels, the
  // window (kh, kw), strides and dilations; raises through incompatible() when the kernel does
  // not fit. `expected` describes the window for the message.
  void resolve(const Shape& in, int64_t h, int64_t w, int64_t channels, int64_t kh, int64_t kw,
               int64_t sh, int64_t sw, int64_t dh, int64_t dw, const std::string& window);

  Shape kernel_shape_;  // Keras's layout: (KH, KW, C, F) or (K, C, F)
  Conv2DGeometry geom_;

 private:
  int64_t filters_;
  Padding padding_;
  ActivationSpec activation_;
  bool use_bias_;
  std::string kernel_initializer_, bias_initializer_;
};

class Conv2D final : public ConvolutionBase {
 public:
  Conv2D(std::string name, uint64_t seed, int64_t filters, std::vector<int64_t> kernel_size,
         std::vector<int64_t> strides, const std::string& padding,
         std::vector<int64_t> dilation_rate, const std::string& activation, bool use_bias,
         std::string kernel_initializer, std::string bias_initializer);

  const std::vector<int64_t>& kernel_size() const { return kernel_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const std::vector<int64_t>& dilation_rate() const { return dilation_rate_; }

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  std::vector<int64_t> kernel_size_, strides_, dilation_rate_;
};

}  // namespace ff
