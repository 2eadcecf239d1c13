// Bindings for the activation layers Softmax, ReLU, LeakyReLU, ELU and PReLU (the Python
// wrappers in forgeflow/layers/activations.py validate the arguments with Keras's messages).
#include <limits>

#include "bindings.h"
#include "layers/elu.h"
#include "layers/leaky_relu.h"
#include "layers/prelu.h"
#include "layers/relu.h"
#include "layers/softmax.h"

namespace ff::bindings {

void init_activation_layers(py::module_& m) {
  py::class_<Softmax, Layer, std::shared_ptr<Softmax>>(m, "Softmax")
      .def(py::init<std::string, uint64_t, int64_t>(), py::arg("name"), py::arg("seed"),
           py::arg("axis"))
      .def_property_readonly("axis", &Softmax::axis);
  py::class_<ReLU, Layer, std::shared_ptr<ReLU>>(m, "ReLU")
      .def(py::init([](std::string name, uint64_t seed, py::object max_value, float negative_slope,
                       float threshold) {
             const float max = max_value.is_none() ? std::numeric_limits<float>::infinity()
                                                   : max_value.cast<float>();
             return std::make_shared<ReLU>(std::move(name), seed, max, negative_slope, threshold);
           }),
           py::arg("name"), py::arg("seed"), py::arg("max_value"), py::arg("negative_slope"),
           py::arg("threshold"))
      .def_property_readonly("max_value", &ReLU::max_value)
      .def_property_readonly("negative_slope", &ReLU::negative_slope)
      .def_property_readonly("threshold", &ReLU::threshold);
  py::class_<LeakyReLU, Layer, std::shared_ptr<LeakyReLU>>(m, "LeakyReLU")
      .def(py::init<std::string, uint64_t, float>(), py::arg("name"), py::arg("seed"),
           py::arg("negative_slope"))
      .def_property_readonly("negative_slope", &LeakyReLU::negative_slope);
  py::class_<ELU, Layer, std::shared_ptr<ELU>>(m, "ELU")
      .def(py::init<std::string, uint64_t, float>(), py::arg("name"), py::arg("seed"),
           py::arg("alpha"))
      .def_property_readonly("alpha", &ELU::alpha);
  py::class_<PReLU, Layer, std::shared_ptr<PReLU>>(m, "PReLU")
      .def(py::init<std::string, uint64_t, std::string, std::vector<int64_t>>(), py::arg("name"),
           py::arg("seed"), py::arg("alpha_initializer"), py::arg("shared_axes"))
      .def_property_readonly("shared_axes", &PReLU::shared_axes);
}

}  // namespace ff::bindings
