// Merge layers (see merge.h). Forward and backward of each are a few backend vector ops:
// Add: y = sum x_i, dx_i = dy. Average: y = sum x_i / n, dx_i = dy / n. Multiply: y = prod x_i,
// dx_i = dy * prod_{j != i} x_j. Concatenate: strided block copies along the axis, and back.
#include "layers/merge.h"

#include "core/errors.h"

namespace ff {
namespace {

[[noreturn]] void single_input_call(const Layer& l) {
  throw ValueError("internal: merge layer \"" + l.name() + "\" called with a single input");
}

}  // namespace

Shape ElementwiseMerge::build_multi(const std::vector<Shape>& shapes) {
  std::vector<Shape> in;
  for (const Shape& s : shapes) in.push_back(with_batch(s, kNone));
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i] != in[0])
      throw ValueError("Layer \"" + name() + "\" (" + class_name() +
                       ") merges inputs of identical shapes and does not broadcast; received "
                       "input 0 of shape " + shape_str(in[0]) + " and input " + std::to_string(i) +
                       " of shape " + shape_str(in[i]));
  if (built()) {
    if (input_shapes() != in)
      throw ValueError("Layer \"" + name() + "\" (" + class_name() + ") was built for inputs of shape " +
                       shape_str(input_shapes()[0]) + " and is now called on " + shape_str(in[0]));
    return output_shape();
  }
  set_built(in, in[0]);
  return in[0];
}

void ElementwiseMerge::forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) {
  single_input_call(*this);
}
void ElementwiseMerge::backward(const Tensor&, const Tensor&, const Tensor&, Tensor*,
                                std::vector<Tensor>&, const StepContext&) {
  single_input_call(*this);
}

void Add::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                        const StepContext& ctx) {
  Backend& be = *ctx.backend;
  be.copy(y.raw(), xs[0].raw(), y.nbytes());
  for (size_t i = 1; i < xs.size(); ++i) {
    if (is_half_precision(y.dtype()))  // 16-bit buffers: each partial sum rounded
      be.add_half(y.raw(), xs[i].raw(), y.numel(), y.dtype());
    else
      be.add(y.data<float>(), xs[i].data<float>(), y.numel());
  }
}

void Add::backward_multi(const std::vector<Tensor>&, const Tensor&, const Tensor& dy,
                         const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                         const StepContext& ctx) {
  for (Tensor* dx : dxs)
    if (dx) ctx.backend->copy(dx->raw(), dy.raw(), dy.nbytes());
}

void Average::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                            const StepContext& ctx) {
  Backend& be = *ctx.backend;
  be.copy(y.raw(), xs[0].raw(), y.nbytes());
  for (size_t i = 1; i < xs.size(); ++i) be.add(y.data<float>(), xs[i].data<float>(), y.numel());
  be.scale(y.data<float>(), y.numel(), 1.0f / static_cast<float>(xs.size()));
}

void Average::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                             const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                             const StepContext& ctx) {
  for (Tensor* dx : dxs) {
    if (!dx) continue;
    ctx.backend->copy(dx->raw(), dy.raw(), dy.nbytes());
    ctx.backend->scale(dx->data<float>(), dx->numel(), 1.0f / static_cast<float>(xs.size()));
  }
}

void Multiply::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                             const StepContext& ctx) {
  Backend& be = *ctx.backend;
  be.copy(y.raw(), xs[0].raw(), y.nbytes());
  for (size_t i = 1; i < xs.size(); ++i) be.multiply(y.data<float>(), xs[i].data<float>(), y.numel());
}

void Multiply::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                              const StepContext& ctx) {
  // dx_i = dy * prod_{j != i} x_j, computed directly (no division: zeros in x are fine).
  Backend& be = *ctx.backend;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!dxs[i]) continue;
    be.copy(dxs[i]->raw(), dy.raw(), dy.nbytes());
    for (size_t j = 0; j < xs.size(); ++j)
      if (j != i) be.multiply(dxs[i]->data<float>(), xs[j].data<float>(), dy.numel());
  }
}

Concatenate::Concatenate(std::string name, uint64_t seed, int axis)
    : Layer(std::move(name), "Concatenate", seed), axis_(axis) {}

Shape Concatenate::build_multi(const std::vector<Shape>& shapes) {
  std::vector<Shape> in;
  for (const Shape& s : shapes) in.push_back(with_batch(s, kNone));
  const int rank = static_cast<int>(in[0].size());
  const int axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis <= 0 || axis >= rank)
    throw ValueError("Concatenate axis=" + std::to_string(axis_) + " is out of range for inputs of "
                     "rank " + std::to_string(rank) + " (the batch axis 0 cannot be concatenated)");
  Shape out = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    bool ok = in[i].size() == in[0].size();
    for (int d = 0; ok && d < rank; ++d)
      if (d != axis && in[i][d] != in[0][d]) ok = false;
    if (!ok)
      throw ValueError("A Concatenate layer requires inputs with matching shapes except for the "
                       "concatenation axis " + std::to_string(axis_) + ". Layer \"" + name() +
                       "\" received input 0 of shape " + shape_str(in[0]) + " and input " +
                       std::to_string(i) + " of shape " + shape_str(in[i]));
    out[axis] = size_add(out[axis], in[i][axis], "the concatenated axis");
  }
  if (built()) {
    if (input_shapes() != in)
      throw ValueError("Layer \"" + name() + "\" (Concatenate) was built for other input shapes");
    return output_shape();
  }
  resolved_axis_ = static_cast<size_t>(axis);
  set_built(in, out);
  return out;
}

void Concatenate::forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) {
  single_input_call(*this);
}
void Concatenate::backward(const Tensor&, const Tensor&, const Tensor&, Tensor*,
                           std::vector<Tensor>&, const StepContext&) {
  single_input_call(*this);
}

namespace {
// Row length from the concatenation axis on (inclusive), and rows before it, for a shape.
int64_t inner_size(const Shape& s, size_t axis) {
  int64_t n = 1;
  for (size_t d = axis; d < s.size(); ++d) n *= s[d];
  return n;
}
}  // namespace

void Concatenate::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                                const StepContext& ctx) {
  const int64_t out_row = inner_size(y.shape(), resolved_axis_);
  const int64_t rows = y.numel() / out_row;
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    const int64_t row = inner_size(x.shape(), resolved_axis_);
    ctx.backend->copy_2d(y.data<float>() + offset, out_row, x.data<float>(), row, rows, row);
    offset += row;
  }
}

void Concatenate::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                                 const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                                 const StepContext& ctx) {
  const int64_t out_row = inner_size(dy.shape(), resolved_axis_);
  const int64_t rows = dy.numel() / out_row;
  int64_t offset = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const int64_t row = inner_size(xs[i].shape(), resolved_axis_);
    if (dxs[i])
      ctx.backend->copy_2d(dxs[i]->data<float>(), row, dy.data<float>() + offset, out_row, rows, row);
    offset += row;
  }
}

}  // namespace ff
