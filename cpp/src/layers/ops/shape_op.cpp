// Shape op layers (see shape_op.h).
#include "layers/ops/shape_op.h"

#include <algorithm>

#include "core/errors.h"
#include "layers/ops/broadcast.h"

namespace ff {
namespace {

[[noreturn]] void batch_error(const std::string& label, const std::string& what) {
  throw ValueError(label + ": " + what + " In a model an op must keep the batch axis (None) "
                   "first; ops across the batch axis run on arrays outside the model.");
}

void copy_rows(Backend& be, float* dst, int64_t dst_ld, const float* src, int64_t src_ld,
               int64_t rows, int64_t cols) {
  if (rows > 0 && cols > 0) be.copy_2d(dst, dst_ld, src, src_ld, rows, cols);
}

}  // namespace

// ---- ReshapeOp ----

ReshapeOp::ReshapeOp(std::string name, std::string op, uint64_t seed, Shape target,
                     std::vector<int64_t> axes, bool all_axes)
    : OpLayer(std::move(name), op, seed, {OpOperand::input()}), target_(std::move(target)),
      axes_(std::move(axes)), all_axes_(all_axes) {
  if (op != "reshape" && op != "expand_dims" && op != "squeeze")
    throw ValueError("internal: unknown reshape op \"" + op + "\"");
}

Shape ReshapeOp::infer(const std::vector<Shape>& shapes) {
  const Shape& x = shapes[0];
  const int64_t rank = static_cast<int64_t>(x.size());
  if (op() == "expand_dims") {
    const int axis = ops::normalize_axis(axes_.at(0), rank + 1, label());
    if (batched() && axis == 0)
      batch_error(label(), "axis 0 would put a new axis before the batch axis of shape " +
                               shape_str(x) + "; use axis=1 or later.");
    Shape out = x;
    out.insert(out.begin() + axis, 1);
    return out;
  }
  if (op() == "squeeze") {
    std::vector<int> axes;
    for (int64_t a : axes_) axes.push_back(ops::normalize_axis(a, rank, label()));
    Shape out;
    for (int64_t d = 0; d < rank; ++d) {
      const bool named = std::find(axes.begin(), axes.end(), d) != axes.end();
      if (named && x[d] != 1)
        throw ValueError(label() + ": cannot squeeze axis " + std::to_string(d) + " of shape " +
                         shape_str(x) + ": its size is " +
                         (x[d] == kNone ? std::string("None (the batch)") : std::to_string(x[d])) +
                         ", not 1");
      if (named || (all_axes_ && x[d] == 1)) continue;
      out.push_back(x[d]);
    }
    return out;
  }
  // reshape: NumPy's rule (one -1 inferred); in a model the first entry is the batch.
  Shape target = target_;
  Shape in = x;
  if (batched()) {
    if (target.empty() || target[0] != -1)
      batch_error(label(), "the new shape " + shape_str(target) + " for an input of shape " +
                               shape_str(x) + " must start with -1 or None (the batch size).");
    target.erase(target.begin());
    in.erase(in.begin());
  }
  const int64_t n = ops::dims_product(in, 0, in.size());
  int64_t known = 1;
  int unknown = -1;
  for (size_t d = 0; d < target.size(); ++d) {
    if (target[d] == -1) {
      if (unknown >= 0)
        throw ValueError(label() + ": the new shape " + shape_str(target_) + " has more than one "
                         "-1 (only one size can be inferred)");
      unknown = static_cast<int>(d);
    } else if (target[d] < 0) {
      throw ValueError(label() + ": invalid size " + std::to_string(target[d]) + " in the new "
                       "shape " + shape_str(target_));
    } else {
      known = size_mul(known, target[d], "the new shape's size");
    }
  }
  if (unknown >= 0) {
    if (known == 0 || n % known != 0)
      throw ValueError(label() + ": cannot reshape an input of shape " + shape_str(x) + " into " +
                       shape_str(target_));
    target[unknown] = n / known;
  } else if (known != n) {
    throw ValueError(label() + ": cannot reshape an input of shape " + shape_str(x) + " (" +
                     std::to_string(n) + (batched() ? " per sample" : "") + " values) into " +
                     shape_str(target_));
  }
  if (batched()) target.insert(target.begin(), kNone);
  return target;
}

void ReshapeOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                              const StepContext& ctx) {
  if (y.raw() != xs[0].raw()) ctx.backend->copy(y.raw(), xs[0].raw(), xs[0].nbytes());
}

void ReshapeOp::backward_multi(const std::vector<Tensor>&, const Tensor&, const Tensor& dy,
                               const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                               const StepContext& ctx) {
  if (dxs[0] && dxs[0]->raw() != dy.raw()) ctx.backend->copy(dxs[0]->raw(), dy.raw(), dy.nbytes());
}

// ---- TransposeOp ----

