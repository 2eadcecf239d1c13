// PReLU layer (Keras's layers.PReLU(alpha_initializer="zeros", shared_axes=None)): x where
// x >= 0, alpha * x below, with a learned alpha of the input's per-sample shape, or of size 1
// along each shared axis (shared_axes=[1, 2] on images: one alpha per channel). The weight
// "alpha" has Keras's shape (1 at the shared axes), so get_weights/set_weights exchange it with
// Keras as it is. Kernels: prelu_forward/backward (backend/layer_rules.h: the broadcast).
#pragma once
#include "backend/layer_rules.h"
#include "layers/layer.h"

namespace ff {

class PReLU final : public Layer {
 public:
  // shared_axes: input axes (1 .. rank-1, the batch axis 0 never) along which alpha is shared.
  PReLU(std::string name, uint64_t seed, std::string alpha_initializer,
        std::vector<int64_t> shared_axes);
  const std::vector<int64_t>& shared_axes() const { return shared_axes_; }
  const PReluGeometry& geometry() const { return geom_; }

  std::vector<ParamSpec> param_specs() const override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  PReluGeometry geometry(int64_t batch) const;
  std::string alpha_initializer_;
  std::vector<int64_t> shared_axes_;
  Shape alpha_shape_;
  PReluGeometry geom_;
};

}  // namespace ff
