// Sparse categorical cross-entropy: integer class indices (N,) or (N, 1) against (N, K) outputs.
// A label outside [0, K) is recorded in the step state (the model reports it naming the sample),
// never turned into NaN.
#include "core/errors.h"
#include "losses/loss.h"

namespace ff {
namespace {

class SparseCategoricalCrossentropy final : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(bool from_logits)
      : Loss("sparse_categorical_crossentropy", from_logits) {}
  bool sparse() const override { return true; }

  Shape target_shape_for(const Shape& pred, const Shape& target) const override {
    const bool column = target.size() == 2 && target[1] == 1;
    if (pred.size() == 2 && (target.size() == 1 || column) && target[0] == pred[0])
      return {pred[0]};
    std::string msg = "Loss \"sparse_categorical_crossentropy\" expects integer class indices "
                      "of shape (N,) or (N, 1) for outputs of shape (N, classes); received "
                      "targets of shape " + shape_str(target) + " for outputs of shape " +
                      shape_str(pred) + ".";
    if (target == pred && pred.size() == 2)
      msg += " These look like one-hot labels: use categorical_crossentropy.";
    throw ValueError(msg);
  }

  void compute(Backend& be, const Tensor& pred, const Tensor& target, double* loss_sum,
               Tensor* grad, float grad_scale, StepState* state, int32_t output) override {
    const int64_t cols = pred.shape().back();
    be.loss_sparse_categorical_crossentropy(pred.data<float>(), target.data<int64_t>(),
                                            pred.numel() / cols, cols, from_logits(), loss_sum,
                                            grad ? grad->data<float>() : nullptr, grad_scale,
                                            state, output);
  }
};

}  // namespace

std::unique_ptr<Loss> make_sparse_categorical_crossentropy(bool from_logits) {
  return std::make_unique<SparseCategoricalCrossentropy>(from_logits);
}

}  // namespace ff
