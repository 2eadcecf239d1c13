// Activation layer: applies a named activation elementwise (softmax along the last axis).
#pragma once
#include "layers/activations.h"
#include "layers/layer.h"

namespace ff {

class ActivationLayer final : public Layer {
 public:
  bool supports_half_io() const override { return true; }
  ActivationLayer(std::string name, uint64_t seed, const std::string& activation);
  const ActivationSpec& activation() const { return activation_; }
  bool float32_output() const override { return activation_.kind == Activation::Softmax; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }

 private:
  ActivationSpec activation_;
};

}  // namespace ff
