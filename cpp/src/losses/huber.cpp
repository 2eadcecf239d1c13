// Huber loss: 0.5 e^2 where |e| <= delta, delta (|e| - 0.5 delta) beyond; mean over the last axis.
#include "core/errors.h"
#include "losses/loss.h"

namespace ff {
namespace {

class Huber final : public Loss {
 public:
  explicit Huber(float delta) : Loss("huber", false), delta_(delta) {
    if (!(delta > 0.0f))
      throw ValueError("Huber `delta` must be positive; received delta=" + std::to_string(delta));
  }
  void compute(Backend& be, const Tensor& pred, const Tensor& target, double* loss_sum,
               Tensor* grad, float grad_scale, StepState*, int32_t) override {
    const int64_t cols = pred.shape().back();
    be.loss_huber(pred.data<float>(), target.data<float>(), pred.numel() / cols, cols, delta_,
                  loss_sum, grad ? grad->data<float>() : nullptr, grad_scale);
  }

 private:
  float delta_;
};

}  // namespace

std::unique_ptr<Loss> make_huber(float delta) { return std::make_unique<Huber>(delta); }

}  // namespace ff