TransposeOp::TransposeOp(std::string name, uint64_t seed, std::vector<int64_t> perm, bool reverse)
    : OpLayer(std::move(name), "transpose", seed, {OpOperand::input()}),
      perm_arg_(std::move(perm)), reverse_(reverse) {}

Shape TransposeOp::infer(const std::vector<Shape>& shapes) {
  const Shape& x = shapes[0];
  const int64_t rank = static_cast<int64_t>(x.size());
  perm_.clear();
  if (reverse_) {
    for (int64_t d = rank - 1; d >= 0; --d) perm_.push_back(static_cast<int>(d));
  } else {
    if (static_cast<int64_t>(perm_arg_.size()) != rank)
      throw ValueError(label() + ": axes " + shape_str(perm_arg_) + " do not match an input of "
                       "rank " + std::to_string(rank) + " (shape " + shape_str(x) + ")");
    for (int64_t a : perm_arg_) {
      const int d = ops::normalize_axis(a, rank, label());
      if (std::find(perm_.begin(), perm_.end(), d) != perm_.end())
        throw ValueError(label() + ": axes " + shape_str(perm_arg_) + " repeat axis " +
                         std::to_string(d));
      perm_.push_back(d);
    }
  }
  if (batched() && rank > 0 && perm_[0] != 0)
    batch_error(label(), std::string(reverse_ ? "without axes it reverses every axis"
                                              : "axes " + shape_str(perm_arg_) + " move") +
                             " of shape " + shape_str(x) + ", the batch axis included; give "
                             "axes that keep 0 first, e.g. (0, 2, 1).");
  Shape out;
  for (int d : perm_) out.push_back(x[d]);
  return out;
}

void TransposeOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                                const StepContext& ctx) {
  ctx.backend->op_strided_copy(xs[0].data<float>(), y.data<float>(),
                               ops::permute_geometry(xs[0].shape(), perm_));
}

void TransposeOp::backward_multi(const std::vector<Tensor>&, const Tensor&, const Tensor& dy,
                                 const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                                 const StepContext& ctx) {
  if (!dxs[0]) return;
  std::vector<int> inverse(perm_.size());
  for (size_t d = 0; d < perm_.size(); ++d) inverse[perm_[d]] = static_cast<int>(d);
  ctx.backend->op_strided_copy(dy.data<float>(), dxs[0]->data<float>(),
                               ops::permute_geometry(dy.shape(), inverse));
}

// ---- ConcatOp ----

ConcatOp::ConcatOp(std::string name, std::string op, uint64_t seed,
                   std::vector<OpOperand> operands, int64_t axis)
    : OpLayer(std::move(name), op, seed, std::move(operands)), stack_(op == "stack"),
      axis_arg_(axis) {
  if (op != "concatenate" && op != "stack")
    throw ValueError("internal: unknown concatenation \"" + op + "\"");
  for (const OpOperand& o : this->operands())
    if (o.kind == OpOperand::Kind::Scalar)
      throw ValueError(label() + " takes tensors, not scalars");
}

Shape ConcatOp::infer(const std::vector<Shape>& shapes) {
  const Shape& first = shapes[0];
  const int64_t rank = static_cast<int64_t>(first.size());
  auto shapes_text = [&] {
    std::string s;
    for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shape_str(shapes[i]);
    return s;
  };
  if (stack_) {
    axis_ = ops::normalize_axis(axis_arg_, rank + 1, label());
    for (const Shape& s : shapes)
      if (s != first)
        throw ValueError(label() + " needs inputs of one shape; received " + shapes_text());
    if (batched() && axis_ == 0)
      batch_error(label(), "axis 0 would stack along a new first axis, before the batch; use "
                           "axis=1 or later.");
    Shape out = first;
    out.insert(out.begin() + axis_, static_cast<int64_t>(shapes.size()));
    return out;
  }
  if (rank == 0) throw ValueError(label() + " cannot join scalars; use ff.ops.stack");
  axis_ = ops::normalize_axis(axis_arg_, rank, label());
  if (batched() && axis_ == 0)
    batch_error(label(), "axis 0 would join along the batch axis; use axis=1 or later.");
  Shape out = first;
  for (size_t i = 1; i < shapes.size(); ++i) {
    bool ok = static_cast<int64_t>(shapes[i].size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d) ok = d == axis_ || shapes[i][d] == first[d];
    if (!ok)
      throw ValueError(label() + " needs inputs whose shapes match except along axis " +
                       std::to_string(axis_arg_) + "; received " + shapes_text());
    out[axis_] = size_add(out[axis_], shapes[i][axis_], "the joined axis");
  }
  return out;
}

void ConcatOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                             const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const int64_t outer = ops::dims_product(y.shape(), 0, static_cast<size_t>(axis_));
  if (outer == 0) return;
  const int64_t out_row = y.numel() / outer;
  const std::vector<Shape> shapes = operand_shapes(xs);
  int64_t offset = 0;
  for (size_t k = 0; k < shapes.size(); ++k) {
    const int64_t row = shape_numel(shapes[k]) / outer;
    copy_rows(be, y.data<float>() + offset, out_row, operand_data(k, xs, be), row, outer, row);
    offset += row;
  }
}

void ConcatOp::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                              const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const int64_t outer = ops::dims_product(dy.shape(), 0, static_cast<size_t>(axis_));
  const std::vector<Shape> shapes = operand_shapes(xs);
  if (outer == 0) return;
  const int64_t out_row = dy.numel() / outer;
  int64_t offset = 0;
  for (size_t k = 0; k < shapes.size(); ++k) {
    const int64_t row = shape_numel(shapes[k]) / outer;
    const int i = input_index(k);
    if (i >= 0 && dxs[i])
      copy_rows(be, dxs[i]->data<float>(), row, dy.data<float>() + offset, out_row, outer, row);
    offset += row;
  }
}

// ---- SliceOp ----

SliceOp::SliceOp(std::string name, uint64_t seed, int64_t axis, int64_t start, int64_t stop)
    : OpLayer(std::move(name), "split", seed, {OpOperand::input()}), axis_arg_(axis),
      start_(start), stop_(stop) {}

Shape SliceOp::infer(const std::vector<Shape>& shapes) {
  const Shape& x = shapes[0];
  axis_ = ops::normalize_axis(axis_arg_, static_cast<int64_t>(x.size()), label());
  if (batched() && axis_ == 0)
    batch_error(label(), "axis 0 would split the batch axis of shape " + shape_str(x) +
                             "; use axis=1 or later (Keras's default axis is 0).");
  if (start_ < 0 || start_ > stop_ || stop_ > x[axis_])
    throw ValueError(label() + ": the piece [" + std::to_string(start_) + ", " +
                     std::to_string(stop_) + ") is outside axis " + std::to_string(axis_) +
                     " of shape " + shape_str(x));
  Shape out = x;
  out[axis_] = stop_ - start_;
  return out;
}

void SliceOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                            const StepContext& ctx) {
  const Shape& s = xs[0].shape();
  const int64_t outer = ops::dims_product(s, 0, static_cast<size_t>(axis_));
  const int64_t inner = ops::dims_product(s, static_cast<size_t>(axis_) + 1, s.size());
  const int64_t len = stop_ - start_;
  copy_rows(*ctx.backend, y.data<float>(), len * inner, xs[0].data<float>() + start_ * inner,
            s[axis_] * inner, outer, len * inner);
}

void SliceOp::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                             const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                             const StepContext& ctx) {
  Tensor* dx = dxs[0];
  if (!dx) return;
  const Shape& s = xs[0].shape();
  const int64_t outer = ops::dims_product(s, 0, static_cast<size_t>(axis_));
  const int64_t inner = ops::dims_product(s, static_cast<size_t>(axis_) + 1, s.size());
  const int64_t len = stop_ - start_;
  ctx.backend->fill(dx->data<float>(), dx->numel(), 0.0f);
  copy_rows(*ctx.backend, dx->data<float>() + start_ * inner, s[axis_] * inner, dy.data<float>(),
            len * inner, outer, len * inner);
}

// ---- OneHotOp ----

OneHotOp::OneHotOp(std::string name, uint64_t seed, int64_t num_classes)
    : OpLayer(std::move(name), "one_hot", seed, {OpOperand::input()}), num_classes_(num_classes) {
  if (num_classes <= 0)
    throw ValueError("ff.ops.one_hot: num_classes must be a positive integer, received " +
                     std::to_string(num_classes));
}

Shape OneHotOp::infer(const std::vector<Shape>& shapes) {
  Shape out = shapes[0];
  out.push_back(num_classes_);
  return out;
}

void OneHotOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                             const StepContext& ctx) {
  if (xs[0].numel() == 0) return;
  ctx.backend->category_encode(xs[0].data<float>(), xs[0].numel(), 1, num_classes_,
                               CategoryMode::OneHot, false, y.data<float>(), ctx.state, ctx.node);
}

void OneHotOp::backward_multi(const std::vector<Tensor>&, const Tensor&, const Tensor&,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                              const StepContext& ctx) {
  if (dxs[0]) ctx.backend->fill(dxs[0]->data<float>(), dxs[0]->numel(), 0.0f);
}

std::string OneHotOp::recorded_error_message(double value, int64_t index,
                                             const Shape& input_shape) const {
  std::string v = std::to_string(value);
  return label() + " (layer \"" + name() + "\"): the value " + v + " at flat index " +
         std::to_string(index) + " of its input (shape " + shape_str(input_shape) +
         " per batch) is not a class index: expected a whole number in [0, " +
         std::to_string(num_classes_) + ")";
}

}  // namespace ff
