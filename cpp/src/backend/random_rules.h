// The per-element rules of the random kernel (Backend::random_values): the random ops of
// ff.random (normal, uniform, dropout) inside a model. Element i of a pass draws from the
// counter-based Philox stream (seed, stream, i), so the CPU and the GPU draw the same numbers:
// a training step's stream is the step-state block's rng_stream (the step: a new draw every
// step), an inference pass's is kInferenceStreams + the batch of the loop (a new draw every
// batch, the same for the same batch of another evaluate or predict).
#pragma once
#include <cstdint>

#include "backend/step_state.h"
#include "core/host_device.h"
#include "core/rng.h"

namespace ff {

enum class RandomKind : int32_t {
  Normal = 0,   // a + b * N(0, 1)
  Uniform = 1,  // a + (b - a) * U[0, 1)
  Dropout = 2,  // x / (1 - a) where U[0, 1) >= a, else 0 (the mask of rate a)
};

constexpr uint64_t kInferenceStreams = uint64_t{1} << 62;

FF_HD inline uint64_t random_stream(const StepState* s, bool training) {
  return training ? static_cast<uint64_t>(s->rng_stream)
                  : kInferenceStreams + static_cast<uint64_t>(s->loop_batch);
}

// Element i; `x` is read by Dropout only.
FF_HD inline float random_value(RandomKind kind, float a, float b, uint64_t seed, uint64_t stream,
                                uint64_t i, float x) {
  switch (kind) {
    case RandomKind::Normal:
      return a + b * Philox::normal(seed, stream, i);
    case RandomKind::Uniform:
      return a + (b - a) * Philox::uniform(seed, stream, i);
    case RandomKind::Dropout:
    default:
      return Philox::uniform(seed, stream, i) >= a ? x * (1.0f / (1.0f - a)) : 0.0f;
  }
}

}  // namespace ff
