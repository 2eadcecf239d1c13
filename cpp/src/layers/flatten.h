// Flatten: (N, d1, d2, ...) -> (N, d1*d2*...). A view of the input: no copy forward or backward.
#pragma once
#include "layers/layer.h"

namespace ff {

class Flatten final : public Layer {
 public:
  Flatten(std::string name, uint64_t seed) : Layer(std::move(name), "Flatten", seed) {}
  bool aliases_input(bool) const override { return true; }
  bool supports_half_io() const override { return true; }  // a view: any dtype
  void forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) override {}
  void backward(const Tensor&, const Tensor&, const Tensor&, Tensor*, std::vector<Tensor>&,
                const StepContext&) override {}

 protected:
  Shape compute_output_shape(const Shape& in) override {
    if (in.size() < 2) incompatible("min_ndim=2", in);
    return {kNone, shape_row_size(in)};
  }
};

}  // namespace ff
