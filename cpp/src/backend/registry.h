// Where a backend is chosen: the one place that maps a device to its kernel table. Bindings and
// the model ask here (default_backend() for new models), never for a backend by name.
//
// Placement follows TensorFlow: new models go to the first visible GPU when there is one, else
// to the CPU. When this build has the CUDA backend but no GPU can be used (the library or the
// driver is missing, no device), the first placement prints one line saying so and why; a
// CPU-only build says nothing (nothing GPU was expected), and neither does an explicit choice of
// the CPU (FORGEFLOW_DEVICE=cpu, or the GPUs hidden with set_visible_devices). The devices have
// TensorFlow's names: physical devices "CPU:0", "GPU:0".. (GPU i is CUDA device i, after
// CUDA_VISIBLE_DEVICES); the visible GPUs are renumbered from 0 as logical devices.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace ff {

// One device of the machine, TensorFlow-style: device_type "CPU" or "GPU", and its index among
// the physical devices of that type.
struct DeviceId {
  std::string device_type;
  int index = 0;
  bool operator==(const DeviceId& o) const {
    return device_type == o.device_type && index == o.index;
  }
};
// "CPU:0", "GPU:1"
std::string device_id_str(const DeviceId& id);

// The placement rules on their own (no process state), so that they can be tested for any
// number of GPUs on a machine without one. The process's instance is placement().
class Placement {
 public:
  // gpu_count GPUs usable (0: why_no_gpu says why); built_with_cuda: this build has the CUDA
  // backend (when not, a missing GPU is expected and no notice is given).
  Placement(int gpu_count, std::string why_no_gpu, bool built_with_cuda);

  // CPU:0, then GPU:0..gpu_count-1.
  std::vector<DeviceId> physical_devices() const;
  // The visible ones, in the same order (all of them until set_visible_devices).
  std::vector<DeviceId> visible_devices() const;
  // Replaces the visible devices of `device_type` ("CPU", "GPU"; "" for every type) by `devices`,
  // as tf.config.set_visible_devices: ValueError for a device that is not a physical device
  // (or not of `device_type`) and for hiding the CPU; once the runtime is initialised (the first
  // placement, see choose()), RuntimeError for any change (setting the same list is allowed).
  void set_visible_devices(const std::vector<DeviceId>& devices, const std::string& device_type);
  bool initialised() const { return initialised_; }

  // Where new models go. `env` is FORGEFLOW_DEVICE (null or "" when unset: the first visible
  // GPU, else the CPU). Marks the runtime initialised. `notice` is the fallback line, given by
  // the first call that falls back to the CPU and never again; empty when none is due (see the
  // top of this file).
  struct Choice {
    DeviceType type = DeviceType::CPU;
    int gpu = -1;  // the physical GPU index when type is CUDA
    std::string notice;
  };
  Choice choose(const char* env);
  // The physical GPU behind visible (logical) GPU `logical`; ValueError naming what is visible.
  int physical_gpu(int logical) const;
  // A TensorFlow device name ("GPU:0", "/GPU:0", "/device:GPU:0", "/physical_device:CPU:0",
  // any case, and "cpu", "cuda:0") to the device it names: GPU indices are logical (visible)
  // ones except in a /physical_device: name. ValueError for a name that does not parse or a
  // device that is not there.
  DeviceId resolve(const std::string& name) const;
  // Marks the runtime initialised (a backend was handed out).
  void mark_initialised() { initialised_ = true; }

 private:
  int gpu_count_;
  std::string why_no_gpu_;
  bool built_with_cuda_;
  std::vector<DeviceId> visible_;
  bool initialised_ = false;
  bool notice_given_ = false;
  bool gpus_chosen_ = false;  // set_visible_devices was given the GPUs to use
};

// The backend for a device type (CUDA: the first visible GPU); ValueError naming the device when
// this build or machine has none (e.g. CUDA in a CPU-only build) or it is hidden.
Backend& backend_for(DeviceType type);
// The backend new models use: FORGEFLOW_DEVICE ("cpu", "cuda") when set, else the first visible
// GPU, else the CPU (with the one-line notice at the first call when a GPU was expected).
Backend& default_backend();
// Device types this build can run on now, best first.
std::vector<DeviceType> available_device_types();
std::string device_type_name(DeviceType type);

// The physical index of the first visible GPU (where a GPU backend goes); ValueError saying why
// when there is none.
int first_visible_gpu();
// The process's placement state (the GPUs that load_cuda() found).
std::vector<DeviceId> physical_devices();
std::vector<DeviceId> visible_devices();
void set_visible_devices(const std::vector<DeviceId>& devices, const std::string& device_type);
// The device behind a TensorFlow device name (see Placement::resolve), opening the GPU's backend
// when needed: for get_memory_info and reset_memory_stats.
Device& device_by_name(const std::string& name);
// Whether this build has the CUDA backend (libforgeflow_cuda.so was built beside the core).
bool built_with_cuda();
// The notice the first placement gave ("" when none was due, or before the first placement).
std::string placement_notice();
// Where the notice goes (default: one line on stderr). The Python module sends it to sys.stderr.
void set_notice_sink(std::function<void(const std::string&)> sink);

}  // namespace ff
