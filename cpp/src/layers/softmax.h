// Softmax layer (Keras's layers.Softmax(axis=-1)): the softmax along the last axis, computed and
// kept in float32 under mixed precision (as Activation("softmax"): probabilities feed a loss).
// Keras also takes other axes; this layer takes the last one only (axis -1 or its index, resolved
// at build) and says so for any other.
#pragma once
#include "layers/layer.h"

namespace ff {

class Softmax final : public Layer {
 public:
  Softmax(std::string name, uint64_t seed, int64_t axis);
  int64_t axis() const { return axis_; }
  bool float32_output() const override { return true; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  int64_t axis_;
};

}  // namespace ff
