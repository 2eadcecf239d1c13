// ELU layer: the argument check and one activation kernel each way.
#include "layers/elu.h"

#include <cmath>

#include "core/errors.h"

namespace ff {

ELU::ELU(std::string name, uint64_t seed, float alpha)
    : Layer(std::move(name), "ELU", seed), alpha_(alpha) {
  // Keras takes any alpha; a non-finite one would turn every negative input into NaN or Inf.
  if (!std::isfinite(alpha_))
    throw ValueError("The alpha value of an ELU layer must be a finite number. Received: alpha=" +
                     std::to_string(alpha_));
}

void ELU::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&, const StepContext& ctx) {
  const int64_t cols = x.shape().back();
  ctx.backend->activation_forward(Activation::Elu, alpha_, x.data<float>(), y.data<float>(),
                                  x.numel() / cols, cols);
}

void ELU::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                   std::vector<Tensor>&, const StepContext& ctx) {
  if (!dx) return;
  const int64_t cols = x.shape().back();
  ctx.backend->activation_backward(Activation::Elu, alpha_, x.data<float>(), y.data<float>(),
                                   dy.data<float>(), dx->data<float>(), x.numel() / cols, cols);
}

}  // namespace ff
