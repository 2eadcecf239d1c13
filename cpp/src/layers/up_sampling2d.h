// UpSampling2D (Keras's layers.UpSampling2D(size=(2, 2), interpolation="nearest")):
// (N, H, W, C) -> (N, H * size[0], W * size[1], C); "nearest" repeats each pixel, "bilinear" is
// TensorFlow's half-pixel bilinear resize (backend/layer_rules.h). Kernels upsample2d_forward
// and its gathered adjoint upsample2d_backward.
#pragma once
#include "backend/layer_rules.h"
#include "layers/layer.h"

namespace ff {

class UpSampling2D final : public Layer {
 public:
  // size: (rows, cols) factors; interpolation: "nearest" or "bilinear".
  UpSampling2D(std::string name, uint64_t seed, std::vector<int64_t> size,
               const std::string& interpolation);
  const std::vector<int64_t>& size() const { return size_; }
  std::string interpolation() const { return bilinear_ ? "bilinear" : "nearest"; }
  Upsample2DGeometry geometry(int64_t batch) const;

  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  std::vector<int64_t> size_;
  bool bilinear_ = false;
  Upsample2DGeometry geom_;
};

}  // namespace ff
