// Loss: compares model outputs with targets, adds the summed per-sample loss to an accumulator
// and writes dL/d(outputs) for the batch mean (Keras's "sum_over_batch_size" reduction).
// Targets are checked against outputs before anything is computed: nothing broadcasts, and a
// (N,) target against (N, 1) outputs is taken as one column, never as an (N, N) matrix.
#pragma once
#include <memory>
#include <string>

#include "core/tensor.h"

namespace ff {

class Loss {
 public:
  Loss(std::string name, bool from_logits) : name_(std::move(name)), from_logits_(from_logits) {}
  virtual ~Loss() = default;

  const std::string& name() const { return name_; }
  bool from_logits() const { return from_logits_; }
  // True for losses taking integer class indices (dtype int64) instead of float targets.
  virtual bool sparse() const { return false; }

  // The shape the targets take for outputs of `pred` (both with the batch dimension), e.g.
  // (N,) -> (N, 1); raises ValueError naming the loss, both shapes and the likely fix.
  virtual Shape target_shape_for(const Shape& pred, const Shape& target) const;

  // Adds the sum over the batch of per-sample losses to *loss_sum; writes the gradient of the
  // batch loss times grad_scale into grad unless it is null. Returns -1, or for sparse losses
  // the first row whose label is outside [0, classes) (nothing is written then).
  virtual int64_t compute(Backend& be, const Tensor& pred, const Tensor& target, double* loss_sum,
                          Tensor* grad, float grad_scale) = 0;

 private:
  std::string name_;
  bool from_logits_;
};

// Factories, one per loss file. Names are Keras's canonical names.
std::unique_ptr<Loss> make_mean_squared_error();
std::unique_ptr<Loss> make_mean_absolute_error();
std::unique_ptr<Loss> make_huber(float delta);
std::unique_ptr<Loss> make_binary_crossentropy(bool from_logits);
std::unique_ptr<Loss> make_categorical_crossentropy(bool from_logits);
std::unique_ptr<Loss> make_sparse_categorical_crossentropy(bool from_logits);

}  // namespace ff
