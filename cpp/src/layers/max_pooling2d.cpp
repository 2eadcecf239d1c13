// MaxPooling2D: forward and backward are one backend kernel each (the window maxima are found
// again from x in backward, so no index buffer is kept between the passes).
#include "layers/max_pooling2d.h"

namespace ff {

void MaxPooling2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                           const StepContext& ctx) {
  if (is_half_precision(x.dtype())) {
    ctx.backend->max_pool2d_forward_half(geometry(x.shape()[0]), x.raw(), y.raw(), x.dtype());
    return;
  }
  ctx.backend->max_pool2d_forward(geometry(x.shape()[0]), x.data<float>(), y.data<float>());
}

void MaxPooling2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                            std::vector<Tensor>&, const StepContext& ctx) {
  if (dx && is_half_precision(x.dtype())) {
    ctx.backend->max_pool2d_backward_half(geometry(x.shape()[0]), x.raw(), dy.raw(), dx->raw(),
                                          x.dtype());
    return;
  }
  if (dx)
    ctx.backend->max_pool2d_backward(geometry(x.shape()[0]), x.data<float>(), dy.data<float>(),
                                     dx->data<float>());
}

}  // namespace ff
