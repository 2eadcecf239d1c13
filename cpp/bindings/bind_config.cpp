// Bindings for runtime configuration (ff.config): the CPU backend's thread count, the devices
// (physical, visible), placement's fallback notice and the devices' memory counters.
#include <cstdio>

#include "backend/cpu/threading.h"
#include "backend/cuda_loader.h"
#include "backend/math_mode.h"
#include "backend/registry.h"
#include "bindings.h"

namespace ff::bindings {
namespace {

py::list ids_to_py(const std::vector<DeviceId>& ids) {
  py::list out;
  for (const auto& id : ids) out.append(py::make_tuple(id.device_type, id.index));
  return out;
}

// Placement's notice goes to Python's sys.stderr (a notebook shows it in the cell's output),
// or to the process's stderr while the interpreter cannot take it.
void notice_to_python_stderr(const std::string& text) {
  if (!Py_IsInitialized()) {
    std::fprintf(stderr, "%s\n", text.c_str());
    return;
  }
  py::gil_scoped_acquire gil;
  try {
    py::object err = py::module_::import("sys").attr("stderr");
    if (err.is_none()) throw std::runtime_error("no sys.stderr");
    err.attr("write")(text + "\n");
    err.attr("flush")();
  } catch (...) {
    PyErr_Clear();
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

}  // namespace

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

  // GPU math settings (backend/math_mode.h; ff.config.experimental, cuda-conv).
  m.def("set_tensor_float_32_execution", [](bool on) { math_mode().tf32 = on; }, py::arg("enabled"),
        "Allows (True) or forbids TF32 tensor cores in float32 GEMMs and convolutions on a GPU.");
  m.def("tensor_float_32_execution_enabled", []() { return math_mode().tf32.load(); });
  m.def("set_op_determinism", [](bool on) { math_mode().deterministic = on; }, py::arg("enabled"),
        "Restricts GPU algorithms to deterministic ones (True) or allows faster others (False).");
  m.def("op_determinism_enabled", []() { return math_mode().deterministic.load(); });

  set_notice_sink(&notice_to_python_stderr);
  m.def("physical_devices", []() { return ids_to_py(physical_devices()); },
        "[(device_type, index)]: CPU 0, then the GPUs CUDA reports (loads the CUDA backend).");
  m.def("visible_devices", []() { return ids_to_py(visible_devices()); },
        "[(device_type, index)]: the physical devices new models may be placed on.");
  m.def("set_visible_devices",
        [](const std::vector<std::pair<std::string, int>>& devices, const std::string& type) {
          std::vector<DeviceId> ids;
          for (const auto& [t, i] : devices) ids.push_back({t, i});
          set_visible_devices(ids, type);
        },
        py::arg("devices"), py::arg("device_type"),
        "Makes `devices` the visible devices of `device_type` (\"\" for every type); "
        "RuntimeError once the first model was placed, when the list changes.");
  m.def("placement_notice", &placement_notice,
        "The line the first placement printed when it fell back to the CPU, or \"\".");
  m.def("built_with_cuda", &built_with_cuda,
        "Whether this build has the CUDA backend (FORGEFLOW_CUDA found the toolkit or was ON).");
  m.def("why_no_gpu",
        []() {
          const auto& loaded = load_cuda();
          return loaded.device_count > 0 ? std::string() : loaded.why_none;
        },
        "Why no GPU can be used (\"\" when one can): not built with CUDA, library or driver "
        "missing, no device.");
  m.def("memory_info",
        [](const std::string& name) {
          Device& d = device_by_name(name);
          return py::make_tuple(d.bytes_in_use(), d.peak_bytes());
        },
        py::arg("device"),
        "(current, peak) bytes the named device ('GPU:0', 'CPU:0') holds for forgeflow.");
  m.def("reset_memory_stats",
        [](const std::string& name) { device_by_name(name).reset_peak_bytes(); },
        py::arg("device"), "The named device's peak starts again from what is in use now.");
  m.def("device_name", [](const std::string& name) { return device_by_name(name).name(); },
        py::arg("device"), "The forgeflow name ('cpu', 'cuda:0') of a TensorFlow device name.");
  m.def("set_memory_limit_for_testing",
        [](const std::string& name, int64_t bytes) {
          device_by_name(name).set_memory_limit_for_testing(bytes);
        },
        py::arg("device"), py::arg("bytes"),
        "TESTS ONLY: allocations on the named device that would take its bytes in use past "
        "`bytes` fail as if it were full (0 removes the limit). Used by the tests of "
        "ff.errors.ResourceExhaustedError.");
}

}  // namespace ff::bindings
