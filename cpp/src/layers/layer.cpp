// Layer base: build-once shape resolution and the Keras-style incompatibility error.
#include "layers/layer.h"

#include <cmath>

#include "core/errors.h"
#include "core/rng.h"
#include "layers/initializers.h"

namespace ff {

Layer::Layer(std::string name, std::string class_name, uint64_t seed)
    : name_(std::move(name)), class_name_(std::move(class_name)), seed_(seed) {}

Shape Layer::build(const Shape& input_shape) {
  const bool batched = input_batched(0);
  Shape in = batched ? with_batch(input_shape, kNone) : input_shape;
  if (built_) {
    if (!shape_compatible(input_shape_, in))
      incompatible("shape=" + shape_str(input_shape_), input_shape);
    return output_shape_;
  }
  if (batched && input_shape.empty())
    throw ValueError("Input 0 of layer \"" + name_ +
                     "\" is incompatible with the layer: expected an input with a batch "
                     "dimension, found a scalar shape=()");
  // An input past the limit (a layer built directly, outside a model) is refused before its
  // shape arithmetic runs.
  check_sample_elements(in, "Layer \"" + name_ + "\" (" + class_name_ + "): input 0");
  Shape out;
  try {
    out = compute_output_shape(in);
  } catch (const SizeOverflowError& e) {
    throw ValueError(describe({in}) + ": " + e.what());
  }
  check_sizes({in}, out);
  output_shape_ = out;
  input_shape_ = in;
  input_shapes_ = {in};
  built_ = true;
  return output_shape_;
}

Shape Layer::build_multi(const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() != 1)
    throw ValueError("Layer \"" + name_ + "\" (" + class_name_ + ") takes one input, but was called on " +
                     std::to_string(input_shapes.size()) + " inputs");
  return build(input_shapes[0]);
}

void Layer::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                          const StepContext& ctx) {
  forward(xs[0], y, scratch, ctx);
}

void Layer::backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                           const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                           const StepContext& ctx) {
  backward(xs[0], y, dy, dxs[0], scratch, ctx);
}

std::string Layer::describe(const std::vector<Shape>& inputs) const {
  std::string out = "Layer \"" + name_ + "\" (" + class_name_ + ") on input shape";
  if (inputs.size() > 1) out += "s";
  out += "=";
  for (size_t i = 0; i < inputs.size(); ++i) out += (i ? ", " : "") + shape_str(inputs[i]);
  return out;
}

void Layer::check_sizes(const std::vector<Shape>& inputs, const Shape& output) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    check_sample_elements(inputs[i], "Layer \"" + name_ + "\" (" + class_name_ + "): input " +
                                          std::to_string(i));
  check_sample_elements(output, describe(inputs) + ": the output");
  for (const ParamSpec& spec : param_specs())
    check_param_elements(spec.shape, describe(inputs) + ": weight \"" + spec.name + "\"");
}

void Layer::set_built(const std::vector<Shape>& inputs, const Shape& output) {
  check_sizes(inputs, output);
  input_shapes_ = inputs;
  input_shape_ = inputs.empty() ? Shape{} : inputs[0];
  output_shape_ = output;
  built_ = true;
}

void Layer::set_compute_dtype(DType dtype) {
  if (dtype != DType::Float32 && !is_half_precision(dtype))
    throw ValueError("Layer \"" + name_ + "\": the compute dtype must be float32, bfloat16 or "
                     "float16; received " + dtype_name(dtype));
  if (built_ && dtype != compute_dtype_)
    throw ValueError("Layer \"" + name_ + "\" is already built: its compute dtype (" +
                     dtype_name(compute_dtype_) + ") cannot change to " + dtype_name(dtype));
  compute_dtype_ = dtype;
}

std::string Layer::recorded_error_message(double value, int64_t index, const Shape&) const {
  return "Layer \"" + name() + "\" (" + class_name() + ") found the invalid value " +
         std::to_string(value) + " at element " + std::to_string(index) + " of its input";
}

void Layer::check_input(const Shape& actual) const {
  if (!input_batched(0)) {
    if (actual != input_shape_) incompatible("shape=" + shape_str(input_shape_), actual);
    return;
  }
  if (!shape_compatible(input_shape_, with_batch(actual, kNone)) || actual.empty())
    incompatible("shape=" + shape_str(input_shape_), actual);
}

void Layer::incompatible(const std::string& expected, const Shape& found) const {
  throw ValueError("Input 0 of layer \"" + name_ + "\" (" + class_name_ +
                   ") is incompatible with the layer: expected " + expected +
                   ", found shape=" + shape_str(found));
}

void Layer::set_weight_regularizer(const std::string& param, float l1, float l2) {
  if (!(l1 >= 0.0f) || !(l2 >= 0.0f) || !std::isfinite(l1) || !std::isfinite(l2))
    throw ValueError("Layer \"" + name_ + "\": the regularization factors of weight \"" + param +
                     "\" must be finite non-negative numbers, received l1=" + std::to_string(l1) +
                     ", l2=" + std::to_string(l2));
  for (auto it = regularizers_.begin(); it != regularizers_.end(); ++it)
    if (it->first == param) {
      regularizers_.erase(it);
      break;
    }
  if (l1 > 0.0f || l2 > 0.0f) regularizers_.push_back({param, {l1, l2}});
}

std::pair<float, float> Layer::weight_regularizer(const std::string& param) const {
  for (const auto& [name, factors] : regularizers_)
    if (name == param) return factors;
  return {0.0f, 0.0f};
}

void Layer::bind(std::vector<Tensor> params, std::vector<Tensor> grads) {
  params_ = std::move(params);
  grads_ = std::move(grads);
}

void Layer::create_weights(Device& device) {
  if (!built_)
    throw ValueError("Layer \"" + name_ + "\" (" + class_name_ +
                     ") has no weights before it is built: call build(input_shape) first");
  if (!weights().empty()) return;
  std::vector<Tensor> params, grads;
  for (const ParamSpec& spec : param_specs()) {
    params.push_back(Tensor::zeros(device, spec.shape));
    // The model's initialisation: parameter k (1-based) draws from mix_seed(seed, k).
    initialize(params.back(), spec.initializer, mix_seed(seed_, params.size()));
    grads.emplace_back();
  }
  bind(std::move(params), std::move(grads));
}

}  // namespace ff
