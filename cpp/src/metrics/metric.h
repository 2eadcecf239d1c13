// Metric: adds a per-sample quantity, summed over the batch, to an accumulator; the model
// divides by the sample count for the epoch average the progress bar and History show.
#pragma once
#include <memory>
#include <string>

#include "backend/backend.h"
#include "core/tensor.h"

namespace ff {

class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  // The name shown in logs ("accuracy", "mse", ...): the string the user passed, as in Keras.
  const std::string& name() const { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }
  // True when targets are integer class indices (shaped like the sparse loss's targets).
  virtual bool sparse() const { return false; }
  virtual void update(Backend& be, const Tensor& pred, const Tensor& target, double* sum) = 0;

 private:
  std::string name_;
};

// Keras's accuracy family (accuracy.cpp); threshold for binary: 0.5 on probabilities, 0 on logits.
std::unique_ptr<Metric> make_binary_accuracy(std::string name, float threshold);
std::unique_ptr<Metric> make_categorical_accuracy(std::string name);
std::unique_ptr<Metric> make_sparse_categorical_accuracy(std::string name);
// Regression metrics (mean_error.cpp): power 2 = mean squared error, 1 = mean absolute error.
std::unique_ptr<Metric> make_mean_error(std::string name, int power);

}  // namespace ff
