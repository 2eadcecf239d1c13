// GlobalAveragePooling1D (Keras's layers.GlobalAveragePooling1D(keepdims=False)):
// (N, steps, C) -> (N, C), the mean over the steps ((N, 1, C) with keepdims). The 2-D average
// pooling kernels with one window over all steps (layers/pooling1d.h).
#pragma once
#include "layers/pooling1d.h"

namespace ff {

class GlobalAveragePooling1D final : public GlobalPooling1D {
 public:
  GlobalAveragePooling1D(std::string name, uint64_t seed, bool keepdims)
      : GlobalPooling1D(std::move(name), "GlobalAveragePooling1D", seed, keepdims) {}
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
};

}  // namespace ff
