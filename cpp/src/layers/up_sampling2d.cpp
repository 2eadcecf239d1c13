// UpSampling2D: argument checks, the output shape (checked products) and one kernel each way.
#include "layers/up_sampling2d.h"

#include "core/errors.h"
#include "layers/conv_utils.h"

namespace ff {

UpSampling2D::UpSampling2D(std::string name, uint64_t seed, std::vector<int64_t> size,
                           const std::string& interpolation)
    : Layer(std::move(name), "UpSampling2D", seed), size_(std::move(size)) {
  if (size_.size() != 2)
    throw ValueError("The `size` argument must be a tuple of 2 integers. Received size=" +
                     tuple_str(size_));
  check_positive_tuple("size", size_);
  if (interpolation == "bilinear")
    bilinear_ = true;
  else if (interpolation != "nearest")
    throw ValueError("UpSampling2D: interpolation=\"" + interpolation +
                     "\" is not supported; the supported ones are \"nearest\" and \"bilinear\"");
}

Shape UpSampling2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  geom_ = Upsample2DGeometry{};
  geom_.H = in[1];
  geom_.W = in[2];
  geom_.C = in[3];
  geom_.size_h = size_[0];
  geom_.size_w = size_[1];
  geom_.bilinear = bilinear_;
  return {kNone, size_mul(in[1], size_[0], "the upsampled height"),
          size_mul(in[2], size_[1], "the upsampled width"), in[3]};
}

Upsample2DGeometry UpSampling2D::geometry(int64_t batch) const {
  Upsample2DGeometry g = geom_;
  g.N = batch;
  return g;
}

void UpSampling2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                           const StepContext& ctx) {
  ctx.backend->upsample2d_forward(geometry(x.shape()[0]), x.data<float>(), y.data<float>());
}

void UpSampling2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                            std::vector<Tensor>&, const StepContext& ctx) {
  if (dx)
    ctx.backend->upsample2d_backward(geometry(x.shape()[0]), dy.data<float>(), dx->data<float>());
}

}  // namespace ff
