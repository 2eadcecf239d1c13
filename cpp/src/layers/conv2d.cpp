// Conv2D and the shared convolution base: forward conv2d_forward + fused bias/activation;
// backward activation gradient dz, then dkernel and dbias (the sums of dz over N*OH*OW rows) from
// conv2d_backward_filter(x, dz), dx = conv2d_backward_data(dz, kernel) (skipped for the first
// layer). On 16-bit buffers (Backend::half_storage) the same steps through the *_half functions.
#include "layers/conv2d.h"

#include <utility>

#include "core/errors.h"
#include "layers/initializers.h"

namespace ff {

ConvolutionBase::ConvolutionBase(std::string name, std::string class_name, uint64_t seed,
                                 int64_t filters, Padding padding, const std::string& activation,
                                 bool use_bias, std::string kernel_initializer,
                                 std::string bias_initializer)
    : Layer(std::move(name), std::move(class_name), seed),
      filters_(filters),
      padding_(padding),
      activation_(parse_activation(activation)),
      use_bias_(use_bias),
      kernel_initializer_(std::move(kernel_initializer)),
      bias_initializer_(std::move(bias_initializer)) {
  if (filters <= 0)
    throw ValueError("Invalid value for argument `filters`. Expected a strictly positive value. "
                     "Received filters=" + std::to_string(filters) + ".");
  check_initializer_name(kernel_initializer_);
  check_initializer_name(bias_initializer_);
}

void ConvolutionBase::resolve(const Shape& in, int64_t h, int64_t w, int64_t channels, int64_t kh,
                              int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                              const std::string& window) {
  const WindowAxis ah = window_axis(h, kh, sh, dh, padding_);
  const WindowAxis aw = window_axis(w, kw, sw, dw, padding_);
  if (ah.out <= 0 || aw.out <= 0)
    incompatible("an input at least as large as the kernel (" + window + ", padding=\"" +
                     padding_name(padding_) + "\"): the kernel is larger than the unpadded input",
                 in);
  geom_ = Conv2DGeometry{};
  geom_.H = h;
  geom_.W = w;
  geom_.C = channels;
  geom_.KH = kh;
  geom_.KW = kw;
  geom_.F = filters_;
  geom_.stride_h = sh;
  geom_.stride_w = sw;
  geom_.dilation_h = dh;
  geom_.dilation_w = dw;
  geom_.pad_top = ah.pad_before;
  geom_.pad_left = aw.pad_before;
  geom_.OH = ah.out;
  geom_.OW = aw.out;
}

Conv2DGeometry ConvolutionBase::geometry(int64_t batch) const {
  Conv2DGeometry g = geom_;
  g.N = batch;
  g.compute = compute_dtype();
  return g;
}

std::vector<ParamSpec> ConvolutionBase::param_specs() const {
  std::vector<ParamSpec> specs{{"kernel", kernel_shape_, kernel_initializer_}};
  if (use_bias_) specs.push_back({"bias", {filters_}, bias_initializer_});
  return specs;
}

std::vector<Shape> ConvolutionBase::scratch_shapes(int64_t batch) const {
  // [0]: dz, the gradient before the activation; [1]: the pre-activation, when its gradient
  // needs it. A linear convolution needs neither.
  std::vector<Shape> shapes;
  if (activation_.kind == Activation::Linear) return shapes;
  shapes.push_back(with_batch(output_shape(), batch));
  if (activation_needs_input(activation_.kind)) shapes.push_back(with_batch(output_shape(), batch));
  return shapes;
}

void ConvolutionBase::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                              const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  if (is_half_precision(x.dtype())) {  // 16-bit buffers: tensor cores on a GPU
    const DType h = x.dtype();
    be.conv2d_forward_half(g, x.raw(), params_[0].raw(), y.raw(), h);
    void* preact = activation_needs_input(activation_.kind)
                       ? scratch[1].reinterpret(h, y.shape()).raw()
                       : nullptr;
    if (use_bias_ || activation_.kind != Activation::Linear)
      be.bias_activation_half(y.raw(), use_bias_ ? params_[1].raw() : nullptr,
                              g.N * g.OH * g.OW, filters_, activation_.kind, activation_.alpha,
                              preact, h);
    return;
  }
  be.conv2d_forward(g, x.data<float>(), params_[0].data<float>(), y.data<float>());
  float* preact = activation_needs_input(activation_.kind) ? scratch[1].data<float>() : nullptr;
  if (use_bias_ || activation_.kind != Activation::Linear)
    be.bias_activation(y.data<float>(), use_bias_ ? params_[1].data<float>() : nullptr,
                       g.N * g.OH * g.OW, filters_, activation_.kind, activation_.alpha, preact);
}

