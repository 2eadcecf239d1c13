// BatchNormalization (Keras 3): normalises each channel of the last axis with the batch mean and
// (biased) variance in training, and with moving statistics at inference; gamma and beta are
// trainable, moving_mean and moving_variance are non-trainable state updated in the training
// forward pass (moving = moving * momentum + batch * (1 - momentum)).
#pragma once
#include "layers/layer.h"

namespace ff {

class BatchNormalization final : public Layer {
 public:
  bool supports_half_io() const override { return true; }
  BatchNormalization(std::string name, uint64_t seed, int64_t axis, float momentum, float epsilon,
                     bool center, bool scale, std::string beta_initializer,
                     std::string gamma_initializer, std::string moving_mean_initializer,
                     std::string moving_variance_initializer);

  int64_t axis() const { return axis_; }
  float momentum() const { return momentum_; }
  float epsilon() const { return epsilon_; }
  bool center() const { return center_; }
  bool scale() const { return scale_; }

  // Keras's order: gamma, beta (trainable, when scale / center), moving_mean, moving_variance.
  std::vector<ParamSpec> param_specs() const override;
  // [0]: the mean and 1/sqrt(var + epsilon) the forward pass used, for backward: 2 x C values in
  // its first row (batch-leading, as the model views scratch per batch size).
  std::vector<Shape> scratch_shapes(int64_t batch) const override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  const float* gamma() const { return scale_ ? params_[0].data<float>() : nullptr; }
  const float* beta() const { return center_ ? params_[scale_ ? 1 : 0].data<float>() : nullptr; }
  static float* saved(std::vector<Tensor>& scratch) { return scratch[0].data<float>(); }
  size_t moving_index() const { return (scale_ ? 1 : 0) + (center_ ? 1 : 0); }

  int64_t axis_;
  float momentum_, epsilon_;
  bool center_, scale_;
  std::string beta_init_, gamma_init_, moving_mean_init_, moving_variance_init_;
  int64_t channels_ = 0;
};

}  // namespace ff
