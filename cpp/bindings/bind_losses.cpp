// Bindings for losses: one factory per loss, objects shared with the model that compiles them.
#include "backend/registry.h"
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
        Backend& be = default_backend();
        Tensor pred = Tensor::empty(be.device(), p.shape);
        be.device().copy_from_host(pred.raw(), p.data, pred.nbytes());
        Tensor target = Tensor::empty(be.device(), target_shape, t.dtype);
        be.device().copy_from_host(target.raw(), t.data, target.nbytes());
        return evaluate_loss(be, loss, pred, target);
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
