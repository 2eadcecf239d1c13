// Optimizer: one fused update over the model's contiguous parameter buffer. The base applies,
// in Keras 3's order, gradient clipping (clipvalue, per-variable clipnorm or global_clipnorm)
// and decoupled weight decay (p -= p * weight_decay * lr), then the subclass's update rule.
// Everything is enqueued as kernels that read this step's learning rate, bias corrections and
// whether to apply at all from the model's step-state block (backend/step_state.h): nothing is
// decided on the host per step. The host keeps mirrors of the iteration count and the rate for
// Python (optimizer.iterations, learning_rate), synchronised by the model at its sync points.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "core/tensor.h"
#include "optimizers/schedules/learning_rate_schedule.h"

namespace ff {

struct OptimizerOptions {
  float learning_rate = 0.001f;
  float clipnorm = 0.0f;         // 0: off
  float clipvalue = 0.0f;        // 0: off
  float global_clipnorm = 0.0f;  // 0: off
  float weight_decay = 0.0f;     // 0: off
};

// One variable inside the flat buffer: offset and element count.
using Segment = std::pair<int64_t, int64_t>;

class Optimizer {
 public:
  Optimizer(std::string name, const OptimizerOptions& options);
  virtual ~Optimizer() = default;

  const std::string& name() const { return name_; }
  // The learning rate of the next step: the fixed value, or with a schedule
  // schedule(iterations()), as Keras's optimizer.learning_rate.
  float learning_rate() const;
  // The host-set rate (the fixed value; with a schedule its initial rate is unused).
  float base_learning_rate() const { return options_.learning_rate; }
  // Throws TypeError when a schedule is set (Keras: not settable then).
  void set_learning_rate(float lr);
  // A schedule evaluated in C++ at each step (nullptr: the fixed learning_rate).
  void set_schedule(std::shared_ptr<const LearningRateSchedule> schedule);
  const std::shared_ptr<const LearningRateSchedule>& schedule() const { return schedule_; }
  const OptimizerOptions& options() const { return options_; }
  int64_t iterations() const { return iterations_; }
  // Restores the step count of a saved optimizer (Adam's bias correction depends on it).
  // Also how the model mirrors the count its step-state block holds.
  void set_iterations(int64_t iterations);
  // Bumped by every host-side change the step-state block must pick up (rate, iterations).
  uint64_t host_version() const { return host_version_; }

  // Allocates the state buffers (zeroed) for `n` parameters. Called once by compile.
  void build(Backend& be, int64_t n);
  bool built() const { return built_; }
  // Enqueues one step over the parameters in `segments` (the trainable variables: frozen
  // layers' ranges are left out and keep their values): prepare_update on `state`, clipping
  // (grads may be modified), weight decay, the update rule, finish_update. Applies nothing when
  // the state says so (halted loop, skipped loss-scaled step).
  void enqueue_update(Backend& be, StepState* state, Tensor& params, Tensor& grads,
                      const std::vector<Segment>& segments);
  // One step outside a model (tests, tools): enqueue_update with a step-state block of its own
  // holding this optimizer's iterations and rate; iterations() advances.
  void apply(Backend& be, Tensor& params, Tensor& grads, const std::vector<Segment>& segments);
  // The schedule as a kernel reads it (piecewise arrays copied to backend memory once).
  const ScheduleSpec& kernel_schedule(Backend& be);
  // Names and buffers of the optimizer state (for get/set of optimizer variables).
  virtual std::vector<std::string> slot_names() const = 0;
  std::vector<Tensor>& slots() { return slots_; }

 protected:
  // Enqueues the update rule over n parameters starting at p; slot(i) points at the same offset
  // of state buffer i. The kernels read the rate (and Adam's bias corrections) from `state`.
  virtual void update(Backend& be, float* p, const float* g, int64_t n,
                      const StepState* state) = 0;
  // (beta_1, beta_2) for the bias corrections prepare_update computes (Adam; others 0).
  virtual std::pair<float, float> betas() const { return {0.0f, 0.0f}; }
  // Initial value of slot i (Adagrad starts its accumulator at 0.1).
  virtual float slot_initial_value(size_t /*i*/) const { return 0.0f; }
  float* slot(size_t i) { return slots_[i].data<float>() + slot_offset_; }

 private:
  std::string name_;
  OptimizerOptions options_;
  int64_t iterations_ = 0;
  bool built_ = false;
  std::vector<Tensor> slots_;
  int64_t slot_offset_ = 0;  // offset of the range update() is working on
  std::shared_ptr<const LearningRateSchedule> schedule_;
  uint64_t host_version_ = 0;
  // kernel_schedule(): the spec with piecewise arrays in backend memory, for schedule_.
  const LearningRateSchedule* kernel_schedule_for_ = nullptr;
  ScheduleSpec kernel_schedule_;
  Tensor kernel_boundaries_, kernel_values_;
};

struct SgdOptions { float momentum = 0.0f; bool nesterov = false; };
struct AdamOptions { float beta_1 = 0.9f, beta_2 = 0.999f, epsilon = 1e-7f; bool amsgrad = false; };
struct RmspropOptions { float rho = 0.9f, momentum = 0.0f, epsilon = 1e-7f; bool centered = false; };
struct AdagradOptions { float initial_accumulator_value = 0.1f, epsilon = 1e-7f; };

// Factories, one per optimizer file.
std::unique_ptr<Optimizer> make_sgd(const OptimizerOptions& o, const SgdOptions& s);
std::unique_ptr<Optimizer> make_adam(const OptimizerOptions& o, const AdamOptions& a);
// Adam's update under another name (AdamW shares it; only the weight decay default differs).
std::unique_ptr<Optimizer> make_adam_named(const char* name, const OptimizerOptions& o,
                                           const AdamOptions& a);
std::unique_ptr<Optimizer> make_adamw(const OptimizerOptions& o, const AdamOptions& a);
std::unique_ptr<Optimizer> make_rmsprop(const OptimizerOptions& o, const RmspropOptions& r);
std::unique_ptr<Optimizer> make_adagrad(const OptimizerOptions& o, const AdagradOptions& a);

}  // namespace ff
