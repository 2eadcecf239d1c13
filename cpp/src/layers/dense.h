// Dense: y = activation(x W + b) over the last axis (Keras's Dense; inputs of rank > 2 are
// applied row by row over the leading dimensions). Bias and activation are fused in one pass.
#pragma once
#include "layers/activations.h"
#include "layers/layer.h"

namespace ff {

class Dense final : public Layer {
 public:
  bool supports_half_io() const override { return true; }
  bool scratch_follows_io() const override { return true; }
  Dense(std::string name, uint64_t seed, int64_t units, const std::string& activation,
        bool use_bias, std::string kernel_initializer, std::string bias_initializer);

  int64_t units() const { return units_; }
  const ActivationSpec& activation() const { return activation_; }
  bool float32_output() const override { return activation_.kind == Activation::Softmax; }
  bool use_bias() const { return use_bias_; }

  std::vector<ParamSpec> param_specs() const override;
  std::vector<Shape> scratch_shapes(int64_t batch) const override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;

 protected:
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  void product(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
               const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
               int64_t ldc) const;

  int64_t units_;
  ActivationSpec activation_;
  bool use_bias_;
  std::string kernel_initializer_, bias_initializer_;
  int64_t fan_in_ = 0;
};

}  // namespace ff
