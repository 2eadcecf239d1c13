// Dense layer: forward through the backend's dense_forward (GEMM, bias and activation in one
// step; under mixed_bfloat16 the bfloat16 product, then bias_activation); backward activation
// gradient, then dW = x^T dz, db = column sums of dz, dx = dz W^T (skipped for the first layer).
// On 16-bit buffers (Backend::half_storage) the same steps through the *_half functions.
#include "layers/dense.h"

#include "core/errors.h"
#include "layers/initializers.h"

namespace ff {

Dense::Dense(std::string name, uint64_t seed, int64_t units, const std::string& activation,
             bool use_bias, std::string kernel_initializer, std::string bias_initializer)
    : Layer(std::move(name), "Dense", seed),
      units_(units),
      activation_(parse_activation(activation)),
      use_bias_(use_bias),
      kernel_initializer_(std::move(kernel_initializer)),
      bias_initializer_(std::move(bias_initializer)) {
  if (units <= 0)
    throw ValueError("Received an invalid value for `units`, expected a positive integer. "
                     "Received: units=" + std::to_string(units));
  check_initializer_name(kernel_initializer_);
  check_initializer_name(bias_initializer_);
}

Shape Dense::compute_output_shape(const Shape& in) {
  if (in.size() < 2) incompatible("min_ndim=2", in);
  if (in.back() <= 0)
    incompatible("the last axis to be known, as the number of input features", in);
  fan_in_ = in.back();
  Shape out = in;
  out.back() = units_;
  return out;
}

std::vector<ParamSpec> Dense::param_specs() const {
  std::vector<ParamSpec> specs{{"kernel", {fan_in_, units_}, kernel_initializer_}};
  if (use_bias_) specs.push_back({"bias", {units_}, bias_initializer_});
  return specs;
}

std::vector<Shape> Dense::scratch_shapes(int64_t batch) const {
  // [0]: dz, the gradient before the activation; [1]: pre-activation, when its gradient needs it.
  std::vector<Shape> shapes{with_batch(output_shape(), batch)};
  if (activation_needs_input(activation_.kind)) shapes.push_back(with_batch(output_shape(), batch));
  return shapes;
}

// c = op(a) op(b): the backend's bfloat16 product when the layer computes in bfloat16.
void Dense::product(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                    int64_t ldc) const {
  if (compute_dtype() == DType::BFloat16)
    be.gemm_bf16(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
  else
    be.gemm(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

void Dense::forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                    const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const int64_t rows = x.numel() / fan_in_;
  if (is_half_precision(x.dtype())) {  // 16-bit buffers: tensor cores on a GPU
    const DType h = x.dtype();
    void* preact = activation_needs_input(activation_.kind)
                       ? scratch[1].reinterpret(h, y.shape()).raw()
                       : nullptr;
    be.dense_forward_half(x.raw(), params_[0].raw(), use_bias_ ? params_[1].raw() : nullptr,
                          rows, fan_in_, units_, activation_.kind, activation_.alpha, y.raw(),
                          preact, h);
    return;
  }
  const float* bias = use_bias_ ? params_[1].data<float>() : nullptr;
  float* preact = activation_needs_input(activation_.kind) ? scratch[1].data<float>() : nullptr;
  if (compute_dtype() != DType::BFloat16) {  // one fused step (cuBLASLt epilogues on a GPU)
    be.dense_forward(x.data<float>(), params_[0].data<float>(), bias, rows, fan_in_, units_,
                     activation_.kind, activation_.alpha, y.data<float>(), preact);
    return;
  }
  product(be, false, false, rows, units_, fan_in_, x.data<float>(), fan_in_,
          params_[0].data<float>(), units_, y.data<float>(), units_);
  if (use_bias_ || activation_.kind != Activation::Linear)
    be.bias_activation(y.data<float>(), bias, rows, units_, activation_.kind, activation_.alpha,
                       preact);
}

void Dense::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                     std::vector<Tensor>& scratch, const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const int64_t rows = x.numel() / fan_in_;
  if (is_half_precision(x.dtype())) {
    const DType h = x.dtype();
    const void* dz = dy.raw();
    if (activation_.kind != Activation::Linear) {
      const void* pre = activation_needs_input(activation_.kind)
                            ? scratch[1].reinterpret(h, y.shape()).raw()
                            : nullptr;
      void* buf = scratch[0].reinterpret(h, y.shape()).raw();
      be.activation_backward_half(activation_.kind, activation_.alpha, pre, y.raw(), dy.raw(),
                                  buf, rows, units_, h);
      dz = buf;
    }
    be.gemm_half(true, false, fan_in_, units_, rows, x.raw(), fan_in_, dz, units_,
                 grads_[0].raw(), units_, DType::Float32, h);
    if (use_bias_) be.column_sum_half(dz, rows, units_, grads_[1].data<float>(), h);
    if (dx)
      be.gemm_half(false, true, rows, fan_in_, units_, dz, units_, params_[0].raw(), units_,
                   dx->raw(), fan_in_, h, h);
    return;
  }
  const float* dz = dy.data<float>();
  if (activation_.kind != Activation::Linear) {
    const float* pre = activation_needs_input(activation_.kind) ? scratch[1].data<float>() : nullptr;
    float* buf = scratch[0].data<float>();
    be.activation_backward(activation_.kind, activation_.alpha, pre, y.data<float>(),
                           dy.data<float>(), buf, rows, units_);
    dz = buf;
  }
  product(be, true, false, fan_in_, units_, rows, x.data<float>(), fan_in_, dz, units_,
          grads_[0].data<float>(), units_);
  if (use_bias_) be.column_sum(dz, rows, units_, grads_[1].data<float>());
  if (dx)
    product(be, false, true, rows, fan_in_, units_, dz, units_, params_[0].data<float>(), units_,
            dx->data<float>(), fan_in_);
}

}  // namespace ff
