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

std::array<float, 2> RandomFlip::flips_for(uint64_t step, int64_t sample) const {
  // Keras: flip when uniform <= 0.5.
  const float u = Philox::to_unit(Philox::block(seed(), step, static_cast<uint64_t>(sample))[0]);
  const float flip = u <= 0.5f ? 1.0f : 0.0f;
  return {horizontal_ ? flip : 0.0f, vertical_ ? flip : 0.0f};
}

void RandomFlip::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                         const StepContext& ctx) {
  const Shape& s = x.shape();
  std::vector<float> flags(static_cast<size_t>(2 * s[0]));
  for (int64_t i = 0; i < s[0]; ++i) {
    const auto f = flips_for(ctx.step, i);
    flags[2 * i] = f[0];
    flags[2 * i + 1] = f[1];
  }
  Tensor& dev = scratch[0];
  ctx.backend->copy_from_host(dev.raw(), flags.data(), flags.size() * sizeof(float));
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
