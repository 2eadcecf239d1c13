// AveragePooling2D (Keras): the mean of each pool_size window of an NHWC input, strides
// defaulting to the pool size, "valid" or "same" padding; with "same" a window cut by the border
// divides by the number of real elements it holds (TensorFlow/Keras), not by the pool size.
#pragma once
#include "layers/pooling2d.h"

namespace ff {

class AveragePooling2D final : public Pooling2D {
 public:
  bool supports_half_io() const override { return true; }
  AveragePooling2D(std::string name, uint64_t seed, std::vector<int64_t> pool_size,
                   std::vector<int64_t> strides, const std::string& padding)
      : Pooling2D(std::move(name), "AveragePooling2D", seed, std::move(pool_size),
                  std::move(strides), padding) {}
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
};

}  // namespace ff
