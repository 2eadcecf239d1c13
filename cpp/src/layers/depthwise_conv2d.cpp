// DepthwiseConv2D: argument checks, the depthwise geometry (shared with SeparableConv2D), and
// forward/backward through the depthwise kernels with Conv2D's bias and activation handling.
#include "layers/depthwise_conv2d.h"

#include <utility>

#include "core/errors.h"
#include "layers/initializers.h"

namespace ff {

void check_depthwise_args(const DepthwiseArgs& a) {
  const std::pair<const char*, const std::vector<int64_t>*> args[] = {
      {"kernel_size", &a.kernel_size}, {"strides", &a.strides}, {"dilation_rate", &a.dilation_rate}};
  for (const auto& [arg, values] : args) {
    if (values->size() != 2)
      throw ValueError(std::string("The `") + arg + "` argument must be a tuple of 2 integers. " +
                       "Received " + arg + "=" + tuple_str(*values));
    check_positive_tuple(arg, *values);
  }
  if (a.depth_multiplier <= 0)
    throw ValueError("Invalid value for argument `depth_multiplier`. Expected a strictly positive "
                     "value. Received depth_multiplier=" + std::to_string(a.depth_multiplier) +
                     ".");
}

Conv2DGeometry depthwise_geometry(const DepthwiseArgs& a, const Shape& in, std::string* error) {
  const WindowAxis ah =
      window_axis(in[1], a.kernel_size[0], a.strides[0], a.dilation_rate[0], a.padding);
  const WindowAxis aw =
      window_axis(in[2], a.kernel_size[1], a.strides[1], a.dilation_rate[1], a.padding);
  Conv2DGeometry g;
  if (ah.out <= 0 || aw.out <= 0) {
    *error = "an input at least as large as the kernel (kernel_size=" + tuple_str(a.kernel_size) +
             ", dilation_rate=" + tuple_str(a.dilation_rate) + ", padding=\"" +
             padding_name(a.padding) + "\"): the kernel is larger than the unpadded input";
    return g;
  }
  g.H = in[1];
  g.W = in[2];
  g.C = in[3];
  g.KH = a.kernel_size[0];
  g.KW = a.kernel_size[1];
  g.F = a.depth_multiplier;
  g.stride_h = a.strides[0];
  g.stride_w = a.strides[1];
  g.dilation_h = a.dilation_rate[0];
  g.dilation_w = a.dilation_rate[1];
  g.pad_top = ah.pad_before;
  g.pad_left = aw.pad_before;
  g.OH = ah.out;
  g.OW = aw.out;
  return g;
}

DepthwiseConv2D::DepthwiseConv2D(std::string name, uint64_t seed, std::vector<int64_t> kernel_size,
                                 std::vector<int64_t> strides, const std::string& padding,
                                 int64_t depth_multiplier, std::vector<int64_t> dilation_rate,
                                 const std::string& activation, bool use_bias,
                                 std::string depthwise_initializer, std::string bias_initializer)
    : Layer(std::move(name), "DepthwiseConv2D", seed),
      activation_(parse_activation(activation)),
      use_bias_(use_bias),
      depthwise_initializer_(std::move(depthwise_initializer)),
      bias_initializer_(std::move(bias_initializer)) {
  args_.kernel_size = std::move(kernel_size);
  args_.strides = std::move(strides);
  args_.dilation_rate = std::move(dilation_rate);
  args_.padding = parse_padding(padding, false);
  args_.depth_multiplier = depth_multiplier;
  check_depthwise_args(args_);
  check_initializer_name(depthwise_initializer_);
  check_initializer_name(bias_initializer_);
}

Shape DepthwiseConv2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  std::string error;
  geom_ = depthwise_geometry(args_, in, &error);
  if (!error.empty()) incompatible(error, in);
  return {kNone, geom_.OH, geom_.OW,
          size_mul(in[3], args_.depth_multiplier, "the output channels")};
}

Conv2DGeometry DepthwiseConv2D::geometry(int64_t batch) const {
  Conv2DGeometry g = geom_;
  g.N = batch;
  return g;
}

std::vector<ParamSpec> DepthwiseConv2D::param_specs() const {
  std::vector<ParamSpec> specs{
      {"kernel", {geom_.KH, geom_.KW, geom_.C, geom_.F}, depthwise_initializer_}};
  if (use_bias_) specs.push_back({"bias", {geom_.C * geom_.F}, bias_initializer_});
  return specs;
}

std::vector<Shape> DepthwiseConv2D::scratch_shapes(int64_t batch) const {
  // [0]: the gradient before the activation; [1]: the pre-activation when its gradient needs it.
  std::vector<Shape> shapes;
  if (activation_.kind == Activation::Linear) return shapes;
  shapes.push_back(with_batch(output_shape(), batch));
  if (activation_needs_input(activation_.kind)) shapes.push_back(with_batch(output_shape(), batch));
  return shapes;
}

void DepthwiseConv2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                              const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  be.depthwise_conv2d_forward(g, x.data<float>(), params_[0].data<float>(), y.data<float>());
  float* preact = activation_needs_input(activation_.kind) ? scratch[1].data<float>() : nullptr;
  if (use_bias_ || activation_.kind != Activation::Linear)
    be.bias_activation(y.data<float>(), use_bias_ ? params_[1].data<float>() : nullptr,
                       g.N * g.OH * g.OW, g.C * g.F, activation_.kind, activation_.alpha, preact);
}

void DepthwiseConv2D::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                               std::vector<Tensor>& scratch, const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  const int64_t rows = g.N * g.OH * g.OW, cols = g.C * g.F;
  const float* dz = dy.data<float>();
  if (activation_.kind != Activation::Linear) {
    const float* pre = activation_needs_input(activation_.kind) ? scratch[1].data<float>() : nullptr;
    float* buf = scratch[0].data<float>();
    be.activation_backward(activation_.kind, activation_.alpha, pre, y.data<float>(),
                           dy.data<float>(), buf, rows, cols);
    dz = buf;
  }
  be.depthwise_conv2d_backward_filter(g, x.data<float>(), dz, grads_[0].data<float>());
  if (use_bias_) be.column_sum(dz, rows, cols, grads_[1].data<float>());
  if (dx) be.depthwise_conv2d_backward_data(g, dz, params_[0].data<float>(), dx->data<float>());
}

}  // namespace ff
