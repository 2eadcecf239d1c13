// RMSprop, Keras 3's form: v = rho v + (1 - rho) g^2 (centered: minus the squared mean
// gradient); inc = lr g / sqrt(v + eps); with momentum m = momentum m + inc; p -= m (or inc).
#include "optimizers/optimizer.h"

namespace ff {
namespace {

class Rmsprop final : public Optimizer {
 public:
  Rmsprop(const OptimizerOptions& o, const RmspropOptions& r) : Optimizer("RMSprop", o), r_(r) {}
  std::vector<std::string> slot_names() const override {
    std::vector<std::string> names{"velocity"};
    if (r_.centered) names.push_back("average_gradient");
    if (r_.momentum > 0) names.push_back("momentum");
    return names;
  }

 protected:
  void update(Backend& be, float* p, const float* g, int64_t n,
              const StepState* state) override {
    size_t next = 1;
    float* mean_grad = r_.centered ? slot(next++) : nullptr;
    float* mom = r_.momentum > 0 ? slot(next++) : nullptr;
    be.rmsprop_update(p, g, slot(0), mean_grad, mom, n, r_.rho, r_.momentum, r_.epsilon, state);
  }

 private:
  RmspropOptions r_;
};

}  // namespace

std::unique_ptr<Optimizer> make_rmsprop(const OptimizerOptions& o, const RmspropOptions& r) {
  return std::make_unique<Rmsprop>(o, r);
}

}  // namespace ff
