// ZeroPadding2D (Keras): (N, H, W, C) -> (N, top + H + bottom, left + W + right, C), the input
// surrounded by zero rows and columns. Backward takes the interior of dy.
#pragma once
#include "backend/window_geometry.h"
#include "layers/layer.h"

namespace ff {

class ZeroPadding2D final : public Layer {
 public:
  // padding: ((top, bottom), (left, right)) flattened to {top, bottom, left, right}.
  ZeroPadding2D(std::string name, uint64_t seed, std::vector<int64_t> padding);
  const std::vector<int64_t>& padding() const { return padding_; }
  Pad2DGeometry geometry(int64_t batch) const;

  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  std::vector<int64_t> padding_;
  Pad2DGeometry geom_;
};

}  // namespace ff
