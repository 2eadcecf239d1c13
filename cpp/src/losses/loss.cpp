// Loss base: the target-versus-output shape policy shared by all float-target losses.
#include "losses/loss.h"

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

}  // namespace ff
