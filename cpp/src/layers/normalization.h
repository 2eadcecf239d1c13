// Normalization (Keras 3 preprocessing layer): y = (x - mean) / max(sqrt(variance), 1e-7), or
// its inverse mean + x * max(sqrt(variance), 1e-7) when invert. mean and variance are
// non-trainable weights, per feature of the last axis (axis=-1) or one pair for all values
// (axis=None). Their values come from adapt() (computed in Python) or the constructor: they may
// arrive before the layer is built, are kept on the host and written into the weights when the
// model binds them (bind()). Using the layer without them raises.
#pragma once
#include "layers/layer.h"

namespace ff {

class Normalization final : public Layer {
 public:
  // per_feature: one mean/variance per index of the last axis (`axis` is -1 or, checked at build,
  // the last axis's index); otherwise one for all values (Keras's axis=None).
  Normalization(std::string name, uint64_t seed, bool per_feature, int64_t axis, bool invert);

  bool per_feature() const { return per_feature_; }
  int64_t axis() const { return axis_; }
  bool invert() const { return invert_; }
  // Sets mean and variance (equal sizes: 1, broadcast to every feature, or one per feature).
  // Written into the weights at once when they exist, else when they are bound. Raises for
  // NaN/Inf, a negative variance or a size that does not match the built features.
  void set_statistics(std::vector<float> mean, std::vector<float> variance);
  bool has_statistics() const { return has_statistics_; }
  // Features per mean (1 for axis=None); 0 before build.
  int64_t features() const { return features_; }

  std::vector<ParamSpec> param_specs() const override;
  void bind(std::vector<Tensor> params, std::vector<Tensor> grads) override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  // dx = dy / s (dy * s when invert). mean and variance are constants: no gradient.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  void write_statistics();
  // True (and remembered) when the weights were set around the layer (a model's set_weights).
  bool statistics_in_weights();

  bool per_feature_;
  int64_t axis_;
  bool invert_;
  std::vector<float> mean_, variance_;  // host copy; size 1 broadcasts
  bool has_statistics_ = false;
  // The weight the host values were last written to. Holding it keeps that storage alive, so
  // another buffer cannot reuse its address and pass for it.
  Tensor written_to_;
  int64_t features_ = 0;
};

}  // namespace ff
