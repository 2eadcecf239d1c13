// MaxPooling2D (Keras): the largest value of each pool_size window of an NHWC input, strides
// defaulting to the pool size, "valid" or "same" padding (padded positions never win). A NaN in
// a window gives NaN out, never silently dropped; backward routes each gradient to the first
// maximum of its window (deterministic on ties).
#pragma once
#include "layers/pooling2d.h"

namespace ff {

class MaxPooling2D final : public Pooling2D {
 public:
  bool supports_half_io() const override { return true; }
  MaxPooling2D(std::string name, uint64_t seed, std::vector<int64_t> pool_size,
               std::vector<int64_t> strides, const std::string& padding)
      : Pooling2D(std::move(name), "MaxPooling2D", seed, std::move(pool_size), std::move(strides),
                  padding) {}
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
};

}  // namespace ff
