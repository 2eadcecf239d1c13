// OpLayer (see op_layer.h): operands, the two build modes, the graph's batch rule, constants.
#include "layers/ops/op_layer.h"

#include "core/errors.h"

namespace ff {

OpOperand OpOperand::constant(Shape shape, std::vector<float> values) {
  OpOperand o;
  o.kind = Kind::Constant;
  if (static_cast<size_t>(shape_numel(shape)) != values.size())
    throw ValueError("internal: an op constant of shape " + shape_str(shape) + " given " +
                     std::to_string(values.size()) + " values");
  o.shape = std::move(shape);
  o.values = std::move(values);
  return o;
}

OpLayer::OpLayer(std::string name, std::string op, uint64_t seed,
                 std::vector<OpOperand> operands)
    : Layer(std::move(name), "ff.ops." + op, seed), op_(std::move(op)),
      operands_(std::move(operands)) {
  for (const OpOperand& o : operands_) {
    input_index_.push_back(o.kind == OpOperand::Kind::Input ? input_count_++ : -1);
    if (o.kind == OpOperand::Kind::Input) input_batched_.push_back(o.batched);
  }
  batched_ = false;
  for (bool b : input_batched_) batched_ = batched_ || b;
  if (input_count_ == 0)
    throw ValueError("internal: " + label() + " has no tensor operand");
}

void OpLayer::set_input_batched(size_t i, bool batched) {
  if (built()) throw ValueError("internal: " + label() + " is built already");
  if (i >= input_batched_.size())
    throw ValueError("internal: " + label() + " has no input " + std::to_string(i));
  input_batched_[i] = batched;
  for (size_t k = 0; k < operands_.size(); ++k)
    if (input_index_[k] == static_cast<int>(i)) operands_[k].batched = batched;
  batched_ = false;
  for (bool b : input_batched_) batched_ = batched_ || b;
}

std::vector<Shape> OpLayer::operand_shapes(const std::vector<Tensor>& xs) const {
  std::vector<Shape> shapes;
  for (size_t k = 0; k < operands_.size(); ++k) {
    const OpOperand& o = operands_[k];
    if (o.kind == OpOperand::Kind::Input) shapes.push_back(xs.at(input_index_[k]).shape());
    else if (o.kind == OpOperand::Kind::Constant) shapes.push_back(o.shape);
    else shapes.push_back({});
  }
  return shapes;
}

Shape OpLayer::resolve(const std::vector<Shape>& input_shapes) {
  if (static_cast<int>(input_shapes.size()) != input_count_)
    throw ValueError(label() + " takes " + std::to_string(input_count_) + " tensor input(s), "
                     "received " + std::to_string(input_shapes.size()));
  std::vector<Shape> shapes;
  for (size_t k = 0; k < operands_.size(); ++k) {
    const OpOperand& o = operands_[k];
    if (o.kind == OpOperand::Kind::Input) shapes.push_back(input_shapes[input_index_[k]]);
    else if (o.kind == OpOperand::Kind::Constant) shapes.push_back(o.shape);
    else shapes.push_back({});
  }
  Shape out = infer(shapes);
  if (!output_batched() && !eager_)  // no per-sample limit applies to it; the weight one does
    check_param_elements(out, "Layer \"" + name() + "\" (" + class_name() + "): the result");
  if (output_batched()) {
    // The graph's values are batch-major: the result must keep the batch axis first, once.
    bool ok = !out.empty() && out[0] == kNone;
    for (size_t d = 1; ok && d < out.size(); ++d) ok = out[d] != kNone;
    if (!ok) {
      std::string in;
      for (size_t i = 0; i < input_shapes.size(); ++i)
        in += (i ? ", " : "") + shape_str(input_shapes[i]);
      throw ValueError(label() + " on input shape" + (input_shapes.size() > 1 ? "s " : " ") + in +
                       " would give shape " + shape_str(out) + ": in a model an op must keep "
                       "the batch axis (None) first, once. Ops across the batch axis run on "
                       "arrays (ff.ops on NumPy values), not inside a model.");
    }
  }
  built_operand_shapes_ = shapes;
  return out;
}

Shape OpLayer::compute_output_shape(const Shape& in) { return resolve({in}); }

Shape OpLayer::build_multi(const std::vector<Shape>& input_shapes) {
  if (input_count_ == 1) return Layer::build_multi(input_shapes);
  std::vector<Shape> in;
  for (size_t i = 0; i < input_shapes.size(); ++i)
    in.push_back(i < input_batched_.size() && !input_batched_[i]
                     ? input_shapes[i]
                     : with_batch(input_shapes[i], kNone));
  if (built()) {
    if (Layer::input_shapes() == in) return output_shape();
    throw ValueError("Layer \"" + name() + "\" (" + class_name() + ") was built for other input "
                     "shapes");
  }
  Shape out = resolve(in);
  set_built(in, out);
  return out;
}

Shape OpLayer::build_eager(const std::vector<Shape>& input_shapes) {
  if (built()) throw ValueError("internal: " + label() + " is already built");
  eager_ = true;
  batched_ = false;
  Shape out = resolve(input_shapes);
  set_built(input_shapes, out);
  return out;
}

std::vector<Shape> OpLayer::scratch_shapes(int64_t batch) const {
  if (!built()) return {};
  std::vector<Shape> shapes = built_operand_shapes_;
  Shape out = output_shape();
  if (batched_) {
    for (size_t k = 0; k < operands_.size(); ++k)
      if (operands_[k].kind == OpOperand::Kind::Input && operands_[k].batched)
        shapes[k] = with_batch(shapes[k], batch);
    if (output_batched()) out = with_batch(out, batch);
  }
  return op_scratch(shapes, out);
}

const float* OpLayer::operand_data(size_t k, const std::vector<Tensor>& xs, Backend& be) const {
  const OpOperand& o = operands_[k];
  if (o.kind == OpOperand::Kind::Input) return xs.at(input_index_[k]).data<float>();
  if (o.kind == OpOperand::Kind::Scalar) return nullptr;
  std::lock_guard<std::mutex> lock(constants_mutex_);
  Device* device = &be.device();
  for (auto& [dev, tensors] : constants_)
    if (dev == device) return tensors[k].data<float>();
  // First use on this device (an eager step: a captured step never reaches here first).
  std::vector<Tensor> tensors(operands_.size());
  for (size_t i = 0; i < operands_.size(); ++i) {
    if (operands_[i].kind != OpOperand::Kind::Constant) continue;
    tensors[i] = Tensor::empty(*device, operands_[i].shape);
    device->copy_from_host(tensors[i].raw(), operands_[i].values.data(), tensors[i].nbytes());
  }
  constants_.emplace_back(device, std::move(tensors));
  return constants_.back().second[k].data<float>();
}

void OpLayer::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                      const StepContext& ctx) {
  forward_multi({x}, y, scratch, ctx);
}

