// Dropout layer (see dropout.h); 16-bit buffers through dropout_half.
#include "layers/dropout.h"

#include "core/errors.h"

namespace ff {

Dropout::Dropout(std::string name, uint64_t seed, float rate)
    : Layer(std::move(name), "Dropout", seed), rate_(rate) {
  if (!(rate >= 0.0f && rate < 1.0f))
    throw ValueError("Invalid value received for argument `rate`. Expected a float value "
                     "between 0 and 1 (1 excluded). Received: rate=" + std::to_string(rate));
}

void Dropout::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&, const StepContext& ctx) {
  if (is_half_precision(x.dtype())) {
    ctx.backend->dropout_half(x.raw(), y.raw(), x.numel(), rate_, seed(), ctx.state, x.dtype());
    return;
  }
  ctx.backend->dropout(x.data<float>(), y.data<float>(), x.numel(), rate_, seed(), ctx.state);
}

void Dropout::backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor* dx,
                       std::vector<Tensor>&, const StepContext& ctx) {
  // The same mask applied to the gradient: d(x*mask*s)/dx = mask*s.
  if (dx && is_half_precision(dy.dtype())) {
    ctx.backend->dropout_half(dy.raw(), dx->raw(), dy.numel(), rate_, seed(), ctx.state,
                              dy.dtype());
    return;
  }
  if (dx) ctx.backend->dropout(dy.data<float>(), dx->data<float>(), dy.numel(), rate_, seed(), ctx.state);
}

}  // namespace ff
