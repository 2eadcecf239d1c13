// AveragePooling2D: one backend kernel each way; backward spreads dy / (window count) over the
// window's real positions.
#include "layers/average_pooling2d.h"

namespace ff {

void AveragePooling2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                               const StepContext& ctx) {
  if (is_half_precision(x.dtype())) {
    ctx.backend->avg_pool2d_forward_half(geometry(x.shape()[0]), x.raw(), y.raw(), x.dtype());
    return;
  }
  ctx.backend->avg_pool2d_forward(geometry(x.shape()[0]), x.data<float>(), y.data<float>());
}

void AveragePooling2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                                std::vector<Tensor>&, const StepContext& ctx) {
  if (dx && is_half_precision(dy.dtype())) {
    ctx.backend->avg_pool2d_backward_half(geometry(x.shape()[0]), dy.raw(), dx->raw(),
                                          dy.dtype());
    return;
  }
  if (dx)
    ctx.backend->avg_pool2d_backward(geometry(x.shape()[0]), dy.data<float>(), dx->data<float>());
}

}  // namespace ff
