// GlobalMaxPooling1D (Keras's layers.GlobalMaxPooling1D(keepdims=False)): (N, steps, C) ->
// (N, C), the maximum over the steps ((N, 1, C) with keepdims). The 2-D max pooling kernels with
// one window over all steps (layers/pooling1d.h).
#pragma once
#include "layers/pooling1d.h"

namespace ff {

class GlobalMaxPooling1D final : public GlobalPooling1D {
 public:
  GlobalMaxPooling1D(std::string name, uint64_t seed, bool keepdims)
      : GlobalPooling1D(std::move(name), "GlobalMaxPooling1D", seed, keepdims) {}
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
};

}  // namespace ff
