// Bindings for models: Model (the functional graph: inputs, layer calls, outputs) and Sequential
// (the chain built onto it). Every loop takes lists of arrays (one per input / output) and
// releases the GIL; the hook re-acquires it only when it is called.
#include <algorithm>
#include <cstring>

#include "backend/registry.h"
#include "bindings.h"
#include "core/errors.h"
#include "model/array_source.h"
#include "data/pinned_buffers.h"
#include "model/input_slots.h"
#include "model/resident_arrays.h"

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

// Holds the hook so that it is destroyed with the GIL held, after the released region.
struct Loop {
  LoopOptions options;
};

// Arrays (None allowed for outputs without targets) viewed without copying; the list keeps them
// alive for the call.
std::vector<HostArray> host_arrays(const py::list& arrays) {
  std::vector<HostArray> out;
  for (auto item : arrays) out.push_back(item.is_none() ? HostArray{} : host_array(item.cast<py::array>()));
  return out;
}

// New (rows, *output_shape(i)[1:]) float32 arrays, one per model output, and their data pointers.
py::list output_arrays(const Model& m, int64_t rows, std::vector<float*>& pointers) {
  if (!m.built()) throw ValueError("the model is not built yet");
  m.check_output_size(rows);  // a clear error, not NumPy's MemoryError, for outputs too large
  py::list out;
  pointers.clear();
  for (int o = 0; o < m.num_outputs(); ++o) {
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(rows)};
    Shape s = m.output_shape(o);
    for (size_t i = 1; i < s.size(); ++i) shape.push_back(s[i]);
    py::array_t<float> a(shape);
    pointers.push_back(a.mutable_data());
    out.append(a);
  }
  return out;
}

int64_t rows_of(const std::vector<HostArray>& xs) { return xs.empty() ? 0 : xs[0].rows(); }

LoopMode loop_mode(const std::string& name) {
  if (name == "train") return LoopMode::Train;
  if (name == "evaluate") return LoopMode::Evaluate;
  if (name == "predict") return LoopMode::Predict;
  throw ValueError("internal: unknown loop mode \"" + name + "\"");
}

// fit's arrays kept on the device (Model::make_resident), with the Python arrays they were
// uploaded from kept alive (an ArraySource checks it is given the same arrays).
struct PyResident {
  std::shared_ptr<ResidentArrays> arrays;
  py::list xs, ys;
};

// An ArraySource with the Python arrays it views kept alive.
struct PyArraySource {
  PyArraySource(const py::list& x, const py::list& y, std::vector<int64_t> order, int64_t batch,
                std::shared_ptr<ResidentArrays> resident)
      : xs(x), ys(y),
        source(host_arrays(x), host_arrays(y), std::move(order), batch, std::move(resident)) {}
  py::list xs, ys;
  ArraySource source;
};

BatchSource& batch_source_of(py::handle source) {
  if (py::isinstance<PyArraySource>(source)) return source.cast<PyArraySource&>().source;
  return feed_of(source);
}

// Predict's outputs: written straight into NumPy arrays made beforehand (with the GIL) when the
// number of rows is known (arrays), else collected per batch (a dataset) and copied at the end.
class OutputSink final : public PredictSink {
 public:
  OutputSink(const Model& m, int64_t rows) : known_(rows >= 0) {
    for (int o = 0; o < m.num_outputs(); ++o) row_sizes_.push_back(shape_row_size(m.output_shape(o)));
    buffers_.resize(row_sizes_.size());
    if (known_) arrays_ = output_arrays(m, rows, direct_);
    capacity_ = rows;
  }
  float* rows(int output, int64_t first, int64_t count) override {
    const size_t o = static_cast<size_t>(output);
    const int64_t row = row_sizes_[o];
    rows_ = std::max(rows_, first + count);
    if (known_) return direct_[o] + first * row;
    auto& b = buffers_[o];
    const size_t end = static_cast<size_t>((first + count) * row);
    if (b.size() < end) b.resize(end);
    return b.data() + first * row;
  }
  // The outputs: the arrays written into (cut to the rows written), or new ones.
  py::list arrays(const Model& m) {
    if (known_ && rows_ == capacity_) return arrays_;
    if (known_) {
      py::list out;
      for (auto a : arrays_)
        out.append(a.attr("__getitem__")(py::slice(0, static_cast<py::ssize_t>(rows_), 1)));
      return out;
    }
    std::vector<float*> pointers;
    py::list out = output_arrays(m, rows_, pointers);
    for (size_t o = 0; o < pointers.size(); ++o)
      if (rows_ > 0)
        std::memcpy(pointers[o], buffers_[o].data(),
                    static_cast<size_t>(rows_ * row_sizes_[o]) * sizeof(float));
    return out;
  }

