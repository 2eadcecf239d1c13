// ModeSelect (see mode_select.h): a copy of the pass's input, the gradient to the training one.
#include "layers/mode_select.h"

#include "core/errors.h"

namespace ff {

ModeSelect::ModeSelect(std::string name, uint64_t seed, bool batched)
    : Layer(std::move(name), "ModeSelect", seed), batched_(batched) {}

Shape ModeSelect::compute_output_shape(const Shape&) {
  throw ValueError("internal: ModeSelect \"" + name() + "\" takes two inputs");
}

Shape ModeSelect::build_multi(const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() != 2)
    throw ValueError("internal: ModeSelect \"" + name() + "\" takes two inputs, received " +
                     std::to_string(input_shapes.size()));
  std::vector<Shape> in;
  for (const Shape& s : input_shapes) in.push_back(batched_ ? with_batch(s, kNone) : s);
  if (in[0] != in[1])
    throw ValueError("Layer \"" + name() + "\": its call() returned a tensor of shape " +
                     shape_str(in[0]) + " when training but " + shape_str(in[1]) +
                     " in inference; the two modes must give the same shapes");
  if (built()) {
    if (Layer::input_shapes() != in)
      throw ValueError("internal: ModeSelect \"" + name() + "\" built for other shapes");
    return output_shape();
  }
  set_built(in, in[0]);
  return in[0];
}

void ModeSelect::forward(const Tensor&, Tensor&, std::vector<Tensor>&, const StepContext&) {
  throw ValueError("internal: ModeSelect takes two inputs");
}

void ModeSelect::backward(const Tensor&, const Tensor&, const Tensor&, Tensor*,
                          std::vector<Tensor>&, const StepContext&) {
  throw ValueError("internal: ModeSelect takes two inputs");
}

void ModeSelect::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                               const StepContext& ctx) {
  const Tensor& x = xs.at(ctx.training ? 0 : 1);
  ctx.backend->copy(y.raw(), x.raw(), x.nbytes());
}

void ModeSelect::backward_multi(const std::vector<Tensor>&, const Tensor&, const Tensor& dy,
                                const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                                const StepContext& ctx) {
  if (dxs.at(0)) ctx.backend->copy(dxs[0]->raw(), dy.raw(), dy.nbytes());
  if (dxs.at(1)) ctx.backend->fill(dxs[1]->data<float>(), dxs[1]->numel(), 0.0f);
}

}  // namespace ff
