// Adam (Kingma & Ba) in Keras 3's form: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
// p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps); amsgrad keeps max(v).
// AdamW is the same update with decoupled weight decay (default 0.004) applied by the base.
#include <cmath>

#include "optimizers/optimizer.h"

namespace ff {

namespace {

class Adam final : public Optimizer {
 public:
  Adam(std::string name, const OptimizerOptions& o, const AdamOptions& a)
      : Optimizer(std::move(name), o), a_(a) {}
  std::vector<std::string> slot_names() const override {
    if (a_.amsgrad) return {"momentum", "velocity", "velocity_hat"};
    return {"momentum", "velocity"};
  }

 protected:
  void update(Backend& be, float* p, const float* g, int64_t n,
              const StepState* state) override {
    be.adam_update(p, g, slot(0), slot(1), a_.amsgrad ? slot(2) : nullptr, n, a_.beta_1,
                   a_.beta_2, a_.epsilon, state);
  }
  std::pair<float, float> betas() const override { return {a_.beta_1, a_.beta_2}; }

 private:
  AdamOptions a_;
};

}  // namespace

std::unique_ptr<Optimizer> make_adam_named(const char* name, const OptimizerOptions& o,
                                           const AdamOptions& a) {
  return std::make_unique<Adam>(name, o, a);
}

std::unique_ptr<Optimizer> make_adam(const OptimizerOptions& o, const AdamOptions& a) {
  return make_adam_named("Adam", o, a);
}

}  // namespace ff
