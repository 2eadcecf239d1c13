// Bindings for optimizers: one factory per optimizer; learning_rate is live (settable).
#include "bindings.h"
#include "core/errors.h"

namespace ff::bindings {

void init_optimizers(py::module_& m) {
  py::class_<Optimizer, std::shared_ptr<Optimizer>>(m, "Optimizer")
      .def_property_readonly("name", &Optimizer::name)
      .def_property("learning_rate", &Optimizer::learning_rate, &Optimizer::set_learning_rate)
      .def_property("iterations", &Optimizer::iterations, &Optimizer::set_iterations)
      .def_property_readonly("built", &Optimizer::built)
      .def_property(
          "schedule",
          [](const Optimizer& o) { return std::const_pointer_cast<LearningRateSchedule>(o.schedule()); },
          [](Optimizer& o, std::shared_ptr<LearningRateSchedule> s) { o.set_schedule(std::move(s)); },
          "Learning-rate schedule evaluated in C++ at each step (None: the fixed learning_rate)")
      .def_property_readonly("slot_names", &Optimizer::slot_names)
      .def("get_slots", [](Optimizer& o) {
        py::list out;
        for (const Tensor& t : o.slots()) out.append(tensor_to_numpy(t));
        return out;
      })
      .def("set_slots", [](Optimizer& o, const py::list& values) {
        // Restores saved optimizer state: every shape is checked before anything is written.
        auto& slots = o.slots();
        if (values.size() != slots.size())
          throw ValueError("optimizer \"" + o.name() + "\" has " + std::to_string(slots.size()) +
                           " state buffers; received " + std::to_string(values.size()));
        for (size_t i = 0; i < slots.size(); ++i) {
          auto a = py::array::ensure(values[i]);
          Shape s(a.shape(), a.shape() + a.ndim());
          if (s != slots[i].shape())
            throw ValueError("optimizer state \"" + o.slot_names()[i] + "\" has shape " +
                             shape_str(slots[i].shape()) + "; received " + shape_str(s));
        }
        for (size_t i = 0; i < slots.size(); ++i)
          numpy_into_tensor(py::array::ensure(values[i]), slots[i], "optimizer state");
      });
  // Dynamic loss scaling (ff.mixed_precision.LossScaleOptimizer), attached to a model.
  py::class_<DynamicLossScale, std::shared_ptr<DynamicLossScale>>(m, "DynamicLossScale")
      .def(py::init<float, int64_t>(), py::arg("initial_scale"), py::arg("growth_steps"))
      .def_property_readonly("scale", &DynamicLossScale::scale)
      .def_property_readonly("initial_scale", &DynamicLossScale::initial_scale)
      .def_property_readonly("growth_steps", &DynamicLossScale::growth_steps)
      .def_property_readonly("step_counter", &DynamicLossScale::step_counter)
      .def_property_readonly("skipped_steps", &DynamicLossScale::skipped_steps)
      .def("set_state", &DynamicLossScale::set_state, py::arg("scale"), py::arg("step_counter"));
  // Learning-rate schedules (cpp/src/optimizers/schedules): callable with a step.
  py::class_<LearningRateSchedule, std::shared_ptr<LearningRateSchedule>>(m, "LearningRateSchedule")
      .def("__call__", [](const LearningRateSchedule& s, int64_t step) { return s(step); },
           py::arg("step"))
      .def_property_readonly("class_name", &LearningRateSchedule::class_name);
  m.def("make_exponential_decay", &make_exponential_decay, py::arg("initial_learning_rate"),
        py::arg("decay_steps"), py::arg("decay_rate"), py::arg("staircase") = false);
  m.def("make_piecewise_constant_decay", &make_piecewise_constant_decay, py::arg("boundaries"),
        py::arg("values"));
  m.def("make_cosine_decay", &make_cosine_decay, py::arg("initial_learning_rate"),
        py::arg("decay_steps"), py::arg("alpha"), py::arg("has_warmup_target"),
        py::arg("warmup_target"), py::arg("warmup_steps"));
  m.def("make_inverse_time_decay", &make_inverse_time_decay, py::arg("initial_learning_rate"),
        py::arg("decay_steps"), py::arg("decay_rate"), py::arg("staircase") = false);
  auto base = [](float lr, float clipnorm, float clipvalue, float global_clipnorm, float wd) {
    OptimizerOptions o;
    o.learning_rate = lr;
    o.clipnorm = clipnorm;
    o.clipvalue = clipvalue;
    o.global_clipnorm = global_clipnorm;
    o.weight_decay = wd;
    return o;
  };
#define FF_BASE_ARGS                                                                      \
  py::arg("learning_rate"), py::arg("clipnorm") = 0.0f, py::arg("clipvalue") = 0.0f,       \
      py::arg("global_clipnorm") = 0.0f, py::arg("weight_decay") = 0.0f
  m.def("make_sgd", [base](float lr, float clipnorm, float clipvalue, float gcn, float wd,
                           float momentum, bool nesterov) -> std::shared_ptr<Optimizer> {
    return make_sgd(base(lr, clipnorm, clipvalue, gcn, wd), SgdOptions{momentum, nesterov});
  }, FF_BASE_ARGS, py::arg("momentum") = 0.0f, py::arg("nesterov") = false);
  auto adam_like = [base](bool w) {
    return [base, w](float lr, float clipnorm, float clipvalue, float gcn, float wd, float b1,
                     float b2, float eps, bool amsgrad) -> std::shared_ptr<Optimizer> {
      AdamOptions a{b1, b2, eps, amsgrad};
      auto o = base(lr, clipnorm, clipvalue, gcn, wd);
      return w ? make_adamw(o, a) : make_adam(o, a);
    };
  };
  m.def("make_adam", adam_like(false), FF_BASE_ARGS, py::arg("beta_1") = 0.9f,
        py::arg("beta_2") = 0.999f, py::arg("epsilon") = 1e-7f, py::arg("amsgrad") = false);
  m.def("make_adamw", adam_like(true), FF_BASE_ARGS, py::arg("beta_1") = 0.9f,
        py::arg("beta_2") = 0.999f, py::arg("epsilon") = 1e-7f, py::arg("amsgrad") = false);
  m.def("make_rmsprop", [base](float lr, float clipnorm, float clipvalue, float gcn, float wd,
                               float rho, float momentum, float eps, bool centered)
                            -> std::shared_ptr<Optimizer> {
    return make_rmsprop(base(lr, clipnorm, clipvalue, gcn, wd),
                        RmspropOptions{rho, momentum, eps, centered});
  }, FF_BASE_ARGS, py::arg("rho") = 0.9f, py::arg("momentum") = 0.0f, py::arg("epsilon") = 1e-7f,
        py::arg("centered") = false);
  m.def("make_adagrad", [base](float lr, float clipnorm, float clipvalue, float gcn, float wd,
                               float init, float eps) -> std::shared_ptr<Optimizer> {
    return make_adagrad(base(lr, clipnorm, clipvalue, gcn, wd), AdagradOptions{init, eps});
  }, FF_BASE_ARGS, py::arg("initial_accumulator_value") = 0.1f, py::arg("epsilon") = 1e-7f);
#undef FF_BASE_ARGS
}

}  // namespace ff::bindings
