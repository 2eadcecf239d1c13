// Reshape: (N, ...) -> (N, target_shape...), one target dimension may be -1 (inferred).
// A view of the input: no copy forward or backward. Element counts must match exactly.
#pragma once
#include "layers/layer.h"

namespace ff {

class Reshape final : public Layer {
 public:
  Reshape(std::string name, uint64_t seed, Shape target_shape);
  const Shape& target_shape() const { return target_; }
  bool aliases_input(bool) const override { return true; }
  bool supports_half_io() const override { return true; }  // a view: any dtype
  void forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) override {}
  void backward(const Tensor&, const Tensor&, const Tensor&, Tensor*, std::vector<Tensor>&,
                const StepContext&) override {}

 protected:
  Shape compute_output_shape(const Shape& in) override;

 private:
  Shape target_;
};

}  // namespace ff
