// Error types of the C++ core. Each maps to the Python exception a Keras user expects
// (see cpp/bindings/module.cpp): ValueError, TypeError, FloatingPointError, RuntimeError,
// ff.errors.ResourceExhaustedError.
#pragma once
#include <stdexcept>
#include <string>

namespace ff {

// Bad argument value or shape: Python ValueError.
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Wrong dtype or kind of object: Python TypeError.
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// NaN or Inf found by check-numerics: Python FloatingPointError.
struct NumericsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A device ran out of memory (a GPU allocation failed): Python ff.errors.ResourceExhaustedError.
// The message names what was being allocated (the layer, the batch size); nothing is left
// half-allocated, so the model stays usable with a smaller batch.
struct ResourceExhaustedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Raised by the training loop when a Python hook asked to stop (e.g. KeyboardInterrupt).
struct InterruptedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A failure among the workers of a distributed run (cpp/src/distribute/): Python's
// ff.errors.UnavailableError (a worker died or left), DeadlineExceededError (a worker did not
// answer within the timeout) or AbortedError (the workers disagree: diverged weights, different
// programs), TensorFlow's classes for the same failures of its collectives.
struct DistributedError : std::runtime_error {
  enum class Kind { Unavailable, DeadlineExceeded, Aborted };
  DistributedError(Kind k, const std::string& what) : std::runtime_error(what), kind(k) {}
  Kind kind;
};

}  // namespace ff
