// Sequential: a stack of layers, the chain case of Model. Layers can be added before the input
// shape is known (the model is built on the first shape it sees) and after (the weights already
// there keep their values). The single-array forms of the loops below are what Python's
// Sequential calls; everything else is Model's.
#pragma once
#include <memory>
#include <vector>

#include "model/model.h"

namespace ff {

class Sequential : public Model {
 public:
  explicit Sequential(Backend& backend);

  void add(std::shared_ptr<Layer> layer);
  void pop();
  // The layers in stack order (also before the model is built).
  const std::vector<std::shared_ptr<Layer>>& layers() const { return stack_; }

  // Resolves every layer's shapes for `input_shape` (batch dimension ignored) and allocates and
  // initialises the parameters. Rebuilding with the same shape is a no-op; another shape raises.
  void build(const Shape& input_shape);

  void compile(std::shared_ptr<Loss> loss, std::shared_ptr<Optimizer> optimizer,
               std::vector<std::shared_ptr<Metric>> metrics);

  Logs train_epoch(const HostArray& x, const HostArray& y, const std::vector<int64_t>& order,
                   int64_t epoch, const LoopOptions& opts) {
    return Model::train_epoch({x}, {y}, order, epoch, opts);
  }
  Logs evaluate(const HostArray& x, const HostArray& y, const LoopOptions& opts) {
    return Model::evaluate({x}, {y}, opts);
  }
  void predict(const HostArray& x, float* out, const LoopOptions& opts) {
    Model::predict({x}, {out}, opts);
  }
  void call(const HostArray& x, bool training, float* out) { Model::call({x}, training, {out}); }
  void check_input(const Shape& x_shape) const { check_inputs({x_shape}); }

 private:
  std::vector<std::shared_ptr<Layer>> stack_;
};

}  // namespace ff
