// ModeSelect: the output of a custom layer whose call() traced to different graphs for training
// and inference (it branched on its Python `training` argument, e.g. `if training: x =
// dropout(x)`). Input 0 is the training trace's result, input 1 the inference trace's; the model
// runs each trace's nodes only in passes of its mode (Model::NodeMode), and this node copies
// the pass's input to its output. Backward (training passes only) hands the gradient to input 0;
// input 1 (inference only) takes none.
#pragma once
#include "layers/layer.h"

namespace ff {

class ModeSelect final : public Layer {
 public:
  // `batched`: whether both inputs (and the output) carry the batch axis.
  ModeSelect(std::string name, uint64_t seed, bool batched = true);

  int num_inputs() const override { return 0; }  // exactly two, through build_multi
  bool input_batched(size_t) const override { return batched_; }
  bool output_batched() const override { return batched_; }
  Shape build_multi(const std::vector<Shape>& input_shapes) override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  bool batched_;
};

}  // namespace ff
