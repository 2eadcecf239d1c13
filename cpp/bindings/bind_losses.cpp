// Bindings for losses: one factory per loss, objects shared with the model that compiles them.
#include "bindings.h"

namespace ff::bindings {

void init_losses(py::module_& m) {
  py::class_<Loss, std::shared_ptr<Loss>>(m, "Loss")
      .def_property_readonly("name", &Loss::name)
      .def_property_readonly("from_logits", &Loss::from_logits)
      .def_property_readonly("sparse", &Loss::sparse)
      .def("__call__", [](Loss& loss, const py::array& y_true, const py::array& y_pred) {
        // Stand-alone evaluation of the loss on arrays (mean over the batch), as keras losses do.
        HostArray t = host_array(y_true), p = host_array(y_pred);
        if (p.dtype != DType::Float32) throw TypeError("y_pred must be float32");
        Shape target_shape = loss.target_shape_for(p.shape, t.shape);
        Backend& be = cpu_backend();
        Tensor pred = Tensor::empty(be, p.shape);
        be.copy_from_host(pred.raw(), p.data, pred.nbytes());
        Tensor target = Tensor::empty(be, target_shape, t.dtype);
        be.copy_from_host(target.raw(), t.data, target.nbytes());
        double sum = 0.0;
        int64_t bad = loss.compute(be, pred, target, &sum, nullptr, 1.0f);
        if (bad >= 0)
          throw ValueError("label at index " + std::to_string(bad) + " is outside [0, " +
                           std::to_string(p.shape.back()) + ")");
        // Keras's sum_over_batch_size: the mean over every loss row, (N, T, K) -> N*T rows.
        const int64_t rows = pred.numel() / p.shape.back();
        return rows > 0 ? sum / static_cast<double>(rows) : 0.0;
      });
  m.def("make_loss", [](const std::string& name, bool from_logits, float delta) -> std::shared_ptr<Loss> {
    if (name == "mean_squared_error") return make_mean_squared_error();
    if (name == "mean_absolute_error") return make_mean_absolute_error();
    if (name == "huber") return make_huber(delta);
    if (name == "binary_crossentropy") return make_binary_crossentropy(from_logits);
    if (name == "categorical_crossentropy") return make_categorical_crossentropy(from_logits);
    if (name == "sparse_categorical_crossentropy") return make_sparse_categorical_crossentropy(from_logits);
    throw ValueError("Unknown loss: '" + name + "'");
  }, py::arg("name"), py::arg("from_logits") = false, py::arg("delta") = 1.0f);
}

}  // namespace ff::bindings
