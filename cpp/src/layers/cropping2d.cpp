// Cropping2D: argument checks, Keras's error for a crop as large as the input, and the zero-
// padding kernels with the roles of input and output swapped.
#include "layers/cropping2d.h"

#include "core/errors.h"

namespace ff {
namespace {

std::string cropping_str(const std::vector<int64_t>& c) {
  return "((" + std::to_string(c[0]) + ", " + std::to_string(c[1]) + "), (" +
         std::to_string(c[2]) + ", " + std::to_string(c[3]) + "))";
}

}  // namespace

Cropping2D::Cropping2D(std::string name, uint64_t seed, std::vector<int64_t> cropping)
    : Layer(std::move(name), "Cropping2D", seed), cropping_(std::move(cropping)) {
  if (cropping_.size() != 4)
    throw ValueError("`cropping` should have two elements, ((top, bottom), (left, right)); "
                     "received " + std::to_string(cropping_.size()) + " values");
  for (int64_t v : cropping_)
    if (v < 0)
      throw ValueError("`cropping` cannot be negative. Received: cropping=" +
                       cropping_str(cropping_) + ".");
}

Shape Cropping2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  // Compared without forming the sums: crops may be anything up to 2^63 - 1 through the API.
  const bool too_tall = cropping_[0] >= in[1] || cropping_[1] >= in[1] - cropping_[0];
  const bool too_wide = cropping_[2] >= in[2] || cropping_[3] >= in[2] - cropping_[2];
  if (too_tall || too_wide)
    throw ValueError("Layer \"" + name() + "\" (Cropping2D): Values in `cropping` argument should "
                     "be smaller than the corresponding spatial dimension of the input. "
                     "Received: input_shape=" + shape_str(in) + ", cropping=" +
                     cropping_str(cropping_));
  geom_ = Pad2DGeometry{};
  geom_.H = in[1] - cropping_[0] - cropping_[1];
  geom_.W = in[2] - cropping_[2] - cropping_[3];
  geom_.C = in[3];
  geom_.top = cropping_[0];
  geom_.bottom = cropping_[1];
  geom_.left = cropping_[2];
  geom_.right = cropping_[3];
  return {kNone, geom_.H, geom_.W, in[3]};
}

Pad2DGeometry Cropping2D::geometry(int64_t batch) const {
  Pad2DGeometry g = geom_;
  g.N = batch;
  return g;
}

void Cropping2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                         const StepContext& ctx) {
  ctx.backend->zero_pad2d_backward(geometry(x.shape()[0]), x.data<float>(), y.data<float>());
}

void Cropping2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                          std::vector<Tensor>&, const StepContext& ctx) {
  if (dx)
    ctx.backend->zero_pad2d_forward(geometry(x.shape()[0]), dy.data<float>(), dx->data<float>());
}

}  // namespace ff
