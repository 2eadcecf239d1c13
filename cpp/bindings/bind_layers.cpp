// Bindings for layers: the Layer base (name, shapes, weights) and one constructor per layer.
#include <cstring>

#include "backend/registry.h"
#include "bindings.h"
#include "layers/activation_layer.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/eager_call.h"
#include "layers/flatten.h"
#include "layers/merge.h"
#include "layers/mode_select.h"
#include "layers/weight.h"
#include "layers/reshape.h"

namespace ff::bindings {

void init_layers(py::module_& m) {
  py::class_<Layer, std::shared_ptr<Layer>>(m, "Layer")
      .def_property_readonly("name", &Layer::name)
      .def_property_readonly("class_name", &Layer::class_name)
      .def_property_readonly("built", &Layer::built)
      .def_property_readonly("input_shape", [](const Layer& l) { return shape_to_py(l.input_shape()); })
      .def_property_readonly("output_shape", [](const Layer& l) { return shape_to_py(l.output_shape()); })
      .def("build", [](Layer& l, py::handle shape) { return shape_to_py(l.build(shape_from_py(shape))); })
      .def_readwrite("trainable", &Layer::trainable)
      .def_property(
          "compute_dtype", [](const Layer& l) { return dtype_name(l.compute_dtype()); },
          [](Layer& l, const std::string& name) {
            if (name == "float32") l.set_compute_dtype(DType::Float32);
            else if (name == "bfloat16") l.set_compute_dtype(DType::BFloat16);
            else if (name == "float16") l.set_compute_dtype(DType::Float16);
            else
              throw ValueError("compute_dtype must be 'float32', 'bfloat16' or 'float16'; "
                               "received '" + name + "'");
          },
          "The dtype the layer computes in (mixed precision: its weights stay float32)")
      .def_property_readonly("num_inputs", &Layer::num_inputs)
      .def("build_multi", [](Layer& l, const py::list& shapes) {
        std::vector<Shape> in;
        for (auto s : shapes) in.push_back(shape_from_py(s));
        return shape_to_py(l.build_multi(in));
      })
      .def_property_readonly("seed", &Layer::seed)
      .def("set_weight_regularizer", &Layer::set_weight_regularizer, py::arg("param"),
           py::arg("l1"), py::arg("l2"),
           "Sets the L1/L2 factors of the weight `param` (0 and 0 remove it).")
      .def_property_readonly("param_regularizers", [](const Layer& l) {
        // Per weight of param_specs(): (l1, l2) from the layer's settings or the spec's own.
        py::list out;
        for (const auto& s : l.param_specs()) {
          auto f = l.weight_regularizer(s.name);
          if (f.first == 0.0f && f.second == 0.0f) f = {s.l1, s.l2};
          out.append(py::make_tuple(f.first, f.second));
        }
        return out;
      })
      .def_property_readonly("input_batched", [](const Layer& l) { return l.input_batched(0); })
      .def_property_readonly("output_batched", &Layer::output_batched)
      .def_property_readonly("param_shapes", [](const Layer& l) {
        // Shapes of the weights the built layer declares (before any model allocates them).
        py::list out;
        if (!l.built()) return out;
        for (const auto& s : l.param_specs()) out.append(shape_to_py(s.shape));
        return out;
      })
      .def_property_readonly("param_names", [](const Layer& l) {
        std::vector<std::string> names;
        for (const auto& s : l.param_specs()) names.push_back(s.name);
        return names;
      })
      .def_property_readonly("param_trainable", [](const Layer& l) {
        // Per weight: trained by the optimizer (false for moving statistics and the like).
        std::vector<bool> flags;
        for (const auto& s : l.param_specs()) flags.push_back(s.trainable);
        return flags;
      })
      .def_property_readonly("param_count", [](const Layer& l) {
        // All weights, trainable or not (Keras's count_params()).
        if (!l.built()) return int64_t{0};
        int64_t n = 0;
        for (const auto& s : l.param_specs()) n += shape_numel(s.shape);
        return n;
      })
      .def_property_readonly("non_trainable_param_count", [](const Layer& l) {
        if (!l.built()) return int64_t{0};
        int64_t n = 0;
        for (const auto& s : l.param_specs())
          if (!s.trainable) n += shape_numel(s.shape);
        return n;
      })
      .def("call_eager", [](Layer& l, const std::vector<py::array>& xs, bool training,
                            int64_t stream) {
        // layer(x) on arrays (layers/eager_call.h); the arrays were checked and converted to
        // float32 by the Python layer.
        std::vector<py::array_t<float, py::array::c_style>> arrays;
        std::vector<Shape> shapes;
        std::vector<const float*> data;
        for (const py::array& x : xs) {
          arrays.push_back(py::array_t<float, py::array::c_style>::ensure(x));
          if (!arrays.back()) throw TypeError("layer call: expected float32 arrays");
          shapes.emplace_back(arrays.back().shape(), arrays.back().shape() + arrays.back().ndim());
          data.push_back(arrays.back().data());
        }
        EagerOutput out;
        {
          py::gil_scoped_release release;
          out = call_layer_eagerly(l, shapes, data, training, stream);
        }
        py::array_t<float> result(std::vector<py::ssize_t>(out.shape.begin(), out.shape.end()));
        if (!out.values.empty())
          std::memcpy(result.mutable_data(), out.values.data(), out.values.size() * sizeof(float));
        return result;
      }, py::arg("xs"), py::arg("training"), py::arg("stream"))
      .def("create_weights", [](Layer& l) {
        // A standalone layer's weights, on the device models use by default.
        ModelLock lock(l.model_mutex());
        l.create_weights(default_backend().device());
      })
      .def("get_weights", [](Layer& l) {
        ModelLock lock(l.model_mutex());
        py::list out;
        for (const Tensor& t : l.weights()) out.append(tensor_to_numpy(t));
        return out;
      })
      .def("set_weights", [](Layer& l, const py::list& weights) {
        ModelLock lock(l.model_mutex());
        auto& params = l.weights();
        if (weights.size() != params.size())
          throw ValueError("Layer \"" + l.name() + "\" expects " + std::to_string(params.size()) +
                           " weights, but the given list has " + std::to_string(weights.size()) +
                           " elements");
        // Validate every shape before writing anything: a failed call changes nothing.
        for (size_t i = 0; i < params.size(); ++i) {
          auto a = py::array::ensure(weights[i]);
          Shape s(a.shape(), a.shape() + a.ndim());
          if (s != params[i].shape())
            throw ValueError("Layer \"" + l.name() + "\" weight " + std::to_string(i) + " (" +
                             l.param_specs()[i].name + ") has shape " +
                             shape_str(params[i].shape()) + "; received shape " + shape_str(s));
        }
        for (size_t i = 0; i < params.size(); ++i)
          numpy_into_tensor(py::array::ensure(weights[i]), params[i], "Layer \"" + l.name() + "\"");
        l.weights_written();
      });

  py::class_<Weight, Layer, std::shared_ptr<Weight>>(m, "Weight",
                                                     "A custom layer's weight as a graph value")
      .def(py::init([](std::string name, uint64_t seed, std::string weight_name, py::handle shape,
                       std::string initializer, bool trainable, float l1, float l2) {
             return std::make_shared<Weight>(std::move(name), seed, std::move(weight_name),
                                             shape_from_py(shape), std::move(initializer),
                                             trainable, l1, l2);
           }),
           py::arg("name"), py::arg("seed"), py::arg("weight_name"), py::arg("shape"),
           py::arg("initializer"), py::arg("trainable"), py::arg("l1") = 0.0f,
           py::arg("l2") = 0.0f)
      .def_property_readonly("shape", [](const Weight& w) { return shape_to_py(w.shape()); });
  py::class_<ModeSelect, Layer, std::shared_ptr<ModeSelect>>(
      m, "ModeSelect", "Joins a custom layer's training and inference traces")
      .def(py::init<std::string, uint64_t, bool>(), py::arg("name"), py::arg("seed"),
           py::arg("batched") = true);

  py::class_<Dense, Layer, std::shared_ptr<Dense>>(m, "Dense")
      .def(py::init<std::string, uint64_t, int64_t, const std::string&, bool, std::string,
                    std::string>(),
           py::arg("name"), py::arg("seed"), py::arg("units"), py::arg("activation"),
           py::arg("use_bias"), py::arg("kernel_initializer"), py::arg("bias_initializer"))
      .def_property_readonly("units", &Dense::units)
      .def_property_readonly("activation", [](const Dense& d) { return d.activation().name; });
  py::class_<ActivationLayer, Layer, std::shared_ptr<ActivationLayer>>(m, "Activation")
      .def(py::init<std::string, uint64_t, const std::string&>(), py::arg("name"),
           py::arg("seed"), py::arg("activation"))
      .def_property_readonly("activation", [](const ActivationLayer& a) { return a.activation().name; });
  py::class_<Flatten, Layer, std::shared_ptr<Flatten>>(m, "Flatten")
      .def(py::init<std::string, uint64_t>(), py::arg("name"), py::arg("seed"));
  py::class_<Reshape, Layer, std::shared_ptr<Reshape>>(m, "Reshape")
      .def(py::init([](std::string name, uint64_t seed, py::handle target) {
             return std::make_shared<Reshape>(std::move(name), seed, shape_from_py(target));
           }),
           py::arg("name"), py::arg("seed"), py::arg("target_shape"));
  py::class_<Add, Layer, std::shared_ptr<Add>>(m, "Add")
      .def(py::init<std::string, uint64_t>(), py::arg("name"), py::arg("seed"));
  py::class_<Average, Layer, std::shared_ptr<Average>>(m, "Average")
      .def(py::init<std::string, uint64_t>(), py::arg("name"), py::arg("seed"));
  py::class_<Multiply, Layer, std::shared_ptr<Multiply>>(m, "Multiply")
      .def(py::init<std::string, uint64_t>(), py::arg("name"), py::arg("seed"));
  py::class_<Concatenate, Layer, std::shared_ptr<Concatenate>>(m, "Concatenate")
      .def(py::init<std::string, uint64_t, int>(), py::arg("name"), py::arg("seed"),
           py::arg("axis"));
  py::class_<Dropout, Layer, std::shared_ptr<Dropout>>(m, "Dropout")
      .def(py::init<std::string, uint64_t, float>(), py::arg("name"), py::arg("seed"),
           py::arg("rate"))
      .def_property_readonly("rate", &Dropout::rate);
}

}  // namespace ff::bindings
