// Shared base of the random affine image layers (see random_affine.h).
#include "layers/random_affine.h"

#include <cmath>
#include <sstream>

#include "core/errors.h"
#include "core/rng.h"

namespace ff {
namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

void check_factor(const FactorRange& f, const std::string& what, double lo, double hi) {
  const bool ok = std::isfinite(f.lower) && std::isfinite(f.upper) && f.lower <= f.upper &&
                  f.lower >= lo && f.upper <= hi;
  if (!ok)
    throw ValueError("The `" + what + "` argument should be a number (or a list of two numbers) "
                     "in the range [" + num(lo) + ", " + num(hi) + "]. Received: " + what +
                     "=(" + num(f.lower) + ", " + num(f.upper) + ")");
}

FillMode parse_fill_mode(const std::string& mode) {
  if (mode == "reflect") return FillMode::Reflect;
  if (mode == "wrap") return FillMode::Wrap;
  if (mode == "constant") return FillMode::Constant;
  if (mode == "nearest") return FillMode::Nearest;
  throw ValueError("Unknown `fill_mode` " + mode +
                   ". Expected of one ('reflect', 'wrap', 'constant', 'nearest').");
}

Interpolation parse_interpolation(const std::string& interpolation) {
  if (interpolation == "bilinear") return Interpolation::Bilinear;
  if (interpolation == "nearest") return Interpolation::Nearest;
  throw ValueError("Unknown `interpolation` " + interpolation +
                   ". Expected of one ('nearest', 'bilinear').");
}

RandomAffineLayer::RandomAffineLayer(std::string name, std::string class_name, uint64_t seed,
                                     const std::string& fill_mode,
                                     const std::string& interpolation, float fill_value)
    : Layer(std::move(name), std::move(class_name), seed),
      fill_mode_name_(fill_mode),
      interpolation_name_(interpolation),
      fill_mode_(parse_fill_mode(fill_mode)),
      interpolation_(parse_interpolation(interpolation)),
      fill_value_(fill_value) {}

Shape RandomAffineLayer::compute_output_shape(const Shape& in) {
  if (in.size() != 4 || in[1] <= 0 || in[2] <= 0 || in[3] <= 0)
    incompatible("a batch of images of rank 4, (batch, height, width, channels) with known "
                 "height, width and channels", in);
  return in;
}

AffineSpec RandomAffineLayer::seeded_spec() const {
  AffineSpec s = affine_spec();
  s.seed = seed();
  return s;
}

std::array<float, 6> RandomAffineLayer::transform_for(uint64_t step, int64_t sample, int64_t h,
                                                      int64_t w) const {
  std::array<float, 6> out;
  affine_matrix(seeded_spec(), step, sample, h, w, out.data());
  return out;
}

void RandomAffineLayer::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                                const StepContext& ctx) {
  const Shape& s = x.shape();
  Tensor& dev = scratch[0];
  ctx.backend->random_affine_matrices(seeded_spec(), s[0], s[1], s[2], dev.data<float>(),
                                      ctx.state);
  ctx.backend->affine_transform_images(x.data<float>(), y.data<float>(), s[0], s[1], s[2], s[3],
                                       dev.data<float>(), interpolation_, fill_mode_, fill_value_);
}

void RandomAffineLayer::backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor* dx,
                                 std::vector<Tensor>& scratch, const StepContext& ctx) {
  if (!dx) return;
  const Shape& s = dy.shape();
  ctx.backend->affine_transform_images_backward(dy.data<float>(), dx->data<float>(), s[0], s[1],
                                                s[2], s[3], scratch[0].data<float>(),
                                                interpolation_, fill_mode_);
}

}  // namespace ff
