// ZeroPadding2D: argument checks, output shape, and one backend kernel each way.
#include "layers/zero_padding2d.h"

#include "core/errors.h"

namespace ff {

ZeroPadding2D::ZeroPadding2D(std::string name, uint64_t seed, std::vector<int64_t> padding)
    : Layer(std::move(name), "ZeroPadding2D", seed), padding_(std::move(padding)) {
  if (padding_.size() != 4)
    throw ValueError("`padding` should have two elements, ((top, bottom), (left, right)); "
                     "received " + std::to_string(padding_.size()) + " values");
  for (int64_t v : padding_)
    if (v < 0)
      throw ValueError("`padding` values must be >= 0. Received: padding=((" +
                       std::to_string(padding_[0]) + ", " + std::to_string(padding_[1]) + "), (" +
                       std::to_string(padding_[2]) + ", " + std::to_string(padding_[3]) + "))");
}

Shape ZeroPadding2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  geom_ = Pad2DGeometry{};
  geom_.H = in[1];
  geom_.W = in[2];
  geom_.C = in[3];
  geom_.top = padding_[0];
  geom_.bottom = padding_[1];
  geom_.left = padding_[2];
  geom_.right = padding_[3];
  // Checked: pads may be anything up to 2^63 - 1 through the API; the per-sample limit on the
  // result is Layer::build's.
  const int64_t h = size_add(size_add(in[1], padding_[0], "the padded height"), padding_[1],
                             "the padded height");
  const int64_t w = size_add(size_add(in[2], padding_[2], "the padded width"), padding_[3],
                             "the padded width");
  return {kNone, h, w, in[3]};
}

Pad2DGeometry ZeroPadding2D::geometry(int64_t batch) const {
  Pad2DGeometry g = geom_;
  g.N = batch;
  return g;
}

void ZeroPadding2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                            const StepContext& ctx) {
  ctx.backend->zero_pad2d_forward(geometry(x.shape()[0]), x.data<float>(), y.data<float>());
}

void ZeroPadding2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                             std::vector<Tensor>&, const StepContext& ctx) {
  if (dx) ctx.backend->zero_pad2d_backward(geometry(x.shape()[0]), dy.data<float>(), dx->data<float>());
}

}  // namespace ff
