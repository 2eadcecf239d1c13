// The step-state block: the values that change every training step, kept in backend memory so
// that a whole step runs without the host (a CUDA graph replays it unchanged). One block per
// model: a fixed header (StepState) followed by the loop's loss/metric sums and this step's
// partial sums, each `num_sums` doubles. Kernels read it (learning rate, bias corrections, loss
// scale, RNG stream) and small state kernels advance it (step_begin, step_end, prepare_update,
// finish_update, loss_scale_update). The host writes it between steps (copy_from_host) and reads
// it only at sync points (progress bar, batch callbacks, loop end, once per step under
// check-numerics). docs/backend-contract.md describes the rules.
//
// Errors found inside a step (a label outside the classes, a category index out of range, a
// NaN/Inf under check-numerics) are recorded here, the first one wins, and set `halted`: that
// step and every later step of the loop then change nothing (no update, no counter, no sums), so
// when the host reads the block it raises the error with the model exactly as it was before the
// failing step.
//
// The functions below are the rules every backend applies (the CPU calls them directly, CUDA
// from one-thread kernels); a CUDA kernel recording an error must take `halted` atomically.
#pragma once
#include <cmath>
#include <cstdint>

#include "backend/schedule_spec.h"
#include "core/host_device.h"

namespace ff {

// What stopped a loop.
enum class StepError : int32_t { None = 0, BadLabel = 1, BadCategory = 2, NonFinite = 3 };
// Where a non-finite value appeared (check-numerics).
enum class StepPass : int32_t { Forward = 0, Backward = 1, Loss = 2 };

struct alignas(8) StepState {
  // ---- counters ----
  int64_t step;          // training steps run: the random stream of dropout and augmentation
  int64_t rng_stream;    // the stream random layers draw from in the current pass
  int64_t iterations;    // optimizer updates applied
  int64_t loop_batch;    // batches finished in the current loop (an epoch, evaluate, predict)
  double samples;        // samples summed in the loop's sums
  // ---- optimizer (prepare_update) ----
  float base_learning_rate;  // the host-set rate, used when there is no schedule
  float learning_rate;       // this step's rate
  double bias_correction1;   // 1 - beta1^t and 1 - beta2^t, t = iterations + 1 (Adam)
  double bias_correction2;
  double norm_squares;       // global_clipnorm: this step's sum of squared gradients
  // ---- dynamic loss scaling ----
  float loss_scale;          // 1 without loss scaling
  int32_t loss_scaling;      // 1: the gradients carry loss_scale
  int64_t loss_scale_counter;  // finite steps since the scale last changed
  int64_t skipped_steps;     // steps skipped for non-finite gradients
  int32_t grads_finite;      // this step's gradients are all finite
  int32_t apply_update;      // this step's update applies (finite gradients, not halted)
  // ---- the first error ----
  int32_t halted;
  int32_t error;             // StepError
  int32_t error_where;       // output index (BadLabel), node index (BadCategory, NonFinite)
  int32_t error_pass;        // StepPass (NonFinite)
  int64_t error_batch;       // loop_batch of the failing step
  int64_t error_index;       // row in the batch (BadLabel), flat element index (BadCategory)
  double error_value;        // the label or value
  // ---- sums ----
  int32_t num_sums;          // doubles in each of the two arrays after the header
  int32_t reserved;
};

// The loop's sums (num_sums doubles right after the header) and this step's partial sums (the
// next num_sums): losses and metrics add into step_sums; step_end adds them into sums. Pointer
// arithmetic only (the host computes device addresses with these, never dereferencing).
FF_HD inline double* loop_sums(StepState* s) { return reinterpret_cast<double*>(s + 1); }
FF_HD inline const double* loop_sums(const StepState* s) {
  return reinterpret_cast<const double*>(s + 1);
}
FF_HD inline double* step_sums(StepState* s, int32_t num_sums) { return loop_sums(s) + num_sums; }
FF_HD inline const double* step_sums(const StepState* s, int32_t num_sums) {
  return loop_sums(s) + num_sums;
}
// Bytes of a block with `num_sums` sums (header, loop sums, step sums).
inline size_t step_state_bytes(int32_t num_sums) {
  return sizeof(StepState) + 2 * sizeof(double) * static_cast<size_t>(num_sums);
}

// The fields of an error, written by whoever took `halted` (record_step_error; a CUDA kernel
// takes it with an atomic compare-and-swap first, then writes these).
FF_HD inline void write_step_error(StepState* s, StepError error, int32_t where, int32_t pass,
                                   int64_t index, double value) {
  s->error = static_cast<int32_t>(error);
  s->error_where = where;
  s->error_pass = pass;
  s->error_batch = s->loop_batch;
  s->error_index = index;
  s->error_value = value;
}

// Records the first error of the loop and halts it.
FF_HD inline void record_step_error(StepState* s, StepError error, int32_t where, int32_t pass,
                                    int64_t index, double value) {
  if (s->halted) return;
  s->halted = 1;
  write_step_error(s, error, where, pass, index, value);
}

// Before a step: partial sums cleared, gradients presumed finite; a training step draws its
// random numbers from stream `step`.
FF_HD inline void state_step_begin(StepState* s, bool training) {
  double* partial = step_sums(s, s->num_sums);
  for (int32_t i = 0; i < s->num_sums; ++i) partial[i] = 0.0;
  s->grads_finite = 1;
  s->apply_update = 0;
  s->norm_squares = 0.0;
  if (training) s->rng_stream = s->step;
}

// After a step of `count` samples: unless halted, its sums count and a training step advances
// the step counter.
FF_HD inline void state_step_end(StepState* s, bool training, double count) {
  if (!s->halted) {
    double* sums = loop_sums(s);
    const double* partial = step_sums(s, s->num_sums);
    for (int32_t i = 0; i < s->num_sums; ++i) sums[i] += partial[i];
    s->samples += count;
    if (training) s->step += 1;
  }
  s->loop_batch += 1;
}

// What the optimizer step needs, computed from the block: whether to apply, the learning rate
// (the schedule at the iteration count before the step, as Keras 3) and Adam's bias corrections.
FF_HD inline void state_prepare_update(StepState* s, const ScheduleSpec& schedule, float beta1,
                                       float beta2) {
  s->apply_update = !s->halted && s->grads_finite;
  s->learning_rate = schedule.kind == ScheduleKind::None
                         ? s->base_learning_rate
                         : schedule_value(schedule, s->iterations);
  const double t = static_cast<double>(s->iterations + 1);
  s->bias_correction1 = 1.0 - std::pow(static_cast<double>(beta1), t);
  s->bias_correction2 = 1.0 - std::pow(static_cast<double>(beta2), t);
}

FF_HD inline void state_finish_update(StepState* s) {
  if (s->apply_update) s->iterations += 1;
}

// Dynamic loss scaling after the finite check: a finite step counts towards doubling the
// scale after `growth_steps` in a row; a non-finite one is skipped and halves it (never
// below 1). Nothing changes in a halted loop.
FF_HD inline void state_loss_scale_update(StepState* s, int64_t growth_steps) {
  if (s->halted || !s->loss_scaling) return;
  if (s->grads_finite) {
    if (++s->loss_scale_counter >= growth_steps) {
      const float grown = s->loss_scale * 2.0f;
      if (std::isfinite(grown)) s->loss_scale = grown;
      s->loss_scale_counter = 0;
    }
  } else {
    s->loss_scale = s->loss_scale * 0.5f < 1.0f ? 1.0f : s->loss_scale * 0.5f;
    s->loss_scale_counter = 0;
    s->skipped_steps += 1;
  }
}

// Check-numerics found a non-finite value at `node` in `pass`: an error, except for gradients
// that carry a loss scale above 1 (an overflow the loss scale handles by skipping the step).
FF_HD inline bool nonfinite_is_error(const StepState* s, StepPass pass) {
  return !(pass == StepPass::Backward && s->loss_scaling && s->loss_scale > 1.0f);
}
FF_HD inline void state_nonfinite(StepState* s, int32_t node, StepPass pass) {
  if (!nonfinite_is_error(s, pass)) return;
  record_step_error(s, StepError::NonFinite, node, static_cast<int32_t>(pass), -1, 0.0);
}

}  // namespace ff
