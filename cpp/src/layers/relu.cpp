// ReLU layer: Keras's argument checks (stricter: NaN refused) and the two kernel paths.
#include "layers/relu.h"

#include <cmath>

#include "core/errors.h"

namespace ff {
namespace {

std::string number(float v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::isnan(v) ? "nan" : std::to_string(v);
}

}  // namespace

ReLU::ReLU(std::string name, uint64_t seed, float max_value, float negative_slope,
           float threshold)
    : Layer(std::move(name), "ReLU", seed),
      max_value_(max_value),
      negative_slope_(negative_slope),
      threshold_(threshold) {
  // Keras's messages; NaN (which Keras lets through) is refused with them.
  if (std::isnan(max_value_) || max_value_ < 0.0f)
    throw ValueError("max_value of a ReLU layer cannot be a negative value. Received: " +
                     number(max_value_));
  if (!std::isfinite(negative_slope_) || negative_slope_ < 0.0f)
    throw ValueError("negative_slope of a ReLU layer cannot be a negative value. Received: " +
                     number(negative_slope_));
  if (!std::isfinite(threshold_) || threshold_ < 0.0f)
    throw ValueError("threshold of a ReLU layer cannot be a negative value. Received: " +
                     number(threshold_));
}

bool ReLU::plain() const {
  return std::isinf(max_value_) && negative_slope_ == 0.0f && threshold_ == 0.0f;
}

void ReLU::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&, const StepContext& ctx) {
  if (plain()) {
    const int64_t cols = x.shape().back();
    ctx.backend->activation_forward(Activation::Relu, 0.0f, x.data<float>(), y.data<float>(),
                                    x.numel() / cols, cols);
    return;
  }
  ctx.backend->relu_forward(x.data<float>(), y.data<float>(), x.numel(), max_value_,
                            negative_slope_, threshold_);
}

void ReLU::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                    std::vector<Tensor>&, const StepContext& ctx) {
  if (!dx) return;
  if (plain()) {
    const int64_t cols = x.shape().back();
    ctx.backend->activation_backward(Activation::Relu, 0.0f, x.data<float>(), y.data<float>(),
                                     dy.data<float>(), dx->data<float>(), x.numel() / cols, cols);
    return;
  }
  ctx.backend->relu_backward(x.data<float>(), dy.data<float>(), dx->data<float>(), x.numel(),
                             max_value_, negative_slope_, threshold_);
}

}  // namespace ff
