// MeanAbsoluteError loss: mean over the last axis, then over the batch, as Keras computes it.
#include "losses/loss.h"

namespace ff {
namespace {

class MeanAbsoluteError final : public Loss {
 public:
  MeanAbsoluteError() : Loss("mean_absolute_error", false) {}
  void compute(Backend& be, const Tensor& pred, const Tensor& target, double* loss_sum,
               Tensor* grad, float grad_scale, StepState*, int32_t) override {
    const int64_t cols = pred.shape().back();
    be.loss_mae(pred.data<float>(), target.data<float>(), pred.numel() / cols, cols, loss_sum,
                    grad ? grad->data<float>() : nullptr, grad_scale);
  }
};

}  // namespace

std::unique_ptr<Loss> make_mean_absolute_error() { return std::make_unique<MeanAbsoluteError>(); }

}  // namespace ff
