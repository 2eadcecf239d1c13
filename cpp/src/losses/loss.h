// Loss: compares model outputs with targets, adds the summed per-sample loss to an accumulator
// and writes dL/d(outputs) for the batch mean (Keras's "sum_over_batch_size" reduction).
// Targets are checked against outputs before anything is computed: nothing broadcasts, and a
// (N,) target against (N, 1) outputs is taken as one column, never as an (N, N) matrix.
#pragma once
#include <memory>
#include <string>

#include "backend/backend.h"
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

  // Enqueues: adds the sum over the batch of per-sample losses to *loss_sum (backend memory);
  // writes the gradient of the batch loss times grad_scale into grad unless it is null. A sparse
  // loss records a label outside [0, classes) in `state` as a BadLabel error of `output`.
  virtual void compute(Backend& be, const Tensor& pred, const Tensor& target, double* loss_sum,
                       Tensor* grad, float grad_scale, StepState* state, int32_t output) = 0;

 private:
  std::string name_;
  bool from_logits_;
};

// The loss of `pred` against `target` outside a model (ff.losses objects called on arrays): the
// mean over loss rows, as Keras's sum_over_batch_size; a bad label raises ValueError.
double evaluate_loss(Backend& be, Loss& loss, const Tensor& pred, const Tensor& target);

// Factories, one per loss file. Names are Keras's canonical names.
std::unique_ptr<Loss> make_mean_squared_error();
std::unique_ptr<Loss> make_mean_absolute_error();
std::unique_ptr<Loss> make_huber(float delta);
std::unique_ptr<Loss> make_binary_crossentropy(bool from_logits);
std::unique_ptr<Loss> make_categorical_crossentropy(bool from_logits);
std::unique_ptr<Loss> make_sparse_categorical_crossentropy(bool from_logits);

}  // namespace ff
