// Optimizer: one fused update over the model's contiguous parameter buffer. The base applies,
// in Keras 3's order, gradient clipping (clipvalue, per-variable clipnorm or global_clipnorm)
// and decoupled weight decay (p -= p * weight_decay * lr), then the subclass's update rule.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  // schedule(iterations()) (during a step, the rate that step uses), as Keras's
  // optimizer.learning_rate.
  float learning_rate() const;
  // Throws TypeError when a schedule is set (Keras: not settable then).
  void set_learning_rate(float lr);
  // A schedule evaluated in C++ at each step (nullptr: the fixed learning_rate).
  void set_schedule(std::shared_ptr<const LearningRateSchedule> schedule);
  const std::shared_ptr<const LearningRateSchedule>& schedule() const { return schedule_; }
  const OptimizerOptions& options() const { return options_; }
  int64_t iterations() const { return iterations_; }
  // Restores the step count of a saved optimizer (Adam's bias correction depends on it).
  void set_iterations(int64_t iterations);

  // Allocates the state buffers (zeroed) for `n` parameters. Called once by compile.
  void build(Backend& be, int64_t n);
  bool built() const { return built_; }
  // One step over the parameters in `segments` (the trainable variables: frozen layers' ranges
  // are left out and keep their values); grads may be modified (clipping).
  void apply(Backend& be, Tensor& params, Tensor& grads, const std::vector<Segment>& segments);
  // Names and buffers of the optimizer state (for get/set of optimizer variables).
  virtual std::vector<std::string> slot_names() const = 0;
  std::vector<Tensor>& slots() { return slots_; }

 protected:
  // The update rule over n parameters starting at p; slot(i) points at the same offset of
  // state buffer i. iterations() already counts this step (t = iterations()).
  virtual void update(Backend& be, float* p, const float* g, int64_t n) = 0;
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
  bool applying_ = false;  // inside apply(): learning_rate() is step_lr_
  float step_lr_ = 0.0f;
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
