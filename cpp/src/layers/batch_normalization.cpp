// BatchNormalization layer (see batch_normalization.h): shape checks, weights in Keras's order,
// and the backend's batch-norm kernels. Backward is the full gradient through the batch mean
// and variance in training, and the plain affine gradient when the moving statistics were used
// (at inference, and when the layer is frozen).
#include "layers/batch_normalization.h"

#include "core/errors.h"
#include "layers/initializers.h"

namespace ff {

BatchNormalization::BatchNormalization(std::string name, uint64_t seed, int64_t axis,
                                       float momentum, float epsilon, bool center, bool scale,
                                       std::string beta_initializer,
                                       std::string gamma_initializer,
                                       std::string moving_mean_initializer,
                                       std::string moving_variance_initializer)
    : Layer(std::move(name), "BatchNormalization", seed),
      axis_(axis),
      momentum_(momentum),
      epsilon_(epsilon),
      center_(center),
      scale_(scale),
      beta_init_(std::move(beta_initializer)),
      gamma_init_(std::move(gamma_initializer)),
      moving_mean_init_(std::move(moving_mean_initializer)),
      moving_variance_init_(std::move(moving_variance_initializer)) {
  if (axis == 0 || axis < -1)
    throw ValueError("BatchNormalization supports only the channels-last feature axis "
                     "(axis=-1, or the index of the last axis); received axis=" +
                     std::to_string(axis));
  for (const auto* init : {&beta_init_, &gamma_init_, &moving_mean_init_, &moving_variance_init_})
    check_initializer_name(*init);
}

Shape BatchNormalization::compute_output_shape(const Shape& in) {
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank < 2) incompatible("min_ndim=2", in);
  if (axis_ > 0 && axis_ != rank - 1)
    throw ValueError("Layer \"" + name() + "\" (BatchNormalization) supports only the last axis "
                     "(channels last); received axis=" + std::to_string(axis_) +
                     " for an input of rank " + std::to_string(rank) + ", shape=" +
                     shape_str(in) + ". Use axis=-1.");
  if (in.back() <= 0) incompatible("the last axis (the normalised features) to be known", in);
  channels_ = in.back();
  return in;
}

std::vector<ParamSpec> BatchNormalization::param_specs() const {
  std::vector<ParamSpec> specs;
  // gamma and beta stay float32 under mixed precision (Keras normalises in float32).
  if (scale_) specs.push_back({"gamma", {channels_}, gamma_init_, true, false});
  if (center_) specs.push_back({"beta", {channels_}, beta_init_, true, false});
  specs.push_back({"moving_mean", {channels_}, moving_mean_init_, false});
  specs.push_back({"moving_variance", {channels_}, moving_variance_init_, false});
  return specs;
}

std::vector<Shape> BatchNormalization::scratch_shapes(int64_t batch) const {
  return {{batch, 2, channels_}};
}

void BatchNormalization::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                                 const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const int64_t rows = x.numel() / channels_;
  const size_t m = moving_index();
  float* moving_mean = params_[m].data<float>();
  float* moving_var = params_[m + 1].data<float>();
  float* mean = saved(scratch);
  float* inv_std = mean + channels_;
  // A frozen layer (trainable = false) normalises with its moving statistics, as in Keras 3.
  if (is_half_precision(x.dtype())) {  // 16-bit x and y, float32 statistics and weights
    if (ctx.training && trainable)
      be.batch_norm_forward_training_half(x.raw(), y.raw(), rows, channels_, gamma(), beta(),
                                          epsilon_, momentum_, moving_mean, moving_var, mean,
                                          inv_std, ctx.state, x.dtype());
    else
      be.batch_norm_forward_inference_half(x.raw(), y.raw(), rows, channels_, gamma(), beta(),
                                           moving_mean, moving_var, epsilon_, mean, inv_std,
                                           x.dtype());
    return;
  }
  if (ctx.training && trainable) {
    be.batch_norm_forward_training(x.data<float>(), y.data<float>(), rows, channels_, gamma(),
                                   beta(), epsilon_, momentum_, moving_mean, moving_var, mean,
                                   inv_std, ctx.state);
  } else {
    be.batch_norm_forward_inference(x.data<float>(), y.data<float>(), rows, channels_, gamma(),
                                    beta(), moving_mean, moving_var, epsilon_, mean, inv_std);
  }
}

void BatchNormalization::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                                  std::vector<Tensor>& scratch, const StepContext& ctx) {
  const int64_t rows = x.numel() / channels_;
  float* dgamma = scale_ ? grads_[0].data<float>() : nullptr;
  float* dbeta = center_ ? grads_[scale_ ? 1 : 0].data<float>() : nullptr;
  const float* mean = saved(scratch);
  if (is_half_precision(x.dtype())) {
    ctx.backend->batch_norm_backward_half(x.raw(), dy.raw(), rows, channels_, gamma(), mean,
                                          mean + channels_, ctx.training && trainable,
                                          dx ? dx->raw() : nullptr, dgamma, dbeta, x.dtype());
    return;
  }
  ctx.backend->batch_norm_backward(x.data<float>(), dy.data<float>(), rows, channels_, gamma(),
                                   mean, mean + channels_, ctx.training && trainable,
                                   dx ? dx->data<float>() : nullptr, dgamma, dbeta);
}

}  // namespace ff
