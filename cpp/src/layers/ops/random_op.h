// RandomOp: ff.random's operations on symbolic tensors (inside a custom layer's call()), as
// graph nodes drawing from the counter-based Philox stream (backend/random_rules.h): a new draw
// every training step (and every batch of an inference pass), the same numbers on the CPU and
// the GPU for the same seed.
//   random_normal (a = mean, b = stddev), random_uniform (a = minval, b = maxval): the one input
//     only gives the batch size: `shape` is the result's, with -1 first for that batch (or fully
//     known: a value without a batch axis, drawn once per step). No gradient to the input.
//   dropout (a = rate): the input with each element kept with probability 1 - a and scaled by
//     1 / (1 - a), in every pass (keras.random.dropout: gating it by `training` is the caller's
//     business); its gradient goes through the same mask.
#pragma once
#include "backend/random_rules.h"
#include "layers/ops/op_layer.h"

namespace ff {

class RandomOp final : public OpLayer {
 public:
  RandomOp(std::string name, std::string op, uint64_t seed, Shape shape, float a, float b);
  bool output_batched() const override;
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 private:
  RandomKind kind_;
  Shape shape_;
  float a_, b_;
};

}  // namespace ff
