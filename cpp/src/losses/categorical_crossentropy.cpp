// Categorical cross-entropy on one-hot (or soft) targets: -sum t log softmax(x) from logits, or
// Keras's normalise-then-clip form on probabilities.
#include "losses/loss.h"

namespace ff {
namespace {

class CategoricalCrossentropy final : public Loss {
 public:
  explicit CategoricalCrossentropy(bool from_logits)
      : Loss("categorical_crossentropy", from_logits) {}
  void compute(Backend& be, const Tensor& pred, const Tensor& target, double* loss_sum,
               Tensor* grad, float grad_scale, StepState*, int32_t) override {
    const int64_t cols = pred.shape().back();
    be.loss_categorical_crossentropy(pred.data<float>(), target.data<float>(),
                                     pred.numel() / cols, cols, from_logits(), loss_sum,
                                     grad ? grad->data<float>() : nullptr, grad_scale);
  }
};

}  // namespace

std::unique_ptr<Loss> make_categorical_crossentropy(bool from_logits) {
  return std::make_unique<CategoricalCrossentropy>(from_logits);
}

}  // namespace ff
