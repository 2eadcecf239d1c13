// Rescaling (Keras 3): y = x * scale + offset elementwise, e.g. Rescaling(1/255) for pixels.
// A scalar scale and offset; the identity (1, 0) is a view of the input.
#pragma once
#include "layers/layer.h"

namespace ff {

class Rescaling final : public Layer {
 public:
  Rescaling(std::string name, uint64_t seed, float scale, float offset);
  float scale() const { return scale_; }
  float offset() const { return offset_; }
  bool aliases_input(bool) const override { return scale_ == 1.0f && offset_ == 0.0f; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& in) override { return in; }

 private:
  float scale_, offset_;
};

}  // namespace ff
