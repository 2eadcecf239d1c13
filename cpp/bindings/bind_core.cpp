// Bindings for core services: the global seed, check-numerics, the backend in use and the
// size limits of core/shape.h.
#include "bindings.h"
#include "backend/registry.h"
#include "core/numerics.h"
#include "core/rng.h"

namespace ff::bindings {

void init_core(py::module_& m) {
  m.def("set_seed", [](uint64_t seed) { GlobalSeed::set(seed); },
        "Seeds the core's seed sequence (layer initializers, dropout, shuffling).");
  m.def("next_seed", &GlobalSeed::next, "Draws the next seed of the core's seed sequence.");
  m.def("seed_state", []() {
          auto s = GlobalSeed::state();
          return py::make_tuple(s.initialised, s.seed, s.counter);
        },
        "(initialised, seed, counter): the position of the seed sequence (saved with models).");
  m.def("set_seed_state",
        [](bool initialised, uint64_t seed, uint64_t counter) {
          GlobalSeed::restore(GlobalSeed::State{initialised, seed, counter});
        },
        py::arg("initialised"), py::arg("seed"), py::arg("counter"),
        "Restores a position of the seed sequence returned by seed_state().");
  m.def("set_check_numerics", &CheckNumerics::set, "Turns check-numerics on or off.");
  m.def("check_numerics_enabled", &CheckNumerics::enabled);
  m.def("backend_name", []() { return default_backend().name(); },
        "Name of the backend new models compute on.");
  m.def("memory_capacity", []() { return default_backend().device().memory_capacity(); },
        "Bytes of memory the default backend's device can hold at most (buffer plans larger "
        "than this are refused).");
  // The size limits of core/shape.h (the saved-model loader checks input shapes against them).
  m.attr("MAX_SAMPLE_ELEMENTS") = kMaxSampleElements;
  m.attr("MAX_PARAM_ELEMENTS") = kMaxParamElements;
  m.def("shuffled_order",
        [](int64_t n, uint64_t seed, int64_t epoch) {
          auto order = Sequential::shuffled_order(n, seed, epoch);
          py::array_t<int64_t> out(static_cast<py::ssize_t>(order.size()));
          std::copy(order.begin(), order.end(), out.mutable_data());
          return out;
        },
        "Deterministic permutation of range(n) for one epoch of a seeded fit.");
}

}  // namespace ff::bindings
