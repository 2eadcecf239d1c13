// Activation layer (see activation_layer.h); 16-bit buffers through the *_half functions.
#include "layers/activation_layer.h"

namespace ff {

ActivationLayer::ActivationLayer(std::string name, uint64_t seed, const std::string& activation)
    : Layer(std::move(name), "Activation", seed), activation_(parse_activation(activation)) {}

void ActivationLayer::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                              const StepContext& ctx) {
  const int64_t cols = x.shape().back();
  if (is_half_precision(x.dtype())) {
    ctx.backend->activation_forward_half(activation_.kind, activation_.alpha, x.raw(), y.raw(),
                                         x.numel() / cols, cols, x.dtype());
    return;
  }
  ctx.backend->activation_forward(activation_.kind, activation_.alpha, x.data<float>(),
                                  y.data<float>(), x.numel() / cols, cols);
}

void ActivationLayer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                               std::vector<Tensor>&, const StepContext& ctx) {
  if (!dx) return;
  const int64_t cols = x.shape().back();
  if (is_half_precision(x.dtype())) {
    ctx.backend->activation_backward_half(activation_.kind, activation_.alpha, x.raw(), y.raw(),
                                          dy.raw(), dx->raw(), x.numel() / cols, cols, x.dtype());
    return;
  }
  ctx.backend->activation_backward(activation_.kind, activation_.alpha, x.data<float>(),
                                   y.data<float>(), dy.data<float>(), dx->data<float>(),
                                   x.numel() / cols, cols);
}

}  // namespace ff
