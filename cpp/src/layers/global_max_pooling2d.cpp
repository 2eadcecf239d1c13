// GlobalMaxPooling2D: max_pool2d_forward/backward over the single H x W window.
#include "layers/global_max_pooling2d.h"

namespace ff {

void GlobalMaxPooling2D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                                 const StepContext& ctx) {
  if (is_half_precision(x.dtype())) {
    ctx.backend->max_pool2d_forward_half(geometry(x.shape()[0]), x.raw(), y.raw(), x.dtype());
    return;
  }
  ctx.backend->max_pool2d_forward(geometry(x.shape()[0]), x.data<float>(), y.data<float>());
}

void GlobalMaxPooling2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
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