 private:
  bool known_;
  int64_t rows_ = 0, capacity_ = 0;
  std::vector<int64_t> row_sizes_;
  std::vector<float*> direct_;
  py::list arrays_;
  std::vector<std::vector<float>> buffers_;
};

}  // namespace

void init_model(py::module_& m) {
  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([]() { return std::make_shared<Model>(default_backend()); }))
      .def_property_readonly("device", [](const Model& g) { return g.backend().device().name(); },
                             "The device the model computes on: \"cpu\", \"cuda:0\".")
      .def("add_input", [](Model& g, py::handle shape) { return g.add_input(shape_from_py(shape)); })
      .def("add_node", [](Model& g, std::shared_ptr<Layer> layer, const std::vector<int>& inputs,
                          bool inference_only, const std::string& mode) {
        NodeMode m = NodeMode::Always;
        if (mode == "train") m = NodeMode::TrainOnly;
        else if (mode == "infer") m = NodeMode::InferOnly;
        else if (mode != "always")
          throw ValueError("internal: node mode must be 'always', 'train' or 'infer'");
        return g.add_node(std::move(layer), inputs, inference_only, m);
      }, py::arg("layer"), py::arg("inputs"), py::arg("inference_only") = false,
         py::arg("mode") = "always")
      .def("add_weight", [](Model& g, std::shared_ptr<Layer> weight) {
        return g.add_weight(std::move(weight));
      }, py::arg("weight"), "The value of a custom layer's Weight (added once per model).")
      .def("add_loss_term", [](Model& g, int value, float linear, float l1, float l2,
                               const std::string& mode) {
        NodeMode m = NodeMode::Always;
        if (mode == "train") m = NodeMode::TrainOnly;
        else if (mode == "infer") m = NodeMode::InferOnly;
        else if (mode != "always")
          throw ValueError("internal: loss term mode must be 'always', 'train' or 'infer'");
        PenaltySpec spec;
        spec.linear = linear;
        spec.l1 = l1;
        spec.l2 = l2;
        g.add_loss_term(value, spec, m);
      }, py::arg("value"), py::arg("linear") = 0.0f, py::arg("l1") = 0.0f, py::arg("l2") = 0.0f,
         py::arg("mode") = "always",
         "Adds sum(linear*v + l1*|v| + l2*v^2) over value v to the loss (add_loss, activity "
         "regularizers).")
      .def_property_readonly("has_added_losses", &Model::has_added_losses)
      .def("value_batched", &Model::value_batched)
      .def("set_outputs", &Model::set_outputs)
      .def("finalize", &Model::finalize)
      .def_property_readonly("built", &Model::built)
      .def_property_readonly("num_inputs", &Model::num_inputs)
      .def_property_readonly("num_outputs", &Model::num_outputs)
      .def("value_shape", [](const Model& g, int v) { return shape_to_py(g.value_shape(v)); })
      .def_property_readonly("input_shapes", [](const Model& g) {
        py::list out;
        for (int i = 0; i < g.num_inputs(); ++i) out.append(shape_to_py(g.input_shape(i)));
        return out;
      })
      .def_property_readonly("output_shapes", [](const Model& g) {
        py::list out;
        for (int i = 0; i < g.num_outputs(); ++i) out.append(shape_to_py(g.output_shape(i)));
        return out;
      })
      .def_property_readonly("param_count", &Model::param_count)
      .def_property_readonly("non_trainable_param_count", &Model::state_count)
      .def_property("train_steps", &Model::train_steps, &Model::set_train_steps)
      .def_property("training_calls", &Model::training_calls, &Model::set_training_calls)
      .def("compile", [](Model& g, const py::list& outputs, std::shared_ptr<Optimizer> optimizer) {
        // outputs: [(name, loss or None, loss_weight, [metrics])] in model-output order
        std::vector<OutputSpec> specs;
        for (auto item : outputs) {
          auto t = item.cast<py::tuple>();
          OutputSpec s;
          s.name = t[0].cast<std::string>();
          if (!t[1].is_none()) s.loss = t[1].cast<std::shared_ptr<Loss>>();
          s.loss_weight = t[2].cast<float>();
          s.metrics = t[3].cast<std::vector<std::shared_ptr<Metric>>>();
          specs.push_back(std::move(s));
        }
        g.compile(std::move(specs), std::move(optimizer));
      })
      .def_property_readonly("compiled", &Model::compiled)
      .def_property("loss_scale", &Model::loss_scale, &Model::set_loss_scale,
                    "Dynamic loss scaling of the training steps (None: none)")
      .def("value_dtype", [](const Model& g, int v) { return dtype_name(g.value_dtype(v)); },
           "Compute dtype of a value of the graph (mixed precision)")
      .def_property_readonly("metric_names", &Model::metric_names)
      .def("check_inputs", [](const Model& g, const py::list& shapes) {
        std::vector<Shape> s;
        for (auto item : shapes) s.push_back(shape_from_py(item));
        g.check_inputs(s);
      })
      .def("check_targets", [](const Model& g, int output, int64_t samples, py::handle y_shape,
                               const std::string& dtype) {
        DType t = dtype == "int64" ? DType::Int64 : DType::Float32;
        return shape_to_py(g.check_targets(output, samples, shape_from_py(y_shape), t));
      })
      .def("get_weights", [](Model& g) {
        ModelLock lock(g.mutex());
        g.claim_layers();  // the values a model sharing its layers trained since
        py::list out;
        for (const auto& ref : g.parameters()) out.append(tensor_to_numpy(ref.value));
        return out;
      })
      .def("set_weights", [](Model& g, const py::list& weights) {
        ModelLock lock(g.mutex());
        g.claim_layers();
        const auto& params = g.parameters();
        if (weights.size() != params.size())
          throw ValueError("set_weights() expects a list of " + std::to_string(params.size()) +
                           " arrays for this model, received " + std::to_string(weights.size()));
        // Validate every shape before writing anything: a failed call changes nothing.
        for (size_t i = 0; i < params.size(); ++i) {
          auto a = py::array::ensure(weights[i]);
          Shape shape(a.shape(), a.shape() + a.ndim());
          if (shape != params[i].value.shape())
            throw ValueError("Weight " + std::to_string(i) + " (" +
                             g.layers()[params[i].layer]->name() + "/" + params[i].spec.name +
                             ") has shape " + shape_str(params[i].value.shape()) +
                             "; received an array of shape " + shape_str(shape) +
                             ". Nothing was changed.");
        }
        for (size_t i = 0; i < params.size(); ++i) {
          Tensor t = params[i].value;
          numpy_into_tensor(py::array::ensure(weights[i]), t, "set_weights");
        }
        g.weights_written();
      })
      .def("run", [](Model& g, py::handle source, const std::string& mode_name, int64_t epoch,
                     int64_t max_steps, const py::object& hook, bool every_batch,
                     bool batch_begin, double interval) {
        const LoopMode mode = loop_mode(mode_name);
        BatchSource& batches = batch_source_of(source);
        Loop loop{loop_options(1, hook, every_batch, batch_begin, interval)};
        ModelLock lock(g.mutex());
        int64_t steps = 0;
        if (mode != LoopMode::Predict) {
          Logs logs;
          {
            py::gil_scoped_release release;
            logs = g.run_loop(batches, mode, epoch, max_steps, loop.options, nullptr, &steps);
          }
          return py::make_tuple(logs_to_py(logs), steps);
        }
        // Predict: into arrays of the source's length when it is known (arrays), else grown
        // batch by batch (a dataset).
        auto* arrays = py::isinstance<PyArraySource>(source) ? &source.cast<PyArraySource&>() : nullptr;
        OutputSink sink(g, arrays ? arrays->source.length() : -1);
        {
          py::gil_scoped_release release;
          g.run_loop(batches, mode, epoch, max_steps, loop.options, &sink, &steps);
        }
        return py::make_tuple(sink.arrays(g), steps);
      }, py::arg("source"), py::arg("mode"), py::arg("epoch"), py::arg("max_steps"),
         py::arg("hook"), py::arg("every_batch"), py::arg("batch_begin"), py::arg("interval"),
         "The model's loop over a batch source (ArraySource or data.Feed): mode \"train\" (one "
         "epoch of fit), \"evaluate\" or \"predict\". Returns (logs, steps) or (outputs, steps).")
      .def("make_resident", [](Model& g, const py::list& xs, const py::list& ys,
                               double fraction) -> py::object {
        auto arrays = g.make_resident(host_arrays(xs), host_arrays(ys), fraction);
        if (!arrays) return py::none();
        return py::cast(PyResident{std::move(arrays), xs, ys});
      }, py::arg("xs"), py::arg("ys"), py::arg("fraction"),
         "fit's arrays uploaded once to a GPU when they take at most `fraction` of its free "
         "memory (batches are then gathered on the device), or None: they do not fit, fraction "
         "is 0, or the model is on the CPU (its arrays are host memory already)")
      .def("input_batch_pool", [](Model& g) {
        ModelLock lock(g.mutex());
        return g.input_batch_pool();
      }, "The pinned pool an ff.data pipeline writes its batches into for this model on a GPU "
         "(data.PinnedBufferPool; pass it to data.Iterator to open a pass as the model's Feed "
         "would), or None on the CPU and for a model without inputs. The model must be built.")
      .def_property_readonly("input_stats", [](const Model& g) -> py::object {
        ModelLock lock(g.mutex());
        const InputSlots* slots = g.input_slots();
        if (!slots) return py::none();
        const InputSlots::Stats& s = slots->stats();
        const PinnedPool::Stats& p = slots->pool().stats();
        py::dict d;
        d["batches"] = s.batches;
        d["slot_batches"] = py::make_tuple(s.slot_batches[0], s.slot_batches[1]);
        d["slot_allocations"] = s.slot_allocations;
        d["pinned_allocations"] = p.allocations;
        d["pinned_blocks"] = p.blocks;
        d["pinned_bytes"] = p.bytes;
        d["pinned_waits"] = p.waits;
        // Batches a pipeline wrote straight into pinned memory (data/pinned_buffers.h).
        const data::PinnedBufferPool::Stats b = slots->batch_pool()->stats();
        d["direct_arrays"] = s.direct_arrays;
        d["staged_arrays"] = s.staged_arrays;
        d["batch_pool_allocations"] = b.allocations;
        d["batch_pool_blocks"] = b.blocks;
        d["batch_pool_bytes"] = b.bytes;
        d["batch_pool_misses"] = b.misses;
        return d;
      }, "Batches streamed to a GPU through pinned memory and two device slots (model/"
         "input_slots.h): counts, or None before the first (or input_batch_pool()) and always "
         "on the CPU")
      .def_property_readonly("graph_captures", [](const Model& g) {
        ModelLock lock(g.mutex());
        return g.graph_stats().captures;
      }, "Loop steps captured as a graph so far (one per signature; on a device that cannot "
         "capture, the captures it would have made)")
      .def_property_readonly("graph_stats", [](const Model& g) {
        ModelLock lock(g.mutex());
        const Model::GraphStats& s = g.graph_stats();
        py::dict d;
        d["captures"] = s.captures;
        d["train_captures"] = s.train_captures;
        d["launches"] = s.launches;
        d["eager_steps"] = s.eager_steps;
        d["fallbacks"] = s.fallbacks;
        d["last_error"] = s.last_error;
        d["signatures"] = s.signatures;
        return d;
      }, "Captured-step bookkeeping: captures, train_captures, launches (replayed steps), eager_steps, "
         "fallbacks (failed captures), last_error, signatures (of the last 32 captures)")
      .def("call", [](Model& g, const py::list& xs, bool training) {
        // The small-input fast path: no loop machinery, no hook, and no GIL release for small
        // batches (a release and re-acquire costs more than a one-sample forward pass).
        auto hx = host_arrays(xs);
        ModelLock lock(g.mutex());
        std::vector<float*> dst;
        py::list out = output_arrays(g, rows_of(hx), dst);
        if (rows_of(hx) <= 64) {
          g.call(hx, training, dst);
        } else {
          py::gil_scoped_release release;
          g.call(hx, training, dst);
        }
        return out;
      });

  py::class_<PyResident>(m, "ResidentArrays",
                         "fit's arrays kept on a GPU (Model.make_resident)")
      .def_property_readonly("stats", [](const PyResident& r) {
        const ResidentArrays::Stats& s = r.arrays->stats();
        py::dict d;
        d["uploads"] = s.uploads;
        d["bytes"] = s.bytes;
        d["order_uploads"] = s.order_uploads;
        return d;
      });

  py::class_<PyArraySource>(m, "ArraySource",
                            "The model's batches over NumPy arrays (any numeric dtype, converted "
                            "batch by batch), in `order` or array order.")
      .def(py::init([](const py::list& xs, const py::list& ys, const py::object& order,
                       int64_t batch_size, const py::object& resident) {
             std::vector<int64_t> rows;
             if (!order.is_none()) {
               auto a = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(order);
               if (!a) throw TypeError("order must be an integer array");
               rows.assign(a.data(), a.data() + a.size());
             }
             std::shared_ptr<ResidentArrays> on_device;
             if (!resident.is_none()) on_device = resident.cast<PyResident&>().arrays;
             return std::make_unique<PyArraySource>(xs, ys, std::move(rows), batch_size,
                                                    std::move(on_device));
           }),
           py::arg("xs"), py::arg("ys"), py::arg("order"), py::arg("batch_size"),
           py::arg("resident") = py::none())
      .def_property_readonly("batches", [](const PyArraySource& s) { return s.source.batches(); });

  py::class_<Sequential, Model, std::shared_ptr<Sequential>>(m, "Sequential")
      .def(py::init([]() { return std::make_shared<Sequential>(default_backend()); }))
      .def("add", &Sequential::add)
      .def("pop", &Sequential::pop)
      .def_property_readonly("layers", [](const Sequential& s) { return s.layers(); })
      .def("build", [](Sequential& s, py::handle shape) { s.build(shape_from_py(shape)); })
      .def_property_readonly("input_shape", [](const Sequential& s) { return shape_to_py(s.input_shape()); })
      .def_property_readonly("output_shape", [](const Sequential& s) { return shape_to_py(s.output_shape()); });
}

}  // namespace ff::bindings
