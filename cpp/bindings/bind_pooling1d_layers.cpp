// Bindings for the 1-D pooling layers (the Python wrappers in forgeflow/layers/pooling1d.py
// validate and normalise the arguments first).
#include "bindings.h"
#include "layers/average_pooling1d.h"
#include "layers/global_average_pooling1d.h"
#include "layers/global_max_pooling1d.h"
#include "layers/max_pooling1d.h"

namespace ff::bindings {

void init_pooling1d_layers(py::module_& m) {
  py::class_<Pooling1D, Layer, std::shared_ptr<Pooling1D>>(m, "Pooling1D")
      .def_property_readonly("pool_size", &Pooling1D::pool_size)
      .def_property_readonly("strides", &Pooling1D::strides)
      .def_property_readonly("padding", [](const Pooling1D& p) { return padding_name(p.padding()); });
  py::class_<MaxPooling1D, Pooling1D, std::shared_ptr<MaxPooling1D>>(m, "MaxPooling1D")
      .def(py::init<std::string, uint64_t, int64_t, int64_t, const std::string&>(),
           py::arg("name"), py::arg("seed"), py::arg("pool_size"), py::arg("strides"),
           py::arg("padding"));
  py::class_<AveragePooling1D, Pooling1D, std::shared_ptr<AveragePooling1D>>(m, "AveragePooling1D")
      .def(py::init<std::string, uint64_t, int64_t, int64_t, const std::string&>(),
           py::arg("name"), py::arg("seed"), py::arg("pool_size"), py::arg("strides"),
           py::arg("padding"));
  py::class_<GlobalPooling1D, Layer, std::shared_ptr<GlobalPooling1D>>(m, "GlobalPooling1D")
      .def_property_readonly("keepdims", &GlobalPooling1D::keepdims);
  py::class_<GlobalAveragePooling1D, GlobalPooling1D, std::shared_ptr<GlobalAveragePooling1D>>(
      m, "GlobalAveragePooling1D")
      .def(py::init<std::string, uint64_t, bool>(), py::arg("name"), py::arg("seed"),
           py::arg("keepdims"));
  py::class_<GlobalMaxPooling1D, GlobalPooling1D, std::shared_ptr<GlobalMaxPooling1D>>(
      m, "GlobalMaxPooling1D")
      .def(py::init<std::string, uint64_t, bool>(), py::arg("name"), py::arg("seed"),
           py::arg("keepdims"));
}

}  // namespace ff::bindings
