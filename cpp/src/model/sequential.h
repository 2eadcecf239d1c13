// Sequential: a stack of layers with one contiguous parameter buffer (and one gradient buffer
// of the same layout), the compiled loss/optimizer/metrics, and the C++ loops for fit (one epoch
// at a time), evaluate and predict. The loops run without touching Python; a BatchHook is the
// only way out, called every batch when a callback needs it, otherwise at most every
// `hook_interval_s` seconds (progress bar, Ctrl-C).
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/layer.h"
#include "losses/loss.h"
#include "metrics/metric.h"
#include "optimizers/optimizer.h"

namespace ff {

// Host data handed in by the caller (e.g. a NumPy array): row-major, first dimension = samples.
struct HostArray {
  const void* data = nullptr;
  Shape shape;
  DType dtype = DType::Float32;
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  size_t row_bytes() const {
    int64_t n = 1;
    for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
    return static_cast<size_t>(n) * dtype_size(dtype);
  }
};

// (name, value) pairs: "loss" first, then the metrics in compile order.
using Logs = std::vector<std::pair<std::string, double>>;

// Called between batches. `begin` is true before a batch (only when asked for), false after.
// `step` counts batches done in this loop. Return true to stop the loop after this batch.
using BatchHook = std::function<bool(bool begin, int64_t step, const Logs& logs)>;

struct LoopOptions {
  int64_t batch_size = 32;
  BatchHook hook;                 // may be empty
  bool hook_every_batch = false;  // a callback overrides a per-batch hook
  bool hook_batch_begin = false;  // ... including a batch-begin hook
  double hook_interval_s = 0.05;  // otherwise: at most this often
};

class Sequential {
 public:
  explicit Sequential(Backend& backend);

  void add(std::shared_ptr<Layer> layer);
  void pop();
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }

  // Resolves every layer's shapes for `input_shape` (batch dimension ignored) and allocates and
  // initialises the parameters. Rebuilding with the same shape is a no-op.
  void build(const Shape& input_shape);
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }
  // Trainable parameters in the model (0 when it has none; the buffer never has 0 elements).
  int64_t param_count() const {
    int64_t n = 0;
    for (const auto& seg : segments_) n += seg.second;
    return n;
  }
  // Non-trainable parameters (moving statistics, adapted constants).
  int64_t state_count() const {
    int64_t n = 0;
    for (const auto& ref : param_refs_)
      if (!ref.spec.trainable) n += ref.value.numel();
    return n;
  }

  void compile(std::shared_ptr<Loss> loss, std::shared_ptr<Optimizer> optimizer,
               std::vector<std::shared_ptr<Metric>> metrics);
  bool compiled() const { return static_cast<bool>(loss_); }
  Loss* loss() const { return loss_.get(); }
  Optimizer* optimizer() const { return optimizer_.get(); }
  std::vector<std::string> metric_names() const;

  // Loops. x and y must have as many rows as `order` indexes into (train) or as samples.
  Logs train_epoch(const HostArray& x, const HostArray& y, const std::vector<int64_t>& order,
                   int64_t epoch, const LoopOptions& opts);
  Logs evaluate(const HostArray& x, const HostArray& y, const LoopOptions& opts);
  // Writes rows(x) * prod(output_shape[1:]) floats to `out`.
  void predict(const HostArray& x, float* out, const LoopOptions& opts);
  // One forward pass over a batch (model(x, training=...)); no parameter update.
  void call(const HostArray& x, bool training, float* out);

  // Checks x against the model input (Keras-style error naming the first layer).
  void check_input(const Shape& x_shape) const;
  // Target shape the loss will use for y (raises with the loss's explanation).
  Shape check_targets(const Shape& x_shape, const Shape& y_shape, DType y_dtype) const;

  // Parameters in layer order: (layer index, param spec, view).
  struct ParamRef {
    size_t layer;
    ParamSpec spec;
    Tensor value;
  };
  const std::vector<ParamRef>& parameters() const { return param_refs_; }
  void get_parameter(size_t i, float* host_out) const;
  void set_parameter(size_t i, const float* host_in);

  uint64_t train_steps() const { return train_steps_; }
  // Deterministic permutation of [0, n) for epoch `epoch` of a fit seeded with `seed`.
  static std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch);

 private:
  // Buffers for one batch size and mode, views sized down for smaller batches.
  struct Plan {
    int64_t capacity = 0;
    Tensor input;
    std::vector<Tensor> outputs, grads;
    std::vector<std::vector<Tensor>> scratch;
    Tensor target;
    Shape target_row_shape;
    DType target_dtype = DType::Float32;
  };
  // with_target: the loops that compute a loss (fit, evaluate) need a target buffer.
  Plan& plan_for(int64_t batch, bool training, bool with_target, const Shape& target_row_shape,
                 DType target_dtype);
  Plan allocate_plan(int64_t capacity, bool training, bool with_target,
                     const Shape& target_row_shape, DType target_dtype);
  static Plan view_plan(const Plan& full, int64_t batch);

  void load_batch(Plan& p, const HostArray& x, const HostArray* y, const int64_t* indices,
                  int64_t count);
  void forward(Plan& p, const StepContext& ctx);
  void backward(Plan& p, const StepContext& ctx);
  // Loss and metrics on a loaded, forwarded batch; grads when training. acc: [loss, metrics...].
  // A bad label is reported at sample indices[row], or first_row + row without indices.
  void loss_and_metrics(Plan& p, int64_t count, bool training, double* acc,
                        const int64_t* indices, int64_t first_row, const StepContext& ctx);
  Logs make_logs(const double* acc, double samples) const;
  void numerics_error(const std::string& what, const std::string& pass, const Tensor& t,
                      const StepContext& ctx) const;
  Logs run_eval_loop(const HostArray& x, const HostArray& y, const LoopOptions& opts);

  Backend* backend_;
  std::vector<std::shared_ptr<Layer>> layers_;
  bool built_ = false;
  Shape input_shape_, output_shape_;
  Tensor params_, grads_, state_;
  std::vector<ParamRef> param_refs_;
  std::vector<Segment> segments_;
  std::vector<bool> needs_input_grad_;  // per layer: is dL/dx of this layer needed?
  std::shared_ptr<Loss> loss_;
  std::shared_ptr<Optimizer> optimizer_;
  std::vector<std::shared_ptr<Metric>> metrics_;
  Plan train_plan_, infer_plan_;
  Plan train_view_, infer_view_;  // cached views for the last batch size
  int64_t train_view_batch_ = -1, infer_view_batch_ = -1;
  uint64_t train_steps_ = 0;
  // model(x, training=True) calls: each draws a fresh dropout mask from its own stream range.
  uint64_t training_calls_ = 0;
};

}  // namespace ff
