// AveragePooling1D (Keras's layers.AveragePooling1D(pool_size=2, strides=None,
// padding="valid")): the mean of each window of (N, steps, C) over the positions inside the
// input (TensorFlow's "same" average). The 2-D average pooling kernels on a geometry of height 1
// (layers/pooling1d.h).
#pragma once
#include "layers/pooling1d.h"

namespace ff {

class AveragePooling1D final : public Pooling1D {
 public:
  AveragePooling1D(std::string name, uint64_t seed, int64_t pool_size, int64_t strides,
                   const std::string& padding)
      : Pooling1D(std::move(name), "AveragePooling1D", seed, pool_size, strides, padding) {}
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
};

}  // namespace ff
