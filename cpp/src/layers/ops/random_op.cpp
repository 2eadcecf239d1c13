// RandomOp (see random_op.h).
#include "layers/ops/random_op.h"

#include <cmath>

#include "core/errors.h"

namespace ff {

RandomOp::RandomOp(std::string name, std::string op, uint64_t seed, Shape shape, float a, float b)
    : OpLayer(std::move(name), op, seed, {OpOperand::input()}), shape_(std::move(shape)), a_(a),
      b_(b) {
  if (op == "random_normal") {
    kind_ = RandomKind::Normal;
    if (!(b >= 0.0f) || !std::isfinite(a) || !std::isfinite(b))
      throw ValueError(label() + ": mean must be finite and stddev a finite number >= 0, received "
                       "mean=" + std::to_string(a) + ", stddev=" + std::to_string(b));
  } else if (op == "random_uniform") {
    kind_ = RandomKind::Uniform;
    if (!(a < b) || !std::isfinite(a) || !std::isfinite(b))
      throw ValueError(label() + ": minval must be smaller than maxval (both finite), received "
                       "minval=" + std::to_string(a) + ", maxval=" + std::to_string(b));
  } else if (op == "dropout") {
    kind_ = RandomKind::Dropout;
    if (!(a >= 0.0f && a < 1.0f))
      throw ValueError(label() + ": rate must be in [0, 1), received rate=" + std::to_string(a));
  } else {
    throw ValueError("internal: unknown random op \"" + op + "\"");
  }
  for (size_t d = 0; d < shape_.size(); ++d)
    if (shape_[d] < 0 && !(d == 0 && shape_[d] == -1))
      throw ValueError(label() + ": a shape's sizes must be non-negative (the first may be None, "
                       "the batch), received " + shape_str(shape_));
}

bool RandomOp::output_batched() const {
  if (kind_ == RandomKind::Dropout) return OpLayer::output_batched();
  return OpLayer::output_batched() && !shape_.empty() && shape_[0] == -1;
}

Shape RandomOp::infer(const std::vector<Shape>& shapes) {
  const Shape& x = shapes[0];
  if (kind_ == RandomKind::Dropout) return x;
  Shape out = shape_;
  if (!out.empty() && out[0] == -1) {
    if (x.empty() || (!eager() && !batched()))
      throw ValueError(label() + ": a shape with a batch dimension None, " +
                       shape_str(shape_) + ", takes the batch size of a batched tensor; received "
                       "one of shape " + shape_str(x));
    out[0] = x[0];  // None in a model, the array's rows on arrays
  }
  return out;
}

void RandomOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                             const StepContext& ctx) {
  const float* x = kind_ == RandomKind::Dropout ? xs[0].data<float>() : nullptr;
  ctx.backend->random_values(kind_, a_, b_, seed(), x, y.data<float>(), y.numel(), ctx.state,
                             ctx.training);
}

void RandomOp::backward_multi(const std::vector<Tensor>&, const Tensor&, const Tensor& dy,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                              const StepContext& ctx) {
  Tensor* dx = dxs[0];
  if (!dx) return;
  if (kind_ != RandomKind::Dropout) {  // the input only gave the batch size
    ctx.backend->fill(dx->data<float>(), dx->numel(), 0.0f);
    return;
  }
  ctx.backend->random_values(kind_, a_, b_, seed(), dy.data<float>(), dx->data<float>(),
                             dx->numel(), ctx.state, ctx.training);
}

}  // namespace ff
