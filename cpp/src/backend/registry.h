// Where a backend is chosen: the one place that maps a device to its kernel table. Bindings and
// the model ask here (default_backend() for new models), never for a backend by name.
#pragma once
#include <string>
#include <vector>

#include "backend/backend.h"

namespace ff {

// The backend for a device type; ValueError naming the device when this build or machine has
// none (e.g. CUDA in a CPU-only build).
Backend& backend_for(DeviceType type);
// The backend new models use: FORGEFLOW_DEVICE ("cpu", "cuda") when set, else the best one
// available (the CPU while forgeflow has no other backend).
Backend& default_backend();
// Device types this build can run on now, best first.
std::vector<DeviceType> available_device_types();
std::string device_type_name(DeviceType type);

}  // namespace ff
