// Layer: the base of every layer. A layer resolves its shapes in build() (before anything is
// allocated), declares its parameters (the model allocates them in one contiguous buffer and
// hands back views), and implements forward and backward through the backend interface only.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "core/tensor.h"

namespace ff {

// A parameter a layer asks the model for. Trainable ones live in the model's contiguous
// parameter buffer (updated by the optimizer, with a gradient); non-trainable ones (moving
// statistics, adapted normalisation constants) in a separate state buffer, without a gradient:
// their grads() entry is an undefined Tensor.
struct ParamSpec {
  std::string name;         // "kernel", "bias", "moving_mean"
  Shape shape;              // fully known
  std::string initializer;  // Keras initializer name
  bool trainable = true;
  // Under mixed precision, whether the layer computes with this weight rounded to its 16-bit
  // compute dtype (Keras's autocast of variables). BatchNormalization keeps gamma/beta float32.
  bool autocast = true;
  // The weight's regularizer (ff.regularizers L1/L2/L1L2): l1 * sum|w| + l2 * sum w^2 is added
  // to the training loss, and its gradient to the weight's, while the weight is trained.
  float l1 = 0.0f, l2 = 0.0f;
};

// What one forward/backward call knows about where it runs.
struct StepContext {
  Backend* backend = nullptr;
  bool training = false;
  // The model's step-state block (backend memory; backend/step_state.h): random layers draw
  // from its stream, kernels record errors in it. Never read by the host in a layer.
  StepState* state = nullptr;
  int64_t epoch = -1;   // 0-based epoch inside fit, -1 outside it (messages)
  int64_t batch = -1;   // 0-based step inside the epoch, -1 outside fit (messages)
  int32_t node = -1;    // the graph node being run (errors recorded in the state name it)
};

class Layer {
 public:
  Layer(std::string name, std::string class_name, uint64_t seed);
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  const std::string& class_name() const { return class_name_; }
  uint64_t seed() const { return seed_; }

  // Resolves the output shape for `input_shape` (batch dimension None) or raises ValueError
  // naming this layer with the expected and received shapes, or with the size limit (core/
  // shape.h) that an input, the output or a weight would exceed (compute_output_shape computes
  // with the checked size_mul/size_add; their overflow errors get the layer's name here).
  // Building twice with the same shape is a no-op; with another shape it is an error (layers
  // are not silently rebuilt).
  Shape build(const Shape& input_shape);
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }

  // Raises the Keras-style incompatibility error when a runtime input does not match the
  // built input shape. Nothing broadcasts.
  void check_input(const Shape& actual) const;

  // ---- values without a batch axis (a custom layer's weights and what ops compute from them
  // alone; Model::add_weight) ----
  // Whether input i carries the batch axis first (build then treats dimension 0 as None). Only
  // ff.ops layers read values without one (OpOperand::batched); every other layer takes batched
  // inputs (Model::add_node refuses the others, naming the layer).
  virtual bool input_batched(size_t /*i*/) const { return true; }
  // Whether the output carries the batch axis: true unless every input is without one.
  virtual bool output_batched() const { return true; }

  virtual std::vector<ParamSpec> param_specs() const { return {}; }
  // Extra per-batch buffers the layer needs (e.g. pre-activations), for a batch of `batch`.
  virtual std::vector<Shape> scratch_shapes(int64_t /*batch*/) const { return {}; }
  // True when the output is the input's data reshaped (no compute forward or backward).
  virtual bool aliases_input(bool /*training*/) const { return false; }

