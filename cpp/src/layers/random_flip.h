// RandomFlip (Keras 3): in training, flips each image of an (N, H, W, C) batch left-right
// ("horizontal"), top-bottom ("vertical") or both ("horizontal_and_vertical") with probability
// 1/2, drawn from Philox keyed by (layer seed, step, sample index): a seed reproduces the flips,
// and backward recomputes nothing (the flags live in scratch). As in Keras 3, one draw per sample
// decides both flips in "horizontal_and_vertical". At inference it is the identity (a view).
#pragma once
#include <array>

#include "layers/layer.h"

namespace ff {

class RandomFlip final : public Layer {
 public:
  RandomFlip(std::string name, uint64_t seed, const std::string& mode);
  const std::string& mode() const { return mode_; }
  // {horizontal, vertical} (1 = flip) for `sample` at training step `step`.
  std::array<float, 2> flips_for(uint64_t step, int64_t sample) const;
  // The draw as data (backend/random_transforms.h).
  FlipSpec spec() const;

  bool aliases_input(bool training) const override { return !training; }
  // [0]: the per-sample flags (batch x 2) drawn in forward, read again by backward.
  std::vector<Shape> scratch_shapes(int64_t batch) const override { return {{batch, 2}}; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  // The adjoint of a flip is the same flip.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& in) override;

 private:
  std::string mode_;
  bool horizontal_, vertical_;
};

}  // namespace ff
