// Cropping2D (Keras's layers.Cropping2D(cropping=((0, 0), (0, 0)))): (N, H, W, C) ->
// (N, H - top - bottom, W - left - right, C), rows and columns removed at the edges. It is
// ZeroPadding2D the other way round: forward is the padding's backward kernel (the interior),
// backward the padding's forward kernel (the gradient surrounded by zeros).
#pragma once
#include "backend/window_geometry.h"
#include "layers/layer.h"

namespace ff {

class Cropping2D final : public Layer {
 public:
  // cropping: ((top, bottom), (left, right)) flattened to {top, bottom, left, right}.
  Cropping2D(std::string name, uint64_t seed, std::vector<int64_t> cropping);
  const std::vector<int64_t>& cropping() const { return cropping_; }
  // The padding geometry whose padded image is the input and whose interior is the output.
  Pad2DGeometry geometry(int64_t batch) const;

  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  std::vector<int64_t> cropping_;
  Pad2DGeometry geom_;
};

}  // namespace ff
