// The CPU backend's entry point, for the backend registry only (everything else asks
// backend/registry.h for a backend).
#pragma once
#include "backend/backend.h"

namespace ff {

Backend& cpu_backend();

}  // namespace ff
