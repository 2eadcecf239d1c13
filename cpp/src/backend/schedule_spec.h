// Learning-rate schedules as data: a ScheduleSpec describes one of Keras 3's schedules and
// schedule_value() evaluates it at an optimizer step. The host (optimizer.learning_rate) and the
// backends' prepare-update kernels evaluate the same function, so the rate a step uses is never
// passed in from the host. PiecewiseConstantDecay's arrays live in the memory of whoever
// evaluates the spec (host vectors for the host, backend memory for a kernel).
// Formulas follow keras.optimizers.schedules, computed in float32 like Keras.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace ff {

enum class ScheduleKind : int32_t { None, Exponential, Piecewise, Cosine, InverseTime };

struct ScheduleSpec {
  ScheduleKind kind = ScheduleKind::None;
  // Exponential / InverseTime: initial rate, decay_steps, decay_rate.
  // Cosine: initial rate, decay_steps, alpha, warmup_target, warmup_steps.
  float initial = 0.0f, decay_steps = 1.0f, rate = 0.0f, warmup_target = 0.0f,
        warmup_steps = 0.0f;
  int32_t staircase = 0;  // Exponential / InverseTime
  int32_t warmup = 0;     // Cosine: has a warmup_target
  // Piecewise: `pieces` values and pieces - 1 increasing boundaries.
  int32_t pieces = 0;
  const double* boundaries = nullptr;
  const float* values = nullptr;
};

FF_HD inline float cosine_decay_from(const ScheduleSpec& s, float step, float from) {
  const float pi = 3.14159265358979323846f;
  const float fraction = step / s.decay_steps;
  const float cosine = 0.5f * (1.0f + std::cos(pi * fraction));
  return from * ((1.0f - s.rate) * cosine + s.rate);
}

// The rate at optimizer step `step` (0 for the first update).
FF_HD inline float schedule_value(const ScheduleSpec& s, int64_t step) {
  switch (s.kind) {
    case ScheduleKind::Exponential: {
      float p = static_cast<float>(step) / s.decay_steps;
      if (s.staircase) p = std::floor(p);
      return s.initial * std::pow(s.rate, p);
    }
    case ScheduleKind::InverseTime: {
      float p = static_cast<float>(step) / s.decay_steps;
      if (s.staircase) p = std::floor(p);
      return s.initial / (1.0f + s.rate * p);
    }
    case ScheduleKind::Cosine: {
      float t = static_cast<float>(step);
      if (!s.warmup) return cosine_decay_from(s, t < s.decay_steps ? t : s.decay_steps, s.initial);
      const float end = s.decay_steps + s.warmup_steps;
      t = t < end ? t : end;
      if (t < s.warmup_steps) return (s.warmup_target - s.initial) * (t / s.warmup_steps) + s.initial;
      return cosine_decay_from(s, t - s.warmup_steps, s.warmup_target);
    }
    case ScheduleKind::Piecewise: {
      // The first boundary >= step is the piece (a step equal to a boundary stays in it).
      const double t = static_cast<double>(step);
      int32_t i = 0;
      while (i < s.pieces - 1 && s.boundaries[i] < t) ++i;
      return s.values[i];
    }
    case ScheduleKind::None:
      break;
  }
  return s.initial;
}

}  // namespace ff
