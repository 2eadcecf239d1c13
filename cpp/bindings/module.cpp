// The forgeflow._core extension module: error translation and one init_<area> call per area.
#include <cstring>

#include "bindings.h"
#include "core/errors.h"

namespace ff::bindings {

py::tuple shape_to_py(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i)
    t[i] = s[i] < 0 ? py::object(py::none()) : py::object(py::int_(s[i]));
  return t;
}

Shape shape_from_py(const py::handle& seq) {
  Shape s;
  for (auto item : seq) s.push_back(item.is_none() ? kNone : item.cast<int64_t>());
  return s;
}

HostArray host_array(const py::array& a) {
  if (!(a.flags() & py::array::c_style))
    throw TypeError("internal: arrays passed to the core must be C-contiguous");
  HostArray h;
  h.data = a.data();
  for (py::ssize_t i = 0; i < a.ndim(); ++i) h.shape.push_back(a.shape(i));
  const char kind = a.dtype().kind();
  const auto size = a.dtype().itemsize();
  if (a.dtype().byteorder() == '>')
    throw TypeError("the core takes native-endian numeric arrays; received dtype " +
                    py::str(a.dtype()).cast<std::string>());
  if (kind == 'f' && size == 4) h.dtype = DType::Float32;
  else if (kind == 'f' && size == 8) h.dtype = DType::Float64;
  else if (kind == 'f' && size == 2) h.dtype = DType::HostFloat16;
  else if (kind == 'i' && size == 8) h.dtype = DType::Int64;
  else if (kind == 'i' && size == 4) h.dtype = DType::Int32;
  else if (kind == 'i' && size == 2) h.dtype = DType::Int16;
  else if (kind == 'i' && size == 1) h.dtype = DType::Int8;
  else if (kind == 'u' && size == 8) h.dtype = DType::UInt64;
  else if (kind == 'u' && size == 4) h.dtype = DType::UInt32;
  else if (kind == 'u' && size == 2) h.dtype = DType::UInt16;
  else if (kind == 'u' && size == 1) h.dtype = DType::UInt8;
  else if (kind == 'b' && size == 1) h.dtype = DType::Bool;
  else
    throw TypeError("the core takes numeric (float, int, uint or bool) arrays; received dtype " +
                    py::str(a.dtype()).cast<std::string>());
  return h;
}

py::array_t<float> tensor_to_numpy(const Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array_t<float> out(shape);
  t.device().copy_to_host(out.mutable_data(), t.raw(), t.nbytes());
  return out;
}

void numpy_into_tensor(const py::array& a, Tensor& t, const std::string& what) {
  auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!arr) throw TypeError(what + ": expected a float array");
  Shape s(arr.shape(), arr.shape() + arr.ndim());
  if (s != t.shape())
    throw ValueError(what + ": expected shape " + shape_str(t.shape()) + ", received " +
                     shape_str(s));
  t.device().copy_from_host(t.raw(), arr.data(), t.nbytes());
}

}  // namespace ff::bindings

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "forgeflow's C++ core (tensors, layers, losses, optimizers, metrics, training loop)";
  py::register_exception_translator([](std::exception_ptr p) {
    // Messages are UTF-8; bytes that are not (a file name quoted raw) become \xNN rather than
    // turning the error into a UnicodeDecodeError.
    auto set_error = [](PyObject* type, const char* what) {
      PyObject* msg = PyUnicode_DecodeUTF8(what, static_cast<Py_ssize_t>(std::strlen(what)),
                                           "backslashreplace");
      if (!msg) return;  // the decode error is set instead
      PyErr_SetObject(type, msg);
      Py_DECREF(msg);
    };
    // An ff.errors class (TensorFlow's signature: (node_def, op, message)); a RuntimeError with
    // the same message if the class cannot be had (never expected).
    auto set_forgeflow_error = [](const char* name, const char* what) {
      PyObject* msg = PyUnicode_DecodeUTF8(what, static_cast<Py_ssize_t>(std::strlen(what)),
                                           "backslashreplace");
      if (!msg) return;
      PyObject* errors = PyImport_ImportModule("forgeflow.errors");
      PyObject* type = errors ? PyObject_GetAttrString(errors, name) : nullptr;
      PyObject* error =
          type ? PyObject_CallFunctionObjArgs(type, Py_None, Py_None, msg, nullptr) : nullptr;
      if (error) {
        PyErr_SetObject(type, error);
      } else {
        PyErr_Clear();
        PyErr_SetObject(PyExc_RuntimeError, msg);
      }
      Py_XDECREF(error);
      Py_XDECREF(type);
      Py_XDECREF(errors);
      Py_DECREF(msg);
    };
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ff::ValueError& e) {
      set_error(PyExc_ValueError, e.what());
    } catch (const ff::TypeError& e) {
      set_error(PyExc_TypeError, e.what());
    } catch (const ff::NumericsError& e) {
      set_error(PyExc_FloatingPointError, e.what());
    } catch (const ff::InterruptedError& e) {
      set_error(PyExc_KeyboardInterrupt, e.what());
    } catch (const ff::DistributedError& e) {
      // ff.errors.UnavailableError / DeadlineExceededError / AbortedError(node_def, op, message).
      set_forgeflow_error(e.kind == ff::DistributedError::Kind::Unavailable ? "UnavailableError"
                          : e.kind == ff::DistributedError::Kind::DeadlineExceeded
                              ? "DeadlineExceededError"
                              : "AbortedError",
                          e.what());
    } catch (const ff::ResourceExhaustedError& e) {
      set_forgeflow_error("ResourceExhaustedError", e.what());
    }
  });
  ff::bindings::init_core(m);
  ff::bindings::init_config(m);
  ff::bindings::init_layers(m);
  ff::bindings::init_conv_layers(m);
  ff::bindings::init_preprocessing_layers(m);
  ff::bindings::init_activation_layers(m);
  ff::bindings::init_reshaping_layers(m);
  ff::bindings::init_pooling1d_layers(m);
  ff::bindings::init_losses(m);
  ff::bindings::init_optimizers(m);
  ff::bindings::init_metrics(m);
  ff::bindings::init_model(m);
  ff::bindings::init_data(m);
  ff::bindings::init_data_csv(m);
  ff::bindings::init_data_image(m);
  ff::bindings::init_lookup(m);
  ff::bindings::init_ops(m);
  ff::bindings::init_distribute(m);
}
