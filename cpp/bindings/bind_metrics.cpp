// Bindings for metrics: factories for the accuracy family and the regression metrics.
#include "bindings.h"

namespace ff::bindings {

void init_metrics(py::module_& m) {
  py::class_<Metric, std::shared_ptr<Metric>>(m, "Metric")
      .def_property_readonly("name", &Metric::name)
      .def_property_readonly("sparse", &Metric::sparse);
  m.def("make_metric", [](const std::string& kind, const std::string& name,
                          float threshold) -> std::shared_ptr<Metric> {
    if (kind == "binary_accuracy") return make_binary_accuracy(name, threshold);
    if (kind == "categorical_accuracy") return make_categorical_accuracy(name);
    if (kind == "sparse_categorical_accuracy") return make_sparse_categorical_accuracy(name);
    if (kind == "mean_squared_error") return make_mean_error(name, 2);
    if (kind == "mean_absolute_error") return make_mean_error(name, 1);
    throw ValueError("Unknown metric: '" + kind + "'");
  }, py::arg("kind"), py::arg("name"), py::arg("threshold") = 0.5f);
}

}  // namespace ff::bindings