void OpLayer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                       std::vector<Tensor>& scratch, const StepContext& ctx) {
  backward_multi({x}, y, dy, {dx}, scratch, ctx);
}

Tensor run_eager(OpLayer& op, Backend& be, const std::vector<Tensor>& inputs) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  const Shape out = op.build_eager(shapes);
  Device& device = be.device();
  Tensor y = Tensor::empty(device, out);
  std::vector<Tensor> scratch;
  if (op.forward_uses_scratch())
    for (const Shape& s : op.scratch_shapes(0)) scratch.push_back(Tensor::empty(device, s));
  // A step-state block of its own: where a kernel records an error (nothing else reads it).
  Tensor block = Tensor::zeros(device, {static_cast<int64_t>(step_state_bytes(0))}, DType::UInt8);
  StepState h{};
  h.loss_scale = 1.0f;
  h.grads_finite = 1;
  h.apply_update = 1;
  device.copy_from_host(block.raw(), &h, sizeof h);
  StepContext ctx{&be, false, static_cast<StepState*>(block.raw()), -1, -1, 0};
  if (op.aliases_input(false))
    be.copy(y.raw(), inputs.at(0).raw(), y.nbytes());
  else
    op.forward_multi(inputs, y, scratch, ctx);
  device.copy_to_host(&h, block.raw(), sizeof h);
  if (h.halted)
    throw ValueError(op.recorded_error_message(h.error_value, h.error_index, shapes.at(0)));
  return y;
}

}  // namespace ff
