// Dropout: in training, zeroes each element with probability `rate` and scales the rest by
// 1/(1-rate); at inference it is the identity (a view). The mask comes from the counter-based
// RNG keyed by the layer's seed and the training step, so backward recomputes it instead of
// storing it, and a seeded run is reproducible.
#pragma once
#include "layers/layer.h"

namespace ff {

class Dropout final : public Layer {
 public:
  bool supports_half_io() const override { return true; }
  Dropout(std::string name, uint64_t seed, float rate);
  float rate() const { return rate_; }
  bool aliases_input(bool training) const override { return !training || rate_ == 0.0f; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& in) override { return in; }

 private:
  float rate_;
};

}  // namespace ff
