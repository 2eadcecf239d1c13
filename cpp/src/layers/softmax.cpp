// Softmax layer: the backend's row softmax (activation_forward/backward with
// Activation::Softmax) over rows of the last axis.
#include "layers/softmax.h"

#include "core/errors.h"

namespace ff {

Softmax::Softmax(std::string name, uint64_t seed, int64_t axis)
    : Layer(std::move(name), "Softmax", seed), axis_(axis) {}

Shape Softmax::compute_output_shape(const Shape& in) {
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank < 2) incompatible("ndim>=2 (batch, ..., features)", in);
  if (axis_ != -1 && axis_ != rank - 1)
    throw ValueError("Layer \"" + name() + "\" (Softmax): only the last axis is supported (axis=-1"
                     " or " + std::to_string(rank - 1) + " for input shape=" + shape_str(in) +
                     "); received axis=" + std::to_string(axis_) +
                     ". A softmax over another axis is not supported.");
  if (in.back() <= 0) incompatible("a known last axis", in);
  return in;
}

void Softmax::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&, const StepContext& ctx) {
  const int64_t cols = x.shape().back();
  ctx.backend->activation_forward(Activation::Softmax, 0.0f, x.data<float>(), y.data<float>(),
                                  x.numel() / cols, cols);
}

void Softmax::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                       std::vector<Tensor>&, const StepContext& ctx) {
  if (!dx) return;
  const int64_t cols = x.shape().back();
  ctx.backend->activation_backward(Activation::Softmax, 0.0f, x.data<float>(), y.data<float>(),
                                   dy.data<float>(), dx->data<float>(), x.numel() / cols, cols);
}

}  // namespace ff
