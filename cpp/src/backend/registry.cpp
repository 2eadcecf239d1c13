// The backend registry (see registry.h).
#include "backend/registry.h"

#include <cstdlib>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda_loader.h"
#include "core/errors.h"

namespace ff {

std::string device_type_name(DeviceType type) {
  return type == DeviceType::CUDA ? "cuda" : "cpu";
}

std::vector<DeviceType> available_device_types() {
  if (load_cuda().device_count > 0) return {DeviceType::CUDA, DeviceType::CPU};
  return {DeviceType::CPU};
}

Backend& backend_for(DeviceType type) {
  if (type == DeviceType::CPU) return cpu_backend();
  if (load_cuda().device_count == 0)
    throw ValueError("no cuda device: " + load_cuda().why_none + "; use the CPU");
  return cuda_backend(0);
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
