// The backend registry (see registry.h).
#include "backend/registry.h"

#include <cstdlib>

#include "backend/cpu/cpu_backend.h"
#include "core/errors.h"

namespace ff {

std::string device_type_name(DeviceType type) {
  return type == DeviceType::CUDA ? "cuda" : "cpu";
}

std::vector<DeviceType> available_device_types() { return {DeviceType::CPU}; }

Backend& backend_for(DeviceType type) {
  if (type == DeviceType::CPU) return cpu_backend();
  throw ValueError("no " + device_type_name(type) + " backend in this build of forgeflow (it "
                   "was built without CUDA); use the CPU");
}

Backend& default_backend() {
  const char* env = std::getenv("FORGEFLOW_DEVICE");
  if (env && *env) {
    const std::string name(env);
    if (name == "cpu") return backend_for(DeviceType::CPU);
    if (name == "cuda" || name == "gpu") return backend_for(DeviceType::CUDA);
    throw ValueError("FORGEFLOW_DEVICE must be \"cpu\" or \"cuda\"; received \"" + name + "\"");
  }
  return backend_for(available_device_types().front());
}

}  // namespace ff
