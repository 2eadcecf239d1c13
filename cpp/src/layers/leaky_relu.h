// LeakyReLU layer (Keras's layers.LeakyReLU(negative_slope=0.3)): x where x >= 0,
// negative_slope * x below, through the backend's activation kernels (Activation::LeakyRelu:
// the same bits as Activation("leaky_relu") with that slope).
#pragma once
#include "layers/layer.h"

namespace ff {

class LeakyReLU final : public Layer {
 public:
  LeakyReLU(std::string name, uint64_t seed, float negative_slope);
  float negative_slope() const { return negative_slope_; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }

 private:
  float negative_slope_;
};

}  // namespace ff
