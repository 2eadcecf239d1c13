// The process-wide math settings of the GPU kernels (ff.config.experimental, as TensorFlow's):
// whether float32 GEMMs and convolutions may run on TF32 tensor cores, and whether only
// deterministic algorithms may be chosen. The CPU backend's results do not depend on them.
//
// The settings live in the core (math_mode.cpp). The CUDA backend library may not call the core
// (it is loaded with RTLD_LOCAL and linked with --no-undefined), so the loader hands it this
// object's address when it loads it (forgeflow_cuda_bind_math_mode); its engines read the
// settings at call time, and the choice is part of every cached plan's key (a plan made under
// one setting is never used under the other).
#pragma once
#include <atomic>
#include <tuple>

namespace ff {

// TensorFlow's defaults: TF32 allowed (tf.config.experimental.tensor_float_32_execution_enabled()
// is True), and, forgeflow's own default, deterministic algorithms only (TensorFlow's default is
// non-deterministic; tf.config.experimental.enable_op_determinism() turns it on).
struct MathMode {
  std::atomic<bool> tf32{true};
  std::atomic<bool> deterministic{true};
};

// A snapshot of the settings, read once per call: what a cached plan is keyed by.
struct MathChoice {
  bool tf32 = false;
  bool deterministic = true;
  bool operator<(const MathChoice& o) const {
    return std::tie(tf32, deterministic) < std::tie(o.tf32, o.deterministic);
  }
  bool operator==(const MathChoice& o) const {
    return tf32 == o.tf32 && deterministic == o.deterministic;
  }
};

inline MathChoice read_math_mode(const MathMode& m) {
  return {m.tf32.load(std::memory_order_relaxed), m.deterministic.load(std::memory_order_relaxed)};
}

// The process's settings (defined in the core; not callable from the CUDA library).
MathMode& math_mode();

}  // namespace ff
