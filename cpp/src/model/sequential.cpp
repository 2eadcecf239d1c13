// Sequential: the chain of layers built onto Model (see sequential.h).
#include "model/sequential.h"

#include "core/errors.h"

namespace ff {

Sequential::Sequential(Backend& backend) : Model(backend) {}

void Sequential::add(std::shared_ptr<Layer> layer) {
  if (!layer) throw ValueError("Sequential.add() expects a layer, received None");
  for (const auto& l : stack_) {
    if (l == layer)
      throw ValueError("Layer \"" + layer->name() + "\" is already in this model; a layer "
                       "instance can appear once in a Sequential model");
    if (l->name() == layer->name())
      throw ValueError("All layers added to a Sequential model should have unique names. Name \"" +
                       layer->name() + "\" is already the name of a layer in this model.");
  }
  if (layer->num_inputs() != 1)
    throw ValueError("Layer \"" + layer->name() + "\" (" + layer->class_name() +
                     ") merges several inputs: use the functional API (ff.Model) for it");
  if (built()) {
    // Extending a built model: the new layer reads the current output; weights carry over.
    int value = add_node(layer, {nodes().empty() ? 0 : nodes().back().output});
    stack_.push_back(std::move(layer));
    set_outputs({value});
    finalize();
    return;
  }
  stack_.push_back(std::move(layer));
}

void Sequential::pop() {
  if (stack_.empty()) throw ValueError("There are no layers in the model to pop");
  if (built())
    throw ValueError("pop() on a built model is not supported: build a new Sequential instead");
  stack_.pop_back();
}

void Sequential::build(const Shape& input_shape) {
  Shape in = with_batch(input_shape, kNone);
  if (built()) {
    check_input(in);
    return;
  }
  if (stack_.empty()) throw ValueError("Sequential model has no layers: add() layers before use");
  // Shapes resolve layer by layer here: every shape error comes before any allocation, and a
  // failed build leaves the model as it was.
  try {
    int value = add_input(in);
    for (const auto& layer : stack_) value = add_node(layer, {value});
    set_outputs({value});
  } catch (...) {
    clear_graph();
    throw;
  }
  finalize();
}

void Sequential::compile(std::shared_ptr<Loss> loss, std::shared_ptr<Optimizer> optimizer,
                         std::vector<std::shared_ptr<Metric>> metrics) {
  if (!loss) throw ValueError("compile() needs a loss");
  OutputSpec spec;
  spec.name = stack_.empty() ? "output" : stack_.back()->name();
  spec.loss = std::move(loss);
  spec.metrics = std::move(metrics);
  Model::compile({std::move(spec)}, std::move(optimizer));
}

}  // namespace ff
