// Bindings for the resizing layers UpSampling2D and Cropping2D (the Python wrappers in
// forgeflow/layers/reshaping.py validate and normalise the arguments first).
#include "bindings.h"
#include "layers/cropping2d.h"
#include "layers/up_sampling2d.h"

namespace ff::bindings {

void init_reshaping_layers(py::module_& m) {
  using V = std::vector<int64_t>;
  py::class_<UpSampling2D, Layer, std::shared_ptr<UpSampling2D>>(m, "UpSampling2D")
      .def(py::init<std::string, uint64_t, V, const std::string&>(), py::arg("name"),
           py::arg("seed"), py::arg("size"), py::arg("interpolation"))
      .def_property_readonly("size", &UpSampling2D::size)
      .def_property_readonly("interpolation", &UpSampling2D::interpolation);
  py::class_<Cropping2D, Layer, std::shared_ptr<Cropping2D>>(m, "Cropping2D")
      .def(py::init<std::string, uint64_t, V>(), py::arg("name"), py::arg("seed"),
           py::arg("cropping"))
      .def_property_readonly("cropping", &Cropping2D::cropping);
}

}  // namespace ff::bindings
