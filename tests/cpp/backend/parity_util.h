// Helpers for the CUDA-versus-CPU parity tests (tagged [cuda]; ctest leaves them out, they run
// on a GPU machine through scripts/gpu-check.sh): the two backends, and the same host values put
// on both devices and read back, so that one test body runs a kernel on each and compares.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/cuda_loader.h"
#include "backend/math_mode.h"
#include "backend/registry.h"
#include "core/tensor.h"

namespace fftest::parity {

inline ff::Backend& cpu() { return ff::backend_for(ff::DeviceType::CPU); }

// The CUDA backend. A [cuda] test run where no GPU is visible fails here, loudly: these tests
// are only ever selected on a GPU machine. The parity suite runs without TF32 (its default is on,
// as in TensorFlow): a test that turns it on restores it with MathScope.
inline ff::Backend& gpu() {
  static const bool tf32_off = (ff::math_mode().tf32 = false, true);  // once per process
  (void)tf32_off;
  const auto& loaded = ff::load_cuda();
  if (loaded.device_count == 0) FAIL("the [cuda] tests need a GPU: " << loaded.why_none);
  return ff::backend_for(ff::DeviceType::CUDA);
}

// `values` in a new tensor on `backend`'s device.
template <class T>
ff::Tensor put(ff::Backend& backend, const ff::Shape& shape, const std::vector<T>& values,
               ff::DType dtype = ff::DType::Float32) {
  ff::Tensor t = ff::Tensor::empty(backend.device(), shape, dtype);
  if (static_cast<size_t>(t.nbytes()) != values.size() * sizeof(T))
    throw std::logic_error("parity::put: size");
  backend.device().copy_from_host(t.raw(), values.data(), t.nbytes());
  return t;
}

// A tensor's contents (waits for the device).
template <class T = float>
std::vector<T> get(const ff::Tensor& t) {
  std::vector<T> out(static_cast<size_t>(t.nbytes()) / sizeof(T));
  t.device().copy_to_host(out.data(), t.raw(), t.nbytes());
  return out;
}

// Whether two results agree: both NaN, equal infinities, or within `rel` relative to the larger
// magnitude (with `abs` absolute near zero). Returns an empty string, or what differs first.
inline std::string compare(const std::vector<float>& cpu_values,
                           const std::vector<float>& gpu_values, double rel = 1e-5,
                           double abs = 1e-6) {
  if (cpu_values.size() != gpu_values.size())
    return "sizes differ: " + std::to_string(cpu_values.size()) + " vs " +
           std::to_string(gpu_values.size());
  for (size_t i = 0; i < cpu_values.size(); ++i) {
    const double a = cpu_values[i], b = gpu_values[i];
    if (std::isnan(a) || std::isnan(b)) {
      if (std::isnan(a) && std::isnan(b)) continue;
    } else if (std::isinf(a) || std::isinf(b)) {
      if (a == b) continue;
    } else if (std::fabs(a - b) <= abs + rel * std::max(std::fabs(a), std::fabs(b))) {
      continue;
    }
    return "element " + std::to_string(i) + ": cpu " + std::to_string(a) + ", cuda " +
           std::to_string(b);
  }
  return "";
}

// Sets the GPU math settings (backend/math_mode.h) for a scope, then restores TF32 off and
// determinism on (the parity suite's settings).
struct MathScope {
  MathScope(bool tf32, bool deterministic) {
    ff::math_mode().tf32 = tf32;
    ff::math_mode().deterministic = deterministic;
  }
  ~MathScope() {
    ff::math_mode().tf32 = false;
    ff::math_mode().deterministic = true;
  }
  MathScope(const MathScope&) = delete;
  MathScope& operator=(const MathScope&) = delete;
};

}  // namespace fftest::parity
