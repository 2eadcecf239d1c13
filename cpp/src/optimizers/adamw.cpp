// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter); Keras's default decay 0.004 is
// set by the Python constructor, the decay itself is applied by the Optimizer base.
#include "optimizers/optimizer.h"

namespace ff {

std::unique_ptr<Optimizer> make_adamw(const OptimizerOptions& o, const AdamOptions& a) {
  return make_adam_named("AdamW", o, a);
}

}  // namespace ff
