// Normalization layer (see normalization.h): statistics held on the host until the weights
// exist, shape checks against the adapted feature count, and the backend's normalize kernel.
#include "layers/normalization.h"

#include <cmath>

#include "core/errors.h"

namespace ff {

Normalization::Normalization(std::string name, uint64_t seed, bool per_feature, int64_t axis,
                             bool invert)
    : Layer(std::move(name), "Normalization", seed),
      per_feature_(per_feature),
      axis_(axis),
      invert_(invert) {
  if (per_feature && (axis == 0 || axis < -1))
    throw ValueError("Normalization supports axis=-1 (one mean and variance per feature of the "
                     "last axis) or axis=None (one for all values); received axis=" +
                     std::to_string(axis));
}

Shape Normalization::compute_output_shape(const Shape& in) {
  const int64_t rank = static_cast<int64_t>(in.size());
  int64_t features = 1;
  if (per_feature_) {
    if (rank < 2)
      throw ValueError("Layer \"" + name() + "\" (Normalization) with axis=-1 keeps one mean per "
                       "feature of the last axis, but its input " + shape_str(in) +
                       " has only the batch axis. Use axis=None, or give the data a feature "
                       "axis (x[:, None]).");
    if (axis_ > 0 && axis_ != rank - 1)
      throw ValueError("Layer \"" + name() + "\" (Normalization) supports only the last axis; "
                       "received axis=" + std::to_string(axis_) + " for an input of rank " +
                       std::to_string(rank) + ", shape=" + shape_str(in) + ". Use axis=-1.");
    if (in.back() <= 0) incompatible("the last axis (the features) to be known", in);
    features = in.back();
  }
  const int64_t have = static_cast<int64_t>(mean_.size());
  if (has_statistics_ && have != 1 && have != features) {
    Shape want = in;
    if (per_feature_) want.back() = have;
    incompatible("shape=" + shape_str(want) + " (the layer's mean and variance have " +
                     std::to_string(have) + " values" +
                     (per_feature_ ? std::string(", one per feature") : std::string()) + ")",
                 in);
  }
  features_ = features;
  return in;
}

std::vector<ParamSpec> Normalization::param_specs() const {
  const Shape shape = per_feature_ ? Shape{features_} : Shape{};
  return {{"mean", shape, "zeros", false}, {"variance", shape, "ones", false}};
}

void Normalization::set_statistics(std::vector<float> mean, std::vector<float> variance) {
  if (mean.empty() || mean.size() != variance.size())
    throw ValueError("Normalization \"" + name() + "\": mean and variance must have the same, "
                     "non-zero number of values; received " + std::to_string(mean.size()) +
                     " and " + std::to_string(variance.size()));
  for (size_t i = 0; i < mean.size(); ++i) {
    if (!std::isfinite(mean[i]) || !std::isfinite(variance[i]))
      throw ValueError("Normalization \"" + name() + "\": mean and variance must be finite; "
                       "value " + std::to_string(i) + " is mean=" + std::to_string(mean[i]) +
                       ", variance=" + std::to_string(variance[i]) +
                       " (does the adapted data hold NaN or Inf?)");
    if (variance[i] < 0.0f)
      throw ValueError("Normalization \"" + name() + "\": variance must be >= 0; value " +
                       std::to_string(i) + " is " + std::to_string(variance[i]));
  }
  const int64_t n = static_cast<int64_t>(mean.size());
  if (built() && n != 1 && n != features_)
    throw ValueError("Normalization \"" + name() + "\" was built for input shape " +
                     shape_str(input_shape()) + " (" + std::to_string(features_) +
                     " features), but received " + std::to_string(n) +
                     " values of mean and variance");
  mean_ = std::move(mean);
  variance_ = std::move(variance);
  has_statistics_ = true;
  if (!params_.empty()) write_statistics();
}

void Normalization::bind(std::vector<Tensor> params, std::vector<Tensor> grads) {
  Layer::bind(std::move(params), std::move(grads));
  // Only into storage the values were not yet written to: rebinding the same weights (a model
  // swapping gradient buffers) must not reset values set since, e.g. by a model's set_weights.
  // New storage (another model using the layer, a rebuilt buffer the model then refills with
  // the old values) receives them.
  if (mean_.empty() || params_.empty()) return;
  if (!written_to_.defined() || params_[0].raw() != written_to_.raw()) write_statistics();
}

void Normalization::write_statistics() {
  const size_t n = static_cast<size_t>(params_[0].numel());
  std::vector<float> m(n), v(n);
  for (size_t i = 0; i < n; ++i) {
    m[i] = mean_.size() == 1 ? mean_[0] : mean_[i];
    v[i] = variance_.size() == 1 ? variance_[0] : variance_[i];
  }
  params_[0].device().copy_from_host(params_[0].raw(), m.data(), n * sizeof(float));
  params_[1].device().copy_from_host(params_[1].raw(), v.data(), n * sizeof(float));
  written_to_ = params_[0];
}

bool Normalization::statistics_in_weights() {
  // Weights written around the layer (a model's set_weights) count as set, unless they are still
  // exactly the initial mean 0 and variance 1. Read once: afterwards has_statistics_ is true.
  const size_t n = static_cast<size_t>(params_[0].numel());
  std::vector<float> m(n), v(n);
  params_[0].device().copy_to_host(m.data(), params_[0].raw(), n * sizeof(float));
  params_[1].device().copy_to_host(v.data(), params_[1].raw(), n * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    if (m[i] != 0.0f || v[i] != 1.0f) return has_statistics_ = true;
  return false;
}

void Normalization::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                            const StepContext& ctx) {
  if (!has_statistics_ && !statistics_in_weights())
    throw ValueError("Layer \"" + name() + "\" (Normalization) has no mean and variance yet. You "
                     "must call `.adapt(data)` on it, or pass `mean=` and `variance=` when "
                     "creating it, before using it in fit, evaluate or predict.");
  ctx.backend->normalize(x.data<float>(), y.data<float>(), x.numel() / features_, features_,
                         params_[0].data<float>(), params_[1].data<float>(), invert_);
}

void Normalization::backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor* dx,
                             std::vector<Tensor>&, const StepContext& ctx) {
  if (dx)
    ctx.backend->normalize(dy.data<float>(), dx->data<float>(), dy.numel() / features_, features_,
                           nullptr, params_[1].data<float>(), invert_);
}

}  // namespace ff
