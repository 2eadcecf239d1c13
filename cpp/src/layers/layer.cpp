// Layer base: build-once shape resolution and the Keras-style incompatibility error.
#include "layers/layer.h"

#include "core/errors.h"

namespace ff {

Layer::Layer(std::string name, std::string class_name, uint64_t seed)
    : name_(std::move(name)), class_name_(std::move(class_name)), seed_(seed) {}

Shape Layer::build(const Shape& input_shape) {
  Shape in = with_batch(input_shape, kNone);
  if (built_) {
    if (!shape_compatible(input_shape_, in))
      incompatible("shape=" + shape_str(input_shape_), input_shape);
    return output_shape_;
  }
  if (input_shape.empty())
    throw ValueError("Input 0 of layer \"" + name_ +
                     "\" is incompatible with the layer: expected an input with a batch "
                     "dimension, found a scalar shape=()");
  output_shape_ = compute_output_shape(in);
  input_shape_ = in;
  built_ = true;
  return output_shape_;
}

void Layer::check_input(const Shape& actual) const {
  if (!shape_compatible(input_shape_, with_batch(actual, kNone)) || actual.empty())
    incompatible("shape=" + shape_str(input_shape_), actual);
}

void Layer::incompatible(const std::string& expected, const Shape& found) const {
  throw ValueError("Input 0 of layer \"" + name_ + "\" (" + class_name_ +
                   ") is incompatible with the layer: expected " + expected +
                   ", found shape=" + shape_str(found));
}

void Layer::bind(std::vector<Tensor> params, std::vector<Tensor> grads) {
  params_ = std::move(params);
  grads_ = std::move(grads);
}

}  // namespace ff
