// ReLU layer (Keras's layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0)):
// min(x, max_value) where x > threshold, else negative_slope * (x - threshold)
// (backend/layer_rules.h: relu_rule). With the defaults it is the plain relu, run by the
// activation kernels (the same bits as Activation("relu")); otherwise by relu_forward/backward.
#pragma once
#include "layers/layer.h"

namespace ff {

class ReLU final : public Layer {
 public:
  // max_value: +Inf for none (Keras's None).
  ReLU(std::string name, uint64_t seed, float max_value, float negative_slope, float threshold);
  float max_value() const { return max_value_; }
  float negative_slope() const { return negative_slope_; }
  float threshold() const { return threshold_; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }

 private:
  bool plain() const;  // the defaults: relu
  float max_value_, negative_slope_, threshold_;
};

}  // namespace ff
