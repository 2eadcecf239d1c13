// SGD with optional momentum and Nesterov momentum, Keras 3's formulation:
// m = momentum * m - lr * g; p += m (or p += momentum * m - lr * g with nesterov).
#include "core/errors.h"
#include "optimizers/optimizer.h"

namespace ff {
namespace {

class Sgd final : public Optimizer {
 public:
  Sgd(const OptimizerOptions& o, const SgdOptions& s) : Optimizer("SGD", o), s_(s) {
    if (s.momentum < 0 || s.momentum > 1)
      throw ValueError("`momentum` must be a float between [0, 1]; received momentum=" +
                       std::to_string(s.momentum));
  }
  std::vector<std::string> slot_names() const override {
    if (s_.momentum > 0) return {"momentum"};
    return {};
  }

 protected:
  void update(Backend& be, float* p, const float* g, int64_t n,
              const StepState* state) override {
    be.sgd_update(p, g, s_.momentum > 0 ? slot(0) : nullptr, n, s_.momentum, s_.nesterov, state);
  }

 private:
  SgdOptions s_;
};

}  // namespace

std::unique_ptr<Optimizer> make_sgd(const OptimizerOptions& o, const SgdOptions& s) {
  return std::make_unique<Sgd>(o, s);
}

}  // namespace ff