void ConvolutionBase::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                               std::vector<Tensor>& scratch, const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  const int64_t rows = g.N * g.OH * g.OW;
  if (is_half_precision(x.dtype())) {
    const DType h = x.dtype();
    const void* dz = dy.raw();
    if (activation_.kind != Activation::Linear) {
      const void* pre = activation_needs_input(activation_.kind)
                            ? scratch[1].reinterpret(h, y.shape()).raw()
                            : nullptr;
      void* buf = scratch[0].reinterpret(h, y.shape()).raw();
      be.activation_backward_half(activation_.kind, activation_.alpha, pre, y.raw(), dy.raw(),
                                  buf, rows, filters_, h);
      dz = buf;
    }
    be.conv2d_backward_filter_half(g, x.raw(), dz, grads_[0].data<float>(),
                                   use_bias_ ? grads_[1].data<float>() : nullptr, h);
    if (dx) be.conv2d_backward_data_half(g, dz, params_[0].raw(), dx->raw(), h);
    return;
  }
  const float* dz = dy.data<float>();
  if (activation_.kind != Activation::Linear) {
    const float* pre = activation_needs_input(activation_.kind) ? scratch[1].data<float>() : nullptr;
    float* buf = scratch[0].data<float>();
    be.activation_backward(activation_.kind, activation_.alpha, pre, y.data<float>(),
                           dy.data<float>(), buf, rows, filters_);
    dz = buf;
  }
  be.conv2d_backward_filter(g, x.data<float>(), dz, grads_[0].data<float>(),
                            use_bias_ ? grads_[1].data<float>() : nullptr);
  if (dx) be.conv2d_backward_data(g, dz, params_[0].data<float>(), dx->data<float>());
}

Conv2D::Conv2D(std::string name, uint64_t seed, int64_t filters, std::vector<int64_t> kernel_size,
               std::vector<int64_t> strides, const std::string& padding,
               std::vector<int64_t> dilation_rate, const std::string& activation, bool use_bias,
               std::string kernel_initializer, std::string bias_initializer)
    : ConvolutionBase(std::move(name), "Conv2D", seed, filters, parse_padding(padding, false),
                      activation, use_bias, std::move(kernel_initializer),
                      std::move(bias_initializer)),
      kernel_size_(std::move(kernel_size)),
      strides_(std::move(strides)),
      dilation_rate_(std::move(dilation_rate)) {
  const std::pair<const char*, const std::vector<int64_t>*> args[] = {
      {"kernel_size", &kernel_size_}, {"strides", &strides_}, {"dilation_rate", &dilation_rate_}};
  for (const auto& [arg, values] : args)
    if (values->size() != 2)
      throw ValueError(std::string("The `") + arg + "` argument must be a tuple of 2 integers. " +
                       "Received " + arg + "=" + tuple_str(*values));
  check_positive_tuple("kernel_size", kernel_size_);
  check_positive_tuple("strides", strides_);
  check_positive_tuple("dilation_rate", dilation_rate_);
}

Shape Conv2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  resolve(in, in[1], in[2], in[3], kernel_size_[0], kernel_size_[1], strides_[0], strides_[1],
          dilation_rate_[0], dilation_rate_[1],
          "kernel_size=" + tuple_str(kernel_size_) + ", dilation_rate=" + tuple_str(dilation_rate_));
  kernel_shape_ = {kernel_size_[0], kernel_size_[1], in[3], filters()};
  return {kNone, geom_.OH, geom_.OW, filters()};
}

}  // namespace ff
