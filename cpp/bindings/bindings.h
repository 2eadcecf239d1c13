// Shared helpers of the pybind11 bindings: NumPy <-> HostArray/Shape conversion and the
// per-area init functions that module.cpp calls.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/shape.h"
#include "model/dataset_feed.h"
#include "model/sequential.h"

namespace ff::bindings {

namespace py = pybind11;

// (None, 28, 28) <-> {-1, 28, 28}
py::tuple shape_to_py(const Shape& s);
Shape shape_from_py(const py::handle& seq);
// A C-contiguous float32/int32/int64 NumPy array viewed without copying (the Python layer
// converts and validates dtypes before calling; anything else here is a TypeError).
HostArray host_array(const py::array& a);
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

}  // namespace ff::bindings
