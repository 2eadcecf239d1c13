// Bindings for the Sequential model: structure, build, compile and the GIL-free loops.
// Every loop releases the GIL; the hook re-acquires it only when it is called.
#include "bindings.h"
#include "core/errors.h"

namespace ff::bindings {
namespace {

py::list logs_to_py(const Logs& logs) {
  py::list out;
  for (const auto& [name, value] : logs) out.append(py::make_tuple(name, value));
  return out;
}

// A Python callable hook(begin: bool, step: int, logs: dict) -> bool (stop). It also gives
// Python a chance to raise KeyboardInterrupt on Ctrl-C.
LoopOptions loop_options(int64_t batch_size, const py::object& hook, bool every_batch,
                         bool batch_begin, double interval) {
  LoopOptions o;
  o.batch_size = batch_size;
  o.hook_every_batch = every_batch;
  o.hook_batch_begin = batch_begin;
  o.hook_interval_s = interval;
  if (!hook.is_none()) {
    o.hook = [hook](bool begin, int64_t step, const Logs& logs) -> bool {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      py::dict d;
      for (const auto& [name, value] : logs) d[py::str(name)] = value;
      return py::bool_(hook(begin, step, d));
    };
  }
  return o;
}

// A new (rows, *output_shape[1:]) float32 array for a built model's outputs.
py::array_t<float> output_array(const Sequential& s, int64_t rows) {
  if (!s.built()) throw ValueError("the model is not built yet");
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(rows)};
  for (size_t i = 1; i < s.output_shape().size(); ++i) shape.push_back(s.output_shape()[i]);
  return py::array_t<float>(shape);
}

// Holds the hook so that it is destroyed with the GIL held, after the released region.
struct Loop {
  LoopOptions options;
};

}  // namespace

void init_model(py::module_& m) {
  py::class_<Sequential, std::shared_ptr<Sequential>>(m, "Sequential")
      .def(py::init([]() { return std::make_shared<Sequential>(cpu_backend()); }))
      .def("add", &Sequential::add)
      .def("pop", &Sequential::pop)
      .def_property_readonly("layers", [](const Sequential& s) { return s.layers(); })
      .def("build", [](Sequential& s, py::handle shape) { s.build(shape_from_py(shape)); })
      .def_property_readonly("built", &Sequential::built)
      .def_property_readonly("input_shape", [](const Sequential& s) { return shape_to_py(s.input_shape()); })
      .def_property_readonly("output_shape", [](const Sequential& s) { return shape_to_py(s.output_shape()); })
      .def_property_readonly("param_count", &Sequential::param_count)
      .def_property_readonly("non_trainable_param_count", &Sequential::state_count)
      .def_property_readonly("train_steps", &Sequential::train_steps)
      .def("compile", &Sequential::compile, py::arg("loss"), py::arg("optimizer"),
           py::arg("metrics"))
      .def_property_readonly("compiled", &Sequential::compiled)
      .def_property_readonly("metric_names", &Sequential::metric_names)
      .def("check_input", [](const Sequential& s, py::handle shape) { s.check_input(shape_from_py(shape)); })
      .def("check_targets", [](const Sequential& s, py::handle x_shape, py::handle y_shape,
                               const std::string& dtype) {
        DType t = dtype == "int64" ? DType::Int64 : DType::Float32;
        return shape_to_py(s.check_targets(shape_from_py(x_shape), shape_from_py(y_shape), t));
      })
      .def("get_weights", [](const Sequential& s) {
        py::list out;
        for (size_t i = 0; i < s.parameters().size(); ++i) out.append(tensor_to_numpy(s.parameters()[i].value));
        return out;
      })
      .def("set_weights", [](Sequential& s, const py::list& weights) {
        const auto& params = s.parameters();
        if (weights.size() != params.size())
          throw ValueError("set_weights() expects a list of " + std::to_string(params.size()) +
                           " arrays for this model, received " + std::to_string(weights.size()));
        for (size_t i = 0; i < params.size(); ++i) {
          auto a = py::array::ensure(weights[i]);
          Shape shape(a.shape(), a.shape() + a.ndim());
          if (shape != params[i].value.shape())
            throw ValueError("Weight " + std::to_string(i) + " (" +
                             s.layers()[params[i].layer]->name() + "/" + params[i].spec.name +
                             ") has shape " + shape_str(params[i].value.shape()) +
                             "; received an array of shape " + shape_str(shape) +
                             ". Nothing was changed.");
        }
        for (size_t i = 0; i < params.size(); ++i) {
          Tensor t = params[i].value;
          numpy_into_tensor(py::array::ensure(weights[i]), t, "set_weights");
        }
      })
      .def("train_epoch", [](Sequential& s, const py::array& x, const py::array& y,
                             const py::array_t<int64_t, py::array::c_style>& order, int64_t epoch,
                             int64_t batch_size, const py::object& hook, bool every_batch,
                             bool batch_begin, double interval) {
        HostArray hx = host_array(x), hy = host_array(y);
        std::vector<int64_t> ord(order.data(), order.data() + order.size());
        Loop loop{loop_options(batch_size, hook, every_batch, batch_begin, interval)};
        Logs logs;
        {
          py::gil_scoped_release release;
          logs = s.train_epoch(hx, hy, ord, epoch, loop.options);
        }
        return logs_to_py(logs);
      })
      .def("evaluate", [](Sequential& s, const py::array& x, const py::array& y, int64_t batch_size,
                          const py::object& hook, bool every_batch, bool batch_begin,
                          double interval) {
        HostArray hx = host_array(x), hy = host_array(y);
        Loop loop{loop_options(batch_size, hook, every_batch, batch_begin, interval)};
        Logs logs;
        {
          py::gil_scoped_release release;
          logs = s.evaluate(hx, hy, loop.options);
        }
        return logs_to_py(logs);
      })
      .def("predict", [](Sequential& s, const py::array& x, int64_t batch_size,
                         const py::object& hook, bool every_batch, bool batch_begin,
                         double interval) {
        HostArray hx = host_array(x);
        py::array_t<float> out = output_array(s, hx.rows());
        float* dst = out.mutable_data();
        Loop loop{loop_options(batch_size, hook, every_batch, batch_begin, interval)};
        {
          py::gil_scoped_release release;
          s.predict(hx, dst, loop.options);
        }
        return out;
      })
      .def("call", [](Sequential& s, const py::array& x, bool training) {
        // The small-input fast path: no loop machinery, no hook, no GIL release (a release and
        // re-acquire costs more than a one-sample forward pass).
        HostArray hx = host_array(x);
        py::array_t<float> out = output_array(s, hx.rows());
        float* dst = out.mutable_data();
        if (hx.rows() <= 64) {
          s.call(hx, training, dst);
        } else {
          py::gil_scoped_release release;
          s.call(hx, training, dst);
        }
        return out;
      });
}

}  // namespace ff::bindings
