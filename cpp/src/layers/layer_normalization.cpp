// LayerNormalization: axis checks (trailing axes only), weights in Keras's order (gamma, beta),
// and the backend's layer_norm kernels over rows of the normalised values.
#include "layers/layer_normalization.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "layers/conv_utils.h"
#include "layers/initializers.h"

namespace ff {

LayerNormalization::LayerNormalization(std::string name, uint64_t seed,
                                       std::vector<int64_t> axes, float epsilon, bool center,
                                       bool scale, std::string beta_initializer,
                                       std::string gamma_initializer)
    : Layer(std::move(name), "LayerNormalization", seed),
      axes_(std::move(axes)),
      epsilon_(epsilon),
      center_(center),
      scale_(scale),
      beta_init_(std::move(beta_initializer)),
      gamma_init_(std::move(gamma_initializer)) {
  if (axes_.empty())
    throw ValueError("LayerNormalization: `axis` must name at least one axis, e.g. axis=-1");
  if (!std::isfinite(epsilon_) || epsilon_ <= 0.0f)
    throw ValueError("LayerNormalization: `epsilon` must be a positive number, received "
                     "epsilon=" + std::to_string(epsilon_));
  check_initializer_name(beta_init_);
  check_initializer_name(gamma_init_);
}

Shape LayerNormalization::compute_output_shape(const Shape& in) {
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank < 2) incompatible("min_ndim=2", in);
  std::vector<int64_t> resolved;
  for (int64_t a : axes_) {
    const int64_t r = a < 0 ? a + rank : a;
    if (r < 1 || r >= rank)
      throw ValueError("Layer \"" + name() + "\" (LayerNormalization): axis=" + tuple_str(axes_) +
                       " is out of range for an input of rank " + std::to_string(rank) +
                       ", shape=" + shape_str(in) + " (the batch axis 0 cannot be normalised)");
    if (std::find(resolved.begin(), resolved.end(), r) != resolved.end())
      throw ValueError("Layer \"" + name() + "\" (LayerNormalization): axis=" + tuple_str(axes_) +
                       " names axis " + std::to_string(r) + " twice");
    resolved.push_back(r);
  }
  std::vector<int64_t> sorted = resolved;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.back() != rank - 1 ||
      sorted.front() != rank - static_cast<int64_t>(sorted.size()))
    throw ValueError("Layer \"" + name() + "\" (LayerNormalization): only the trailing axes can "
                     "be normalised (axis=-1, or e.g. [1, 2, 3] for a whole image); received "
                     "axis=" + tuple_str(axes_) + " for input shape=" + shape_str(in));
  param_shape_.clear();
  cols_ = 1;
  for (int64_t r : resolved) {  // Keras's weight shape follows the order the axes were given in
    if (in[r] <= 0) incompatible("the normalised axes to be known", in);
    param_shape_.push_back(in[r]);
  }
  for (int64_t r : sorted) cols_ *= in[r];
  rows_per_sample_ = 1;
  for (int64_t i = 1; i < sorted.front(); ++i) {
    if (in[i] <= 0) incompatible("every axis but the batch axis known", in);
    rows_per_sample_ *= in[i];
  }
  return in;
}

std::vector<ParamSpec> LayerNormalization::param_specs() const {
  std::vector<ParamSpec> specs;
  // gamma and beta stay float32 under mixed precision (Keras normalises in float32).
  if (scale_) specs.push_back({"gamma", param_shape_, gamma_init_, true, false});
  if (center_) specs.push_back({"beta", param_shape_, beta_init_, true, false});
  return specs;
}

std::vector<Shape> LayerNormalization::scratch_shapes(int64_t batch) const {
  return {{2, batch * rows_per_sample_}};
}

void LayerNormalization::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                                 const StepContext& ctx) {
  const int64_t rows = x.numel() / cols_;
  float* mean = scratch[0].data<float>();
  ctx.backend->layer_norm_forward(x.data<float>(), y.data<float>(), rows, cols_, gamma(), beta(),
                                  epsilon_, mean, mean + rows);
}

void LayerNormalization::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                                  std::vector<Tensor>& scratch, const StepContext& ctx) {
  const int64_t rows = x.numel() / cols_;
  const float* mean = scratch[0].data<float>();
  float* dgamma = scale_ ? grads_[0].data<float>() : nullptr;
  float* dbeta = center_ ? grads_[scale_ ? 1 : 0].data<float>() : nullptr;
  ctx.backend->layer_norm_backward(x.data<float>(), dy.data<float>(), rows, cols_, gamma(), mean,
                                   mean + rows, dx ? dx->data<float>() : nullptr, dgamma, dbeta);
}

}  // namespace ff
