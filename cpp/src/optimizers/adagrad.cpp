// Adagrad, Keras 3's form: acc += g^2 (acc starts at initial_accumulator_value = 0.1);
// p -= lr g / sqrt(acc + eps).
#include "optimizers/optimizer.h"

namespace ff {
namespace {

class Adagrad final : public Optimizer {
 public:
  Adagrad(const OptimizerOptions& o, const AdagradOptions& a) : Optimizer("Adagrad", o), a_(a) {}
  std::vector<std::string> slot_names() const override { return {"accumulator"}; }

 protected:
  float slot_initial_value(size_t) const override { return a_.initial_accumulator_value; }
  void update(Backend& be, float* p, const float* g, int64_t n,
              const StepState* state) override {
    be.adagrad_update(p, g, slot(0), n, a_.epsilon, state);
  }

 private:
  AdagradOptions a_;
};

}  // namespace

std::unique_ptr<Optimizer> make_adagrad(const OptimizerOptions& o, const AdagradOptions& a) {
  return std::make_unique<Adagrad>(o, a);
}

}  // namespace ff
