// Shared helpers of the pybind11 bindings: NumPy <-> HostArray/Shape conversion and the
// per-area init functions that module.cpp calls.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>

#include "core/shape.h"
#include "model/dataset_feed.h"
#include "model/sequential.h"

namespace ff::bindings {

namespace py = pybind11;

// (None, 28, 28) <-> {-1, 28, 28}
py::tuple shape_to_py(const Shape& s);
Shape shape_from_py(const py::handle& seq);
// A C-contiguous numeric NumPy array (any native float, int, uint or bool dtype) viewed without
// copying; the model converts batches as it loads them. Anything else is a TypeError.
HostArray host_array(const py::array& a);

// Holds a model's (or its layer's) lock. Waits for it with the GIL released, since the thread
// inside the model's loop needs the GIL for its hook; the lock is recursive, so a hook calling
// back into the same model from the loop's thread goes straight through.
class ModelLock {
 public:
  explicit ModelLock(std::recursive_mutex& m) : lock_(m, std::try_to_lock) {
    if (!lock_.owns_lock()) {
      py::gil_scoped_release release;
      lock_.lock();
    }
  }
  // A layer's model lock; none when the layer is in no built model yet.
  explicit ModelLock(const std::shared_ptr<std::recursive_mutex>& m) {
    if (!m) return;
    lock_ = std::unique_lock<std::recursive_mutex>(*m, std::try_to_lock);
    if (!lock_.owns_lock()) {
      py::gil_scoped_release release;
      lock_.lock();
    }
  }

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};
// Tensor -> new NumPy float32 array (a copy).
py::array_t<float> tensor_to_numpy(const Tensor& t);
// Copies a NumPy float32 array into a tensor of exactly the same shape (ValueError otherwise).
void numpy_into_tensor(const py::array& a, Tensor& t, const std::string& what);

void init_core(py::module_& m);
// Runtime configuration: the CPU thread count (bind_config.cpp).
void init_config(py::module_& m);
void init_layers(py::module_& m);
void init_conv_layers(py::module_& m);
void init_preprocessing_layers(py::module_& m);
// Softmax, ReLU, LeakyReLU, ELU, PReLU (bind_activation_layers.cpp).
void init_activation_layers(py::module_& m);
// UpSampling2D, Cropping2D (bind_reshaping_layers.cpp).
void init_reshaping_layers(py::module_& m);
// MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D
// (bind_pooling1d_layers.cpp).
void init_pooling1d_layers(py::module_& m);
void init_losses(py::module_& m);
void init_optimizers(py::module_& m);
void init_metrics(py::module_& m);
void init_model(py::module_& m);
// Input pipeline: ff.data's Dataset (bind_data.cpp), CSV (bind_data_csv.cpp), images
// (bind_data_image.cpp). init_data registers the Dataset class the other two return.
void init_data(py::module_& m);
// The DatasetFeed behind a _core.data.Feed object (bind_data.cpp), for the model loops.
DatasetFeed& feed_of(py::handle feed);
// A pipeline component as a new NumPy array (a copy; strings as a str array), for every ff.data
// binding (bind_data.cpp).
py::object component_to_py(const data::Component& c);
// Calls module.function(message) in the main thread at its next chance (Py_AddPendingCall): how
// a pipeline thread without the GIL reports e.g. skipped rows or files as a Python warning.
void post_python_call(std::string module, std::string function, std::string message);
void init_data_csv(py::module_& m);
void init_data_image(py::module_& m);
// Lookup tables, token counting, CategoryEncoding/IndexLookup (bind_lookup.cpp; after init_data).
void init_lookup(py::module_& m);
// ff.ops: the op layers and the eager runner (bind_ops.cpp; after init_layers).
void init_ops(py::module_& m);
// ff.distribute's collectives and the Model's data-parallel methods (bind_distribute.cpp; after
// init_model).
void init_distribute(py::module_& m);

}  // namespace ff::bindings
