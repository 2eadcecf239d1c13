// LeakyReLU layer: the argument check and one activation kernel each way.
#include "layers/leaky_relu.h"

#include <cmath>

#include "core/errors.h"

namespace ff {

LeakyReLU::LeakyReLU(std::string name, uint64_t seed, float negative_slope)
    : Layer(std::move(name), "LeakyReLU", seed), negative_slope_(negative_slope) {
  if (!std::isfinite(negative_slope_) || negative_slope_ < 0.0f)
    throw ValueError(
        "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
        "value. Expected a float. Received: negative_slope=" +
        std::to_string(negative_slope_));
}

void LeakyReLU::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&, const StepContext& ctx) {
  const int64_t cols = x.shape().back();
  ctx.backend->activation_forward(Activation::LeakyRelu, negative_slope_, x.data<float>(),
                                  y.data<float>(), x.numel() / cols, cols);
}

void LeakyReLU::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                         std::vector<Tensor>&, const StepContext& ctx) {
  if (!dx) return;
  const int64_t cols = x.shape().back();
  ctx.backend->activation_backward(Activation::LeakyRelu, negative_slope_, x.data<float>(),
                                   y.data<float>(), dy.data<float>(), dx->data<float>(),
                                   x.numel() / cols, cols);
}

}  // namespace ff
