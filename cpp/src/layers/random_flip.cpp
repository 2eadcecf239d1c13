// RandomFlip layer (see random_flip.h).
#include "layers/random_flip.h"

#include "core/errors.h"
#include "core/rng.h"

namespace ff {

RandomFlip::RandomFlip(std::string name, uint64_t seed, const std::string& mode)
    : Layer(std::move(name), "RandomFlip", seed), mode_(mode) {
  if (mode != "horizontal" && mode != "vertical" && mode != "horizontal_and_vertical")
    throw ValueError("RandomFlip layer " + this->name() + " received an unknown mode argument " +
                     mode + ". Expected one of: 'horizontal', 'vertical', "
                     "'horizontal_and_vertical'");
  horizontal_ = mode != "vertical";
  vertical_ = mode != "horizontal";
}

Shape RandomFlip::compute_output_shape(const Shape& in) {
  if (in.size() != 4 || in[1] <= 0 || in[2] <= 0 || in[3] <= 0)
    incompatible("a batch of images of rank 4, (batch, height, width, channels) with known "
                 "height, width and channels", in);
  return in;
}

FlipSpec RandomFlip::spec() const {
  FlipSpec s;
  s.seed = seed();
  s.horizontal = horizontal_ ? 1 : 0;
  s.vertical = vertical_ ? 1 : 0;
  return s;
}

std::array<float, 2> RandomFlip::flips_for(uint64_t step, int64_t sample) const {
  std::array<float, 2> out;
  flip_flags(spec(), step, sample, out.data());
  return out;
}

void RandomFlip::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                         const StepContext& ctx) {
  const Shape& s = x.shape();
  Tensor& dev = scratch[0];
  ctx.backend->random_flips(spec(), s[0], dev.data<float>(), ctx.state);
  ctx.backend->flip_images(x.data<float>(), y.data<float>(), s[0], s[1], s[2], s[3],
                           dev.data<float>());
}

void RandomFlip::backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor* dx,
                          std::vector<Tensor>& scratch, const StepContext& ctx) {
  if (!dx) return;
  const Shape& s = dy.shape();
  ctx.backend->flip_images(dy.data<float>(), dx->data<float>(), s[0], s[1], s[2], s[3],
                           scratch[0].data<float>());
}

}  // namespace ff
