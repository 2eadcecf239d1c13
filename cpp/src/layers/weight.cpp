// Weight (see weight.h): a built-on-construction layer with one parameter and no computation.
#include "layers/weight.h"

#include "core/errors.h"
#include "layers/initializers.h"

namespace ff {

Weight::Weight(std::string name, uint64_t seed, std::string weight_name, Shape shape,
               std::string initializer, bool trainable, float l1, float l2)
    : Layer(std::move(name), "Weight", seed) {
  for (int64_t d : shape)
    if (d < 0)
      throw ValueError("Weight \"" + this->name() + "\": a weight's shape must hold non-negative "
                       "sizes, received " + shape_str(shape));
  if (!(l1 >= 0.0f) || !(l2 >= 0.0f))
    throw ValueError("Weight \"" + this->name() + "\": regularization factors must be "
                     "non-negative numbers");
  check_initializer_name(initializer);
  spec_.name = std::move(weight_name);
  spec_.shape = std::move(shape);
  spec_.initializer = std::move(initializer);
  spec_.trainable = trainable;
  spec_.autocast = false;  // ops compute in float32: the weight is read as it is stored
  spec_.l1 = l1;
  spec_.l2 = l2;
  set_built({}, spec_.shape);
}

Shape Weight::compute_output_shape(const Shape&) {
  throw ValueError("internal: Weight \"" + name() + "\" is not called on inputs");
}

void Weight::forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) {
  throw ValueError("internal: Weight \"" + name() + "\" runs as a value, not a node");
}

void Weight::backward(const Tensor&, const Tensor&, const Tensor&, Tensor*, std::vector<Tensor>&,
                      const StepContext&) {
  throw ValueError("internal: Weight \"" + name() + "\" runs as a value, not a node");
}

}  // namespace ff
