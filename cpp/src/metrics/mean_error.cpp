// Regression metrics: mean squared error (power 2) and mean absolute error (power 1), averaged
// over the last axis per sample.
#include "metrics/metric.h"

namespace ff {
namespace {

class MeanError final : public Metric {
 public:
  MeanError(std::string name, int power) : Metric(std::move(name)), power_(power) {}
  void update(Backend& be, const Tensor& pred, const Tensor& target, double* sum) override {
    const int64_t cols = pred.shape().back();
    be.metric_mean_error(pred.data<float>(), target.data<float>(), pred.numel() / cols, cols,
                         power_, sum);
  }

 private:
  int power_;
};

}  // namespace

std::unique_ptr<Metric> make_mean_error(std::string name, int power) {
  return std::make_unique<MeanError>(std::move(name), power);
}

}  // namespace ff
