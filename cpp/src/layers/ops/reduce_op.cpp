// Reduction op layers (see reduce_op.h). Softmax along an axis other than the last, and
// log_softmax along any, are compositions of the op kernels with one scratch buffer of the
// reduced shape: softmax = exp(x - max) / sum, log_softmax = x - logsumexp (NaN anywhere in a
// slice makes the slice NaN, as the Softmax activation does).
#include "layers/ops/reduce_op.h"

#include <algorithm>
#include <unordered_map>

#include "core/errors.h"
#include "layers/ops/broadcast.h"

namespace ff {
namespace {

std::vector<int> resolve_axes(const std::vector<int64_t>& axes, bool all, int64_t rank,
                              const std::string& label) {
  std::vector<int> out;
  if (all) {
    for (int d = 0; d < rank; ++d) out.push_back(d);
    return out;
  }
  for (int64_t a : axes) {
    const int d = ops::normalize_axis(a, rank, label);
    if (std::find(out.begin(), out.end(), d) != out.end())
      throw ValueError(label + ": axis " + std::to_string(a) + " is given twice");
    out.push_back(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

[[noreturn]] void batch_axis_error(const std::string& label, const Shape& x,
                                   const std::string& what) {
  throw ValueError(label + " " + what + " on shape " + shape_str(x) + " reduces the batch axis "
                   "(axis 0): in a model an op must keep the batch axis. Reduce the sample axes "
                   "(axis=1 and later, e.g. axis=-1), or apply it to arrays outside the model.");
}

}  // namespace

// ---- ReduceOp ----

ReduceOp::ReduceOp(std::string name, std::string op, uint64_t seed, std::vector<int64_t> axes,
                   bool all_axes, bool keepdims)
    : OpLayer(std::move(name), op, seed, {OpOperand::input()}), axes_arg_(std::move(axes)),
      all_axes_(all_axes), keepdims_(keepdims) {
  static const std::unordered_map<std::string, ReduceKind> kinds = {
      {"sum", ReduceKind::Sum},       {"mean", ReduceKind::Mean},
      {"max", ReduceKind::Max},       {"min", ReduceKind::Min},
      {"argmax", ReduceKind::ArgMax}, {"argmin", ReduceKind::ArgMin},
      {"logsumexp", ReduceKind::LogSumExp}};
  auto k = kinds.find(op);
  if (k == kinds.end()) throw ValueError("internal: unknown reduction \"" + op + "\"");
  kind_ = k->second;
}

Shape ReduceOp::infer(const std::vector<Shape>& shapes) {
  const Shape& x = shapes[0];
  axes_ = resolve_axes(axes_arg_, all_axes_, static_cast<int64_t>(x.size()), label());
  // Over the batch axis in a model: a statistic of the batch (ops.mean(x) in add_loss), a value
  // without a batch axis computed over the step's actual rows.
  reduces_batch_ = batched() && !axes_.empty() && axes_[0] == 0 && !x.empty() && x[0] == kNone;
  Shape out;
  for (size_t d = 0; d < x.size(); ++d) {
    const bool reduced = std::find(axes_.begin(), axes_.end(), static_cast<int>(d)) != axes_.end();
    if (!reduced) out.push_back(x[d]);
    else if (keepdims_) out.push_back(1);
  }
  if (x.size() > 0)
    for (int d : axes_)
      if (x[d] == 0 && (kind_ != ReduceKind::Sum && kind_ != ReduceKind::Mean &&
                        kind_ != ReduceKind::LogSumExp))
        throw ValueError(label() + ": cannot reduce the empty axis " + std::to_string(d) +
                         " of shape " + shape_str(x) + " (the reduction has no identity)");
  return out;
}

void ReduceOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                             const StepContext& ctx) {
  ctx.backend->op_reduce(kind_, xs[0].data<float>(), y.data<float>(),
                         ops::reduce_geometry(xs[0].shape(), axes_));
}

void ReduceOp::backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                              const StepContext& ctx) {
  Tensor* dx = dxs[0];
  if (!dx) return;
  ctx.backend->op_reduce_backward(kind_, xs[0].data<float>(), y.data<float>(), dy.data<float>(),
                                  dx->data<float>(), ops::reduce_geometry(xs[0].shape(), axes_));
}

// ---- SoftmaxOp ----

SoftmaxOp::SoftmaxOp(std::string name, std::string op, uint64_t seed, int64_t axis)
    : OpLayer(std::move(name), op, seed, {OpOperand::input()}), log_(op == "log_softmax"),
      axis_arg_(axis) {
  if (op != "softmax" && op != "log_softmax")
    throw ValueError("internal: unknown softmax op \"" + op + "\"");
}

Shape SoftmaxOp::infer(const std::vector<Shape>& shapes) {
  const Shape& x = shapes[0];
  if (x.empty()) throw ValueError(label() + " needs at least one axis; received a scalar");
  axis_ = ops::normalize_axis(axis_arg_, static_cast<int64_t>(x.size()), label());
  if (batched() && axis_ == 0)
    batch_axis_error(label(), x, "along axis " + std::to_string(axis_arg_));
  return x;
}

std::vector<Shape> SoftmaxOp::op_scratch(const std::vector<Shape>& shapes, const Shape&) const {
  if (rows(shapes[0])) return {};
  Shape s = shapes[0];
  s[axis_] = 1;
  return {s};
}

void SoftmaxOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y,
                              std::vector<Tensor>& scratch, const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const Tensor& x = xs[0];
  const Shape& shape = x.shape();
  if (rows(shape)) {
    const int64_t cols = shape.back();
    be.activation_forward(Activation::Softmax, 0.0f, x.data<float>(), y.data<float>(),
                          cols ? x.numel() / cols : 0, cols);
    return;
  }
  Tensor& s = scratch.at(0);
  const auto red = ops::reduce_geometry(shape, {axis_});
  const auto bc = ops::broadcast_geometry(shape, {shape, s.shape()});
  if (log_) {
    be.op_reduce(ReduceKind::LogSumExp, x.data<float>(), s.data<float>(), red);
    be.op_binary(BinaryKind::Subtract, x.data<float>(), 0, s.data<float>(), 0, y.data<float>(),
                 bc);
    return;
  }
  be.op_reduce(ReduceKind::Max, x.data<float>(), s.data<float>(), red);
  be.op_binary(BinaryKind::Subtract, x.data<float>(), 0, s.data<float>(), 0, y.data<float>(), bc);
  be.op_unary(UnaryKind::Exp, 0, 0, y.data<float>(), y.data<float>(), y.numel());
  be.op_reduce(ReduceKind::Sum, y.data<float>(), s.data<float>(), red);
  be.op_binary(BinaryKind::Divide, y.data<float>(), 0, s.data<float>(), 0, y.data<float>(), bc);
}

void SoftmaxOp::backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                               const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                               const StepContext& ctx) {
  Tensor* dx = dxs[0];
  if (!dx) return;
  Backend& be = *ctx.backend;
  const Shape& shape = y.shape();
  if (rows(shape)) {
    const int64_t cols = shape.back();
    be.activation_backward(Activation::Softmax, 0.0f, xs[0].data<float>(), y.data<float>(),
                           dy.data<float>(), dx->data<float>(), cols ? y.numel() / cols : 0, cols);
    return;
  }
  Tensor& s = scratch.at(0);
  const auto red = ops::reduce_geometry(shape, {axis_});
  const auto bc = ops::broadcast_geometry(shape, {shape, s.shape()});
  const auto same = ops::broadcast_geometry(shape, {shape, shape});
  float* d = dx->data<float>();
  if (log_) {  // dx = dy - exp(y) * sum(dy)
    be.op_reduce(ReduceKind::Sum, dy.data<float>(), s.data<float>(), red);
    be.op_unary(UnaryKind::Exp, 0, 0, y.data<float>(), d, y.numel());
    be.op_binary(BinaryKind::Multiply, d, 0, s.data<float>(), 0, d, bc);
    be.op_binary(BinaryKind::Subtract, dy.data<float>(), 0, d, 0, d, same);
    return;
  }
  // dx = y * (dy - sum(y * dy))
  be.op_binary(BinaryKind::Multiply, y.data<float>(), 0, dy.data<float>(), 0, d, same);
  be.op_reduce(ReduceKind::Sum, d, s.data<float>(), red);
  be.op_binary(BinaryKind::Subtract, dy.data<float>(), 0, s.data<float>(), 0, d, bc);
  be.op_binary(BinaryKind::Multiply, d, 0, y.data<float>(), 0, d, same);
}

}  // namespace ff
