// SeparableConv2D: the depthwise kernels, then the pointwise step as a GEMM over the output
// positions (dense_forward forward; backward the activation gradient, the pointwise kernel and
// bias gradients, the gradient of the depthwise output, then the depthwise gradients).
#include "layers/separable_conv2d.h"

#include "core/errors.h"
#include "layers/initializers.h"

namespace ff {

SeparableConv2D::SeparableConv2D(std::string name, uint64_t seed, int64_t filters,
                                 std::vector<int64_t> kernel_size, std::vector<int64_t> strides,
                                 const std::string& padding, int64_t depth_multiplier,
                                 std::vector<int64_t> dilation_rate,
                                 const std::string& activation, bool use_bias,
                                 std::string depthwise_initializer,
                                 std::string pointwise_initializer, std::string bias_initializer)
    : Layer(std::move(name), "SeparableConv2D", seed),
      filters_(filters),
      activation_(parse_activation(activation)),
      use_bias_(use_bias),
      depthwise_initializer_(std::move(depthwise_initializer)),
      pointwise_initializer_(std::move(pointwise_initializer)),
      bias_initializer_(std::move(bias_initializer)) {
  if (filters <= 0)
    throw ValueError("Invalid value for argument `filters`. Expected a strictly positive value. "
                     "Received filters=" + std::to_string(filters) + ".");
  args_.kernel_size = std::move(kernel_size);
  args_.strides = std::move(strides);
  args_.dilation_rate = std::move(dilation_rate);
  args_.padding = parse_padding(padding, false);
  args_.depth_multiplier = depth_multiplier;
  check_depthwise_args(args_);
  check_initializer_name(depthwise_initializer_);
  check_initializer_name(pointwise_initializer_);
  check_initializer_name(bias_initializer_);
}

Shape SeparableConv2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  std::string error;
  geom_ = depthwise_geometry(args_, in, &error);
  if (!error.empty()) incompatible(error, in);
  size_mul(in[3], args_.depth_multiplier, "the depthwise channels");
  return {kNone, geom_.OH, geom_.OW, filters_};
}

Conv2DGeometry SeparableConv2D::geometry(int64_t batch) const {
  Conv2DGeometry g = geom_;
  g.N = batch;
  return g;
}

std::vector<ParamSpec> SeparableConv2D::param_specs() const {
  const int64_t cm = geom_.C * geom_.F;
  std::vector<ParamSpec> specs{
      {"depthwise_kernel", {geom_.KH, geom_.KW, geom_.C, geom_.F}, depthwise_initializer_},
      {"pointwise_kernel", {1, 1, cm, filters_}, pointwise_initializer_}};
  if (use_bias_) specs.push_back({"bias", {filters_}, bias_initializer_});
  return specs;
}

std::vector<Shape> SeparableConv2D::scratch_shapes(int64_t batch) const {
  const Shape z{batch, geom_.OH, geom_.OW, geom_.C * geom_.F};
  std::vector<Shape> shapes{z, z};
  if (activation_.kind == Activation::Linear) return shapes;
  shapes.push_back(with_batch(output_shape(), batch));
  if (activation_needs_input(activation_.kind)) shapes.push_back(with_batch(output_shape(), batch));
  return shapes;
}

void SeparableConv2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                              const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  float* z = scratch[0].data<float>();
  be.depthwise_conv2d_forward(g, x.data<float>(), params_[0].data<float>(), z);
  float* preact = activation_needs_input(activation_.kind) ? scratch[3].data<float>() : nullptr;
  be.dense_forward(z, params_[1].data<float>(), use_bias_ ? params_[2].data<float>() : nullptr,
                   g.N * g.OH * g.OW, g.C * g.F, filters_, activation_.kind, activation_.alpha,
                   y.data<float>(), preact);
}

void SeparableConv2D::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                               std::vector<Tensor>& scratch, const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  const int64_t rows = g.N * g.OH * g.OW, cm = g.C * g.F;
  const float* z = scratch[0].data<float>();
  float* dz = scratch[1].data<float>();
  const float* dp = dy.data<float>();  // the gradient before the activation
  if (activation_.kind != Activation::Linear) {
    const float* pre = activation_needs_input(activation_.kind) ? scratch[3].data<float>() : nullptr;
    float* buf = scratch[2].data<float>();
    be.activation_backward(activation_.kind, activation_.alpha, pre, y.data<float>(),
                           dy.data<float>(), buf, rows, filters_);
    dp = buf;
  }
  const float* pointwise = params_[1].data<float>();
  // dpointwise (cm x filters) = z^T dp; dbias = column sums of dp; dz = dp pointwise^T.
  be.gemm(true, false, cm, filters_, rows, 1.0f, z, cm, dp, filters_, 0.0f,
          grads_[1].data<float>(), filters_);
  if (use_bias_) be.column_sum(dp, rows, filters_, grads_[2].data<float>());
  be.gemm(false, true, rows, cm, filters_, 1.0f, dp, filters_, pointwise, filters_, 0.0f, dz, cm);
  be.depthwise_conv2d_backward_filter(g, x.data<float>(), dz, grads_[0].data<float>());
  if (dx) be.depthwise_conv2d_backward_data(g, dz, params_[0].data<float>(), dx->data<float>());
}

}  // namespace ff
