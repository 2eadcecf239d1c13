// Conv2DTranspose: argument checks, Keras's output size, the transposed convolution's geometry,
// and forward/backward through the convolution kernels with the roles of x and y swapped.
#include "layers/conv2d_transpose.h"

#include <utility>

#include "core/errors.h"

namespace ff {

TransposeAxis transpose_axis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                             Padding padding, int64_t output_padding) {
  const int64_t span = size_add(size_mul(kernel - 1, dilation, "the dilated kernel"), 1,
                                "the dilated kernel");
  const int64_t strided = size_mul(in - 1, stride, "the transposed convolution's output");
  TransposeAxis a;
  int64_t left;  // the padding of the stride-dilated input (Keras's JAX backend)
  if (padding == Padding::Valid) {
    a.out = output_padding < 0
                ? size_add(strided, stride > span ? stride : span, "the output")
                : size_add(size_add(strided, span, "the output"), output_padding, "the output");
    left = span - 1;
  } else {
    int64_t pad_len;
    if (output_padding < 0) {
      a.out = size_add(strided, stride, "the output");
      pad_len = stride + span - 2;
    } else {
      a.out = size_add(strided, span - 2 * (span / 2) + output_padding, "the output");
      pad_len = span + span % 2 - 2 + output_padding;
    }
    const int64_t half = pad_len / 2 + pad_len % 2;
    left = half < span - 1 ? half : span - 1;
  }
  a.pad_before = span - 1 - left;
  return a;
}

Conv2DTranspose::Conv2DTranspose(std::string name, uint64_t seed, int64_t filters,
                                 std::vector<int64_t> kernel_size, std::vector<int64_t> strides,
                                 const std::string& padding, std::vector<int64_t> output_padding,
                                 std::vector<int64_t> dilation_rate,
                                 const std::string& activation, bool use_bias,
                                 std::string kernel_initializer, std::string bias_initializer)
    : ConvolutionBase(std::move(name), "Conv2DTranspose", seed, filters,
                      parse_padding(padding, false), activation, use_bias,
                      std::move(kernel_initializer), std::move(bias_initializer)),
      kernel_size_(std::move(kernel_size)),
      strides_(std::move(strides)),
      output_padding_(std::move(output_padding)),
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
  if (!output_padding_.empty()) {
    if (output_padding_.size() != 2)
      throw ValueError("The `output_padding` argument must be a tuple of 2 integers. Received "
                       "output_padding=" + tuple_str(output_padding_));
    check_positive_tuple("output_padding", output_padding_, true);
    // tf.keras's rule (Keras 3 lets TensorFlow fail at the first call instead).
    for (size_t i = 0; i < 2; ++i)
      if (output_padding_[i] >= strides_[i])
        throw ValueError("Strides must be greater than output padding. Received strides=" +
                         tuple_str(strides_) + ", output_padding=" + tuple_str(output_padding_) +
                         ".");
  }
}

Shape Conv2DTranspose::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  const bool none = output_padding_.empty();
  const TransposeAxis ah = transpose_axis(in[1], kernel_size_[0], strides_[0], dilation_rate_[0],
                                          padding(), none ? -1 : output_padding_[0]);
  const TransposeAxis aw = transpose_axis(in[2], kernel_size_[1], strides_[1], dilation_rate_[1],
                                          padding(), none ? -1 : output_padding_[1]);
  // g: the convolution from this layer's output (N, OH, OW, filters) to its input.
  geom_ = Conv2DGeometry{};
  geom_.H = ah.out;
  geom_.W = aw.out;
  geom_.C = filters();
  geom_.KH = kernel_size_[0];
  geom_.KW = kernel_size_[1];
  geom_.F = in[3];
  geom_.stride_h = strides_[0];
  geom_.stride_w = strides_[1];
  geom_.dilation_h = dilation_rate_[0];
  geom_.dilation_w = dilation_rate_[1];
  geom_.pad_top = ah.pad_before;
  geom_.pad_left = aw.pad_before;
  geom_.OH = in[1];
  geom_.OW = in[2];
  kernel_shape_ = {kernel_size_[0], kernel_size_[1], filters(), in[3]};
  return {kNone, ah.out, aw.out, filters()};
}

void Conv2DTranspose::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                              const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  be.conv2d_backward_data(g, x.data<float>(), params_[0].data<float>(), y.data<float>());
  const ActivationSpec& act = activation();
  float* preact = activation_needs_input(act.kind) ? scratch[1].data<float>() : nullptr;
  if (use_bias() || act.kind != Activation::Linear)
    be.bias_activation(y.data<float>(), use_bias() ? params_[1].data<float>() : nullptr,
                       g.N * g.H * g.W, filters(), act.kind, act.alpha, preact);
}

void Conv2DTranspose::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                               std::vector<Tensor>& scratch, const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Conv2DGeometry g = geometry(x.shape()[0]);
  const int64_t rows = g.N * g.H * g.W;
  const ActivationSpec& act = activation();
  const float* dz = dy.data<float>();
  if (act.kind != Activation::Linear) {
    const float* pre = activation_needs_input(act.kind) ? scratch[1].data<float>() : nullptr;
    float* buf = scratch[0].data<float>();
    be.activation_backward(act.kind, act.alpha, pre, y.data<float>(), dy.data<float>(), buf, rows,
                           filters());
    dz = buf;
  }
  // g's filter gradient takes g's input (our dz) and g's output gradient (our x).
  be.conv2d_backward_filter(g, dz, x.data<float>(), grads_[0].data<float>(), nullptr);
  if (use_bias()) be.column_sum(dz, rows, filters(), grads_[1].data<float>());
  if (dx) be.conv2d_forward(g, dz, params_[0].data<float>(), dx->data<float>());
}

}  // namespace ff
