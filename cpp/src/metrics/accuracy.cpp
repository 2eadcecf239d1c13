// The accuracy metrics Keras resolves "accuracy" to: binary (thresholded), categorical
// (argmax of one-hot targets) and sparse categorical (argmax against class indices).
#include "metrics/metric.h"

namespace ff {
namespace {

class BinaryAccuracy final : public Metric {
 public:
  BinaryAccuracy(std::string name, float threshold) : Metric(std::move(name)), threshold_(threshold) {}
  void update(Backend& be, const Tensor& pred, const Tensor& target, double* sum) override {
    const int64_t cols = pred.shape().back();
    be.metric_binary_accuracy(pred.data<float>(), target.data<float>(), pred.numel() / cols, cols,
                              threshold_, sum);
  }

 private:
  float threshold_;
};

class CategoricalAccuracy final : public Metric {
 public:
  using Metric::Metric;
  void update(Backend& be, const Tensor& pred, const Tensor& target, double* sum) override {
    const int64_t cols = pred.shape().back();
    be.metric_categorical_accuracy(pred.data<float>(), target.data<float>(), pred.numel() / cols,
                                   cols, sum);
  }
};

class SparseCategoricalAccuracy final : public Metric {
 public:
  using Metric::Metric;
  bool sparse() const override { return true; }
  void update(Backend& be, const Tensor& pred, const Tensor& target, double* sum) override {
    const int64_t cols = pred.shape().back();
    be.metric_sparse_categorical_accuracy(pred.data<float>(), target.data<int64_t>(),
                                          pred.numel() / cols, cols, sum);
  }
};

}  // namespace

std::unique_ptr<Metric> make_binary_accuracy(std::string name, float threshold) {
  return std::make_unique<BinaryAccuracy>(std::move(name), threshold);
}
std::unique_ptr<Metric> make_categorical_accuracy(std::string name) {
  return std::make_unique<CategoricalAccuracy>(std::move(name));
}
std::unique_ptr<Metric> make_sparse_categorical_accuracy(std::string name) {
  return std::make_unique<SparseCategoricalAccuracy>(std::move(name));
}

}  // namespace ff