  // y is preallocated with the output shape for this batch.
  virtual void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
                       const StepContext& ctx) = 0;
  // Writes parameter gradients into grads() (overwriting) and dx unless dx is null (the first
  // layer's input gradient is never needed, so its GEMM is skipped).
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                        std::vector<Tensor>& scratch, const StepContext& ctx) = 0;

  // The message for an error a kernel of this layer recorded in the step state (e.g. a category
  // index out of range): `value` and its flat `index` in the batch's input of `input_shape`.
  virtual std::string recorded_error_message(double value, int64_t index,
                                             const Shape& input_shape) const;

  // ---- several inputs (merge layers: Add, Concatenate, ...) ----
  // How many inputs the layer takes: 1, or 0 for "two or more" (merge layers).
  virtual int num_inputs() const { return 1; }
  // Multi-input forms used by the model's graph engine. Single-input layers keep the defaults,
  // which forward to build/forward/backward; merge layers override all four.
  virtual Shape build_multi(const std::vector<Shape>& input_shapes);
  virtual void forward_multi(const std::vector<Tensor>& xs, Tensor& y,
                             std::vector<Tensor>& scratch, const StepContext& ctx);
  // dxs[i] is null when input i needs no gradient.
  virtual void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                              const StepContext& ctx);
  // The input shapes the layer was built for (one per input).
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }

  // Views into the model's parameter and gradient buffers, in param_specs() order. Virtual so
  // that a layer holding values for its weights before it is built (an adapted Normalization)
  // can write them once they exist; overrides call Layer::bind first.
  virtual void bind(std::vector<Tensor> params, std::vector<Tensor> grads);
  // Weights of a built layer outside any model (Keras's layer.build(shape)): one tensor per
  // param_specs() entry on `device`, initialised as a model would (same seeds), without
  // gradients. A model the layer is added to later starts from these values (Model::finalize
  // copies a layer's current weights), so weights set here carry over. No-op when the layer
  // already has weights.
  void create_weights(Device& device);
  std::vector<Tensor>& params() { return params_; }
  std::vector<Tensor>& grads() { return grads_; }
  // The float32 weights themselves (get_weights/set_weights). The same as params() except under
  // mixed precision, where params() are the model's 16-bit-rounded copies the layer computes
  // with. A write through weights() must be followed by weights_written().
  std::vector<Tensor>& weights() { return weights_.empty() ? params_ : weights_; }
  void set_weight_views(std::vector<Tensor> weights) { weights_ = std::move(weights); }
  // The lock of the model whose buffers the layer's weights live in (null before a model is
  // built): weight access from outside takes it, so it never races that model's loops.
  void set_model_mutex(std::shared_ptr<std::recursive_mutex> m) { model_mutex_ = std::move(m); }
  const std::shared_ptr<std::recursive_mutex>& model_mutex() const { return model_mutex_; }
  void weights_written() { ++weights_version_; }
  uint64_t weights_version() const { return weights_version_; }

  bool trainable = true;

  // ---- weight regularizers (ff.regularizers: kernel_regularizer, bias_regularizer, ...) ----
  // Sets the L1/L2 factors of the weight named `param` (a ParamSpec name, "kernel"); factors of
  // 0 remove it. Models apply them (Model::finalize copies them into the ParamSpecs they lay out).
  void set_weight_regularizer(const std::string& param, float l1, float l2);
  // The factors set for `param` (l1, l2), 0 and 0 when none.
  std::pair<float, float> weight_regularizer(const std::string& param) const;
  const std::vector<std::pair<std::string, std::pair<float, float>>>& weight_regularizers() const {
    return regularizers_;
  }

  // ---- mixed precision (ff.mixed_precision) ----
  // The dtype the layer computes in: Float32, or BFloat16/Float16 under a mixed policy (its
  // weights stay float32; the model rounds inputs, weights, outputs and gradients at the layer
  // boundary). Set before the layer is built.
  DType compute_dtype() const { return compute_dtype_; }
  void set_compute_dtype(DType dtype);
  // True when the output stays float32 under a 16-bit policy: a softmax output (probabilities
  // feeding a loss) is computed and kept in float32, as the issue and Keras's guide require.
  virtual bool float32_output() const { return false; }
  // True when the layer also runs on 16-bit buffers (Backend::half_storage()): a 16-bit layer's
  // forward/backward then receive x, y, dy and dx as BFloat16/Float16 tensors (dispatching on
  // x.dtype()), its autocast weights as 16-bit views, its weight gradients still float32. The
  // model converts at the boundary to layers that do not (they see float32 buffers holding
  // 16-bit values, as on a backend without 16-bit storage).
  virtual bool supports_half_io() const { return false; }
  // True when the scratch buffers hold values of the layer's io dtype (16-bit on 16-bit
  // buffers, like the pre-activations of Dense and the convolutions); false when they hold
  // float32 whatever the io dtype (BatchNormalization's statistics).
  virtual bool scratch_follows_io() const { return false; }

 protected:
  // Validates the input shape and returns the output shape; raise through incompatible().
  virtual Shape compute_output_shape(const Shape& input_shape) = 0;
  [[noreturn]] void incompatible(const std::string& expected, const Shape& found) const;
  // Merge layers record their resolved shapes through this (build_multi implementations).
  // Checks the size limits as build() does.
  void set_built(const std::vector<Shape>& inputs, const Shape& output);
  // 'Layer "name" (Class) on input shape=(None, 4)': the start of a build-time size error.
  std::string describe(const std::vector<Shape>& inputs) const;
  // The size limits of core/shape.h, checked by build() and set_built() once the shapes are
  // resolved and before anything is allocated: every input and the output at most
  // kMaxSampleElements per sample, every weight at most kMaxParamElements; ValueError naming
  // the layer, the shapes and the limit otherwise.
  void check_sizes(const std::vector<Shape>& inputs, const Shape& output) const;

  std::vector<Tensor> params_, grads_;
  std::vector<Tensor> weights_;
  std::vector<std::pair<std::string, std::pair<float, float>>> regularizers_;
  uint64_t weights_version_ = 0;
  std::shared_ptr<std::recursive_mutex> model_mutex_;

 private:
  std::string name_, class_name_;
  uint64_t seed_;
  bool built_ = false;
  DType compute_dtype_ = DType::Float32;
  Shape input_shape_, output_shape_;
  std::vector<Shape> input_shapes_;
};

}  // namespace ff
