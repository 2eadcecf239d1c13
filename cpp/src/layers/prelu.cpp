// PReLU layer: shared-axes checks, alpha's Keras shape, the broadcast geometry (neighbouring
// axes alike in sharing merged), and the prelu kernels.
#include "layers/prelu.h"

#include <algorithm>

#include "core/errors.h"
#include "layers/conv_utils.h"
#include "layers/initializers.h"

namespace ff {

PReLU::PReLU(std::string name, uint64_t seed, std::string alpha_initializer,
             std::vector<int64_t> shared_axes)
    : Layer(std::move(name), "PReLU", seed),
      alpha_initializer_(std::move(alpha_initializer)),
      shared_axes_(std::move(shared_axes)) {
  check_initializer_name(alpha_initializer_);
  for (int64_t a : shared_axes_)
    if (a < 1)
      throw ValueError("PReLU: shared_axes are input axes from 1 (the batch axis 0 is never "
                       "shared; negative axes are not accepted); received shared_axes=" +
                       tuple_str(shared_axes_));
}

Shape PReLU::compute_output_shape(const Shape& in) {
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank < 2) incompatible("ndim>=2 (batch, features...)", in);
  for (int64_t i = 1; i < rank; ++i)
    if (in[i] <= 0) incompatible("every axis but the batch axis known", in);
  for (int64_t a : shared_axes_)
    if (a >= rank)
      throw ValueError("Layer \"" + name() + "\" (PReLU): shared_axes=" + tuple_str(shared_axes_) +
                       " names axis " + std::to_string(a) + ", but the input shape=" +
                       shape_str(in) + " has axes 1.." + std::to_string(rank - 1));
  alpha_shape_.assign(in.begin() + 1, in.end());
  for (int64_t a : shared_axes_) alpha_shape_[a - 1] = 1;
  // The geometry: the sample's axes, neighbours alike in sharing merged.
  geom_ = PReluGeometry{};
  geom_.sample = 1;
  geom_.alpha_size = 1;
  bool prev_shared = false;
  for (int64_t i = 1; i < rank; ++i) {
    const bool shared =
        std::find(shared_axes_.begin(), shared_axes_.end(), i) != shared_axes_.end();
    if (geom_.rank > 0 && shared == prev_shared) {
      geom_.dims[geom_.rank - 1] *= in[i];
    } else {
      if (geom_.rank == kPReluMaxAxes)
        throw ValueError("Layer \"" + name() + "\" (PReLU): input shape=" + shape_str(in) +
                         " with shared_axes=" + tuple_str(shared_axes_) + " alternates shared "
                         "and unshared axes more than " + std::to_string(kPReluMaxAxes) +
                         " times; that is not supported");
      geom_.dims[geom_.rank] = in[i];
      geom_.shared[geom_.rank] = shared;
      ++geom_.rank;
    }
    prev_shared = shared;
    geom_.sample *= in[i];
    if (!shared) geom_.alpha_size *= in[i];
  }
  return in;
}

std::vector<ParamSpec> PReLU::param_specs() const {
  return {{"alpha", alpha_shape_, alpha_initializer_}};
}

PReluGeometry PReLU::geometry(int64_t batch) const {
  PReluGeometry g = geom_;
  g.rows = batch;
  return g;
}

void PReLU::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&, const StepContext& ctx) {
  ctx.backend->prelu_forward(geometry(x.shape()[0]), x.data<float>(), params_[0].data<float>(),
                             y.data<float>());
}

void PReLU::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                     std::vector<Tensor>&, const StepContext& ctx) {
  ctx.backend->prelu_backward(geometry(x.shape()[0]), x.data<float>(), params_[0].data<float>(),
                              dy.data<float>(), dx ? dx->data<float>() : nullptr,
                              grads_[0].data<float>());
}

}  // namespace ff
