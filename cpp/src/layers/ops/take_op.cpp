// TakeOp (see take_op.h).
#include "layers/ops/take_op.h"

#include <cmath>

#include "backend/take_rules.h"
#include "core/errors.h"
#include "layers/ops/broadcast.h"

namespace ff {
namespace {

std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(v);
}

}  // namespace

TakeOp::TakeOp(std::string name, uint64_t seed, std::vector<OpOperand> operands, int64_t axis,
               bool flatten)
    : OpLayer(std::move(name), "take", seed, std::move(operands)), axis_arg_(axis),
      flatten_(flatten) {
  if (this->operands().size() != 2)
    throw ValueError("internal: ff.ops.take takes x and the indices");
  for (const OpOperand& o : this->operands())
    if (o.kind == OpOperand::Kind::Scalar)
      throw ValueError("internal: ff.ops.take's operands are tensors or constants");
}

std::string TakeOp::axis_text() const {
  return flatten_ ? std::string("None (x flattened)") : std::to_string(axis_);
}

Shape TakeOp::infer(const std::vector<Shape>& shapes) {
  const Shape& x = shapes[0];
  const Shape& idx = shapes[1];
  auto is_batched = [&](size_t k) {
    return batched() && operands()[k].kind == OpOperand::Kind::Input && operands()[k].batched;
  };
  const bool xb = is_batched(0), ib = is_batched(1);
  const std::string where = " In a model an op must keep the batch axis (None) first; ops "
                            "across the batch axis run on arrays outside the model.";
  Shape out;
  if (flatten_) {
    if (xb)
      throw ValueError(label() + ": axis=None would flatten x of shape " + shape_str(x) +
                       " over its batch axis; give an axis of 1 or later." + where);
    axis_ = 0;
    axis_size_ = ops::dims_product(x, 0, x.size());
    out = idx;
  } else {
    const int64_t rank = static_cast<int64_t>(x.size());
    if (rank == 0)
      throw ValueError(label() + ": x is a scalar (shape ()); it has no axis " +
                       std::to_string(axis_arg_) + " to take from");
    axis_ = ops::normalize_axis(axis_arg_, rank, label());
    if (xb && axis_ == 0)
      throw ValueError(label() + ": axis 0 would take along the batch axis of x (shape " +
                       shape_str(x) + "); use axis=1 or later." + where);
    axis_size_ = x[axis_];
    out.assign(x.begin(), x.begin() + axis_);
    out.insert(out.end(), idx.begin(), idx.end());
    out.insert(out.end(), x.begin() + axis_ + 1, x.end());
  }
  if (xb && ib)
    throw ValueError(label() + ": x (shape " + shape_str(x) + ") and the indices (shape " +
                     shape_str(idx) + ") both carry the batch axis; the result would carry it "
                     "twice." + where);
  if (ib && axis_ != 0)
    throw ValueError(label() + ": batched indices (shape " + shape_str(idx) + ") taken along "
                     "axis " + std::to_string(axis_) + " of x (shape " + shape_str(x) + ") would "
                     "put the batch axis at position " + std::to_string(axis_) + "; take from "
                     "axis 0 of a value without a batch axis (the embedding lookup), or reshape "
                     "x." + where);
  // Constant indices are checked now, against the axis size.
  const OpOperand& io = operands()[1];
  if (io.kind == OpOperand::Kind::Constant)
    for (size_t j = 0; j < io.values.size(); ++j)
      if (take_position(io.values[j], axis_size_) < 0)
        throw ValueError(recorded_error_message(io.values[j], static_cast<int64_t>(j), x));
  return out;
}

void TakeOp::layout(const Shape& x, int64_t& outer, int64_t& size, int64_t& inner) const {
  if (flatten_) {
    outer = 1;
    size = ops::dims_product(x, 0, x.size());
    inner = 1;
    return;
  }
  outer = ops::dims_product(x, 0, static_cast<size_t>(axis_));
  size = x[axis_];
  inner = ops::dims_product(x, static_cast<size_t>(axis_) + 1, x.size());
}

void TakeOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                           const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const std::vector<Shape> shapes = operand_shapes(xs);
  int64_t outer, size, inner;
  layout(shapes[0], outer, size, inner);
  const int64_t n = shape_numel(shapes[1]);
  be.op_take(operand_data(0, xs, be), operand_data(1, xs, be), y.data<float>(), outer, size, n,
             inner, ctx.state, ctx.node);
}

void TakeOp::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                            const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                            const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const std::vector<Shape> shapes = operand_shapes(xs);
  const int i0 = input_index(0), i1 = input_index(1);
  if (i1 >= 0 && dxs[i1]) be.fill(dxs[i1]->data<float>(), dxs[i1]->numel(), 0.0f);
  if (i0 < 0 || !dxs[i0]) return;
  int64_t outer, size, inner;
  layout(shapes[0], outer, size, inner);
  const int64_t n = shape_numel(shapes[1]);
  if (dxs[i0]->numel() == 0) return;
  be.op_take_backward(operand_data(1, xs, be), dy.data<float>(), dxs[i0]->data<float>(), outer,
                      size, n, inner);
}

std::string TakeOp::recorded_error_message(double value, int64_t index, const Shape&) const {
  const bool whole = value == std::floor(value);
  return label() + " (layer \"" + name() + "\"): index " + number_text(value) + " at position " +
         std::to_string(index) + " of the indices " +
         (whole ? "is out of bounds for axis " + axis_text() + " with size " +
                      std::to_string(axis_size_) + " (valid: " +
                      std::to_string(-axis_size_) + " to " + std::to_string(axis_size_ - 1) + ")"
                : std::string("is not a whole number"));
}

}  // namespace ff
