// GlobalAveragePooling1D: avg_pool2d_forward/backward on the height-1 geometry.
#include "layers/global_average_pooling1d.h"

namespace ff {

void GlobalAveragePooling1D::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                                     const StepContext& ctx) {
  ctx.backend->avg_pool2d_forward(geometry(x.shape()[0]), x.data<float>(), y.data<float>());
}

void GlobalAveragePooling1D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                                      std::vector<Tensor>&, const StepContext& ctx) {
  if (dx)
    ctx.backend->avg_pool2d_backward(geometry(x.shape()[0]), dy.data<float>(), dx->data<float>());
}

}  // namespace ff
