// GlobalMaxPooling2D (Keras): (N, H, W, C) -> (N, C) maxima over H x W, or (N, 1, 1, C) with
// keepdims. The max-pooling kernel with one window covering the whole plane: NaN propagates,
// the gradient goes to the first maximum.
#pragma once
#include "layers/pooling2d.h"

namespace ff {

class GlobalMaxPooling2D final : public GlobalPooling2D {
 public:
  bool supports_half_io() const override { return true; }
  GlobalMaxPooling2D(std::string name, uint64_t seed, bool keepdims)
      : GlobalPooling2D(std::move(name), "GlobalMaxPooling2D", seed, keepdims) {}
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
};

}  // namespace ff
