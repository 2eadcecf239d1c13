// LayerNormalization (Keras 3): normalises each sample over its trailing axes (axis=-1: the last
// one; a list such as [1, 2, 3]: the whole sample) with that sample's own mean and biased
// variance, then scales by gamma and shifts by beta (both of the normalised axes' shape, Keras's
// weights). The same in training and at inference; no moving statistics. gamma and beta stay
// float32 under mixed precision (ParamSpec autocast off, as BatchNormalization). The axes must
// be the trailing ones (Keras also takes others); anything else is refused at build.
#pragma once
#include "layers/layer.h"

namespace ff {

class LayerNormalization final : public Layer {
 public:
  // axes: input axes (negative counts from the end), resolved at build.
  LayerNormalization(std::string name, uint64_t seed, std::vector<int64_t> axes, float epsilon,
                     bool center, bool scale, std::string beta_initializer,
                     std::string gamma_initializer);
  const std::vector<int64_t>& axes() const { return axes_; }
  float epsilon() const { return epsilon_; }
  bool center() const { return center_; }
  bool scale() const { return scale_; }

  std::vector<ParamSpec> param_specs() const override;
  // The saved mean and 1/std of every normalised row, for backward.
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
  std::vector<int64_t> axes_;
  float epsilon_;
  bool center_, scale_;
  std::string beta_init_, gamma_init_;
  Shape param_shape_;       // the normalised axes' sizes (Keras's gamma/beta shape)
  int64_t cols_ = 0;        // values normalised together (their product)
  int64_t rows_per_sample_ = 0;
};

}  // namespace ff
