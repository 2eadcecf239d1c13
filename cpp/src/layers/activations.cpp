// Activation name parsing (see activations.h).
#include "layers/activations.h"

#include "core/errors.h"

namespace ff {

ActivationSpec parse_activation(const std::string& name) {
  ActivationSpec s;
  s.name = name;
  if (name.empty() || name == "linear" || name == "None") s = {Activation::Linear, 0.0f, "linear"};
  else if (name == "relu") s.kind = Activation::Relu;
  else if (name == "sigmoid") s.kind = Activation::Sigmoid;
  else if (name == "tanh") s.kind = Activation::Tanh;
  else if (name == "softmax") s.kind = Activation::Softmax;
  else if (name == "leaky_relu") s = {Activation::LeakyRelu, 0.2f, name};
  else if (name == "elu") s = {Activation::Elu, 1.0f, name};
  else if (name == "gelu") s.kind = Activation::Gelu;
  else if (name == "swish" || name == "silu") s.kind = Activation::Swish;
  else
    throw ValueError("Unknown activation function: '" + name +
                     "'. Expected one of: linear, relu, sigmoid, tanh, softmax, leaky_relu, elu, "
                     "gelu, swish, silu");
  return s;
}

bool activation_needs_input(Activation a) { return a == Activation::Gelu || a == Activation::Swish; }

}  // namespace ff
