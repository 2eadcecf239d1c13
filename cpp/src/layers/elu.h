// ELU layer (Keras's layers.ELU(alpha=1.0)): x where x > 0, alpha * (exp(x) - 1) below,
// through the backend's activation kernels (Activation::Elu: the same bits as Activation("elu")
// with that alpha).
#pragma once
#include "layers/layer.h"

namespace ff {

class ELU final : public Layer {
 public:
  ELU(std::string name, uint64_t seed, float alpha);
  float alpha() const { return alpha_; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }

 private:
  float alpha_;
};

}  // namespace ff
