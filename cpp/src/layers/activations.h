// Activation names as Keras spells them ("relu", "silu", ...) mapped to the backend enum.
#pragma once
#include <string>

#include "backend/backend.h"

namespace ff {

struct ActivationSpec {
  Activation kind = Activation::Linear;
  float alpha = 0.0f;  // negative slope of leaky_relu (Keras 3: 0.2), alpha of elu (1.0)
  std::string name = "linear";
};

// Parses a Keras activation name; raises ValueError listing the known names otherwise.
ActivationSpec parse_activation(const std::string& name);
// True when the gradient needs the activation's input, not only its output.
bool activation_needs_input(Activation a);

}  // namespace ff
