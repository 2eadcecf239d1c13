// Weight: one weight of a custom layer (ff.layers.Layer.add_weight) as a value of the model's
// graph (Model::add_weight). Its value has no batch axis and is the weight itself: ff.ops layers
// read it like any input (OpOperand::batched = false), and its gradient is the sum over every op
// that reads it, as for any value read twice (the graph's spare-gradient rule). The model keeps
// it in its parameter buffer (trainable: one optimizer slot) or its state buffer
// (trainable=False: no gradient, no update), initialises it from the layer's seed, binds it,
// and saves it like any layer's weight; a regularizer (l1, l2) is the ParamSpec's. The layer
// computes nothing: it is built on construction and never runs as a node.
#pragma once
#include <string>

#include "layers/layer.h"

namespace ff {

class Weight final : public Layer {
 public:
  // `name`: the layer's name in the graph (Python passes "<custom layer>/<weight name>");
  // `weight_name`: the ParamSpec's ("kernel"). A shape of () is a scalar weight.
  Weight(std::string name, uint64_t seed, std::string weight_name, Shape shape,
         std::string initializer, bool trainable, float l1 = 0.0f, float l2 = 0.0f);

  std::vector<ParamSpec> param_specs() const override { return {spec_}; }
  bool output_batched() const override { return false; }
  const Shape& shape() const { return spec_.shape; }

  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  ParamSpec spec_;
};

}  // namespace ff
