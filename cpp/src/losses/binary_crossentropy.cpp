// Binary cross-entropy, on probabilities (clipped to [1e-7, 1 - 1e-7] as Keras does) or on
// logits (the stable max(x,0) - x t + log(1 + e^-|x|) form); mean over the last axis.
#include "losses/loss.h"

namespace ff {
namespace {

class BinaryCrossentropy final : public Loss {
 public:
  explicit BinaryCrossentropy(bool from_logits) : Loss("binary_crossentropy", from_logits) {}
  void compute(Backend& be, const Tensor& pred, const Tensor& target, double* loss_sum,
               Tensor* grad, float grad_scale, StepState*, int32_t) override {
    const int64_t cols = pred.shape().back();
    be.loss_binary_crossentropy(pred.data<float>(), target.data<float>(), pred.numel() / cols,
                                cols, from_logits(), loss_sum,
                                grad ? grad->data<float>() : nullptr, grad_scale);
  }
};

}  // namespace

std::unique_ptr<Loss> make_binary_crossentropy(bool from_logits) {
  return std::make_unique<BinaryCrossentropy>(from_logits);
}

}  // namespace ff
