// The shared base of RandomTranslation, RandomZoom and RandomRotation (Keras 3): in training,
// each image of an (N, H, W, C) batch is resampled through its own 2x3 matrix (output pixel ->
// input point, Keras's affine_transform), drawn by a backend kernel from Philox keyed by (layer
// seed, the step-state block's random stream, sample index), so a seed reproduces them. Forward is the backend's affine resampling,
// backward its exact adjoint through the same matrices (kept in scratch). At inference, or when
// every factor is 0, the layer is the identity (a view). Also: factor parsing and checks.
#pragma once
#include <array>
#include <string>

#include "layers/layer.h"

namespace ff {

// A factor range [lower, upper] (Keras: a float f means [-|f|, |f|]).
struct FactorRange {
  double lower = 0.0, upper = 0.0;
  bool zero() const { return lower == 0.0 && upper == 0.0; }
  double at(float u) const { return lower + (upper - lower) * static_cast<double>(u); }
};

// Keras-style ValueError unless lower <= upper and both lie in [lo, hi]; `what` names the
// argument ("height_factor").
void check_factor(const FactorRange& f, const std::string& what, double lo = -1.0, double hi = 1.0);
FillMode parse_fill_mode(const std::string& mode);
Interpolation parse_interpolation(const std::string& interpolation);

class RandomAffineLayer : public Layer {
 public:
  RandomAffineLayer(std::string name, std::string class_name, uint64_t seed,
                    const std::string& fill_mode, const std::string& interpolation,
                    float fill_value);

  const std::string& fill_mode() const { return fill_mode_name_; }
  const std::string& interpolation() const { return interpolation_name_; }
  float fill_value() const { return fill_value_; }
  // The matrix [a0 a1 a2 b0 b1 b2] of `sample` at training step `step` for an h x w image.
  std::array<float, 6> transform_for(uint64_t step, int64_t sample, int64_t h, int64_t w) const;
  // affine_spec() with this layer's seed.
  AffineSpec seeded_spec() const;

  bool aliases_input(bool training) const override { return !training || is_identity(); }
  // [0]: the per-sample matrices (batch x 6) drawn in forward, read again by backward.
  std::vector<Shape> scratch_shapes(int64_t batch) const override { return {{batch, 6}}; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& in) override;
  // The layer's draw as data (backend/random_transforms.h; seeded_spec() adds the seed).
  virtual AffineSpec affine_spec() const = 0;
  // True when every draw gives the identity matrix (all factors 0).
  virtual bool is_identity() const = 0;

 private:
  std::string fill_mode_name_, interpolation_name_;
  FillMode fill_mode_;
  Interpolation interpolation_;
  float fill_value_;
};

}  // namespace ff
