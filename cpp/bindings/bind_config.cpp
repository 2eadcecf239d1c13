// Bindings for runtime configuration (ff.config): the CPU backend's thread count.
#include "backend/cpu/threading.h"
#include "bindings.h"

namespace ff::bindings {

void init_config(py::module_& m) {
  m.def("set_intra_op_threads", &cpu::set_intra_op_threads, py::arg("n"),
        "Fixes the threads each CPU kernel may use (0: automatic, following the CPUs this "
        "process may use and the load).");
  m.def("intra_op_threads_setting", &cpu::intra_op_threads_setting,
        "The fixed thread count (set, or OMP_NUM_THREADS at start-up), or 0 for automatic.");
  m.def("usable_cpus", &cpu::usable_cpus,
        "The CPUs this process may use: its affinity mask, lowered to a cgroup CPU quota.");
  m.def("max_threads_now", &cpu::max_threads_now,
        "The threads a large CPU kernel would use now.");
}

}  // namespace ff::bindings
