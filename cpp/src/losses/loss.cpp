// Loss base: the target-versus-output shape policy shared by all float-target losses.
#include "losses/loss.h"

#include <cstring>
#include <vector>

#include "core/errors.h"

namespace ff {

Shape Loss::target_shape_for(const Shape& pred, const Shape& target) const {
  if (target == pred) return target;
  // The only adaptation: (N,) targets for (N, 1) outputs are one column.
  if (target.size() == 1 && pred.size() == 2 && pred[1] == 1 && target[0] == pred[0])
    return pred;
  std::string msg = "Loss \"" + name() + "\": targets of shape " + shape_str(target) +
                    " do not match model outputs of shape " + shape_str(pred) +
                    ". Targets must have the outputs' shape; nothing is broadcast.";
  bool class_indices = pred.size() == 2 && pred[1] > 1 &&
                       (target.size() == 1 || (target.size() == 2 && target[1] == 1));
  if (class_indices && name() == "categorical_crossentropy")
    msg += " These look like integer class labels: use sparse_categorical_crossentropy, or "
           "one-hot encode them.";
  else if (class_indices)
    msg += " If these are class labels for " + std::to_string(pred[1]) +
           " outputs, use sparse_categorical_crossentropy.";
  throw ValueError(msg);
}

double evaluate_loss(Backend& be, Loss& loss, const Tensor& pred, const Tensor& target) {
  Device& device = be.device();
  Tensor block = Tensor::zeros(device, {static_cast<int64_t>(step_state_bytes(1))}, DType::UInt8);
  StepState host{};
  host.num_sums = 1;
  device.copy_from_host(block.raw(), &host, sizeof host);
  auto* state = static_cast<StepState*>(block.raw());
  be.step_begin(state, false);
  loss.compute(be, pred, target, step_sums(state, 1), nullptr, 1.0f, state, 0);
  be.step_end(state, false, 0.0);
  std::vector<char> read(step_state_bytes(1));
  device.copy_to_host(read.data(), state, read.size());
  StepState header;
  std::memcpy(&header, read.data(), sizeof header);
  if (header.error == static_cast<int32_t>(StepError::BadLabel))
    throw ValueError("Received a label value of " +
                     std::to_string(static_cast<int64_t>(header.error_value)) + " at index " +
                     std::to_string(header.error_index) + ", which is outside the valid range [0, " +
                     std::to_string(pred.shape().back()) + ") for loss \"" + loss.name() + "\"");
  double sum;
  std::memcpy(&sum, read.data() + sizeof(StepState), sizeof sum);
  // Keras's sum_over_batch_size: the mean over every loss row, (N, T, K) -> N*T rows.
  const int64_t rows = pred.numel() / pred.shape().back();
  return rows > 0 ? sum / static_cast<double>(rows) : 0.0;
}

}  // namespace ff
