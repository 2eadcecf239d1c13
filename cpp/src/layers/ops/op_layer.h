// OpLayer: the base of the op layers, the graph nodes that ff.ops calls on symbolic tensors
// become (docs/ops.md). One subclass per op family (elementwise_op, reduce_op, shape_op,
// matmul_op), each computing its forward and backward through the backend's kernels only.
//
// An op's operands are graph inputs (the node's input values, in order), scalars (by value) or
// constant arrays (their values kept here and put on a device at the first forward there: the
// warm-up step of a captured loop runs eagerly). The same layer runs in two modes:
//   - in a model (build/build_multi): shapes carry the batch dimension None first, and the result
//     must keep it first (the graph's values are all batch-major): an op over the batch axis
//     (a reduction over axis 0, a transpose moving it) is refused with a ValueError;
//   - eagerly (build_eager, ff.ops on arrays): concrete shapes of any rank, scalars included,
//     run once by the bindings' run_op.
// Shapes are resolved from every operand's shape by infer(); forward and backward work from the
// tensors' actual shapes (the batch size of the step).
#pragma once
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "layers/layer.h"

namespace ff {

struct OpOperand {
  enum class Kind : uint8_t { Input, Scalar, Constant };
  Kind kind = Kind::Input;
  // Input: whether the value carries the batch axis first (false: a custom layer's weight, or a
  // value computed from weights alone; its shape is exact, and a broadcast against a batched
  // operand works as a constant's).
  bool batched = true;
  float scalar = 0.0f;        // Scalar
  Shape shape;                // Constant
  std::vector<float> values;  // Constant, row-major
  static OpOperand input() { return {}; }
  static OpOperand unbatched_input() {
    OpOperand o;
    o.batched = false;
    return o;
  }
  static OpOperand of_scalar(float v) {
    OpOperand o;
    o.kind = Kind::Scalar;
    o.scalar = v;
    return o;
  }
  static OpOperand constant(Shape shape, std::vector<float> values);
};

class OpLayer : public Layer {
 public:
  // `op` is the ff.ops name ("add", "sum", ...); the class name is "ff.ops.<op>".
  OpLayer(std::string name, std::string op, uint64_t seed, std::vector<OpOperand> operands);
  const std::string& op() const { return op_; }
  const std::vector<OpOperand>& operands() const { return operands_; }
  // Graph inputs among the operands.
  int input_count() const { return input_count_; }
  // 1, or 0 ("two or more": Model::add_node builds through build_multi).
  int num_inputs() const override { return input_count_ == 1 ? 1 : 0; }
  bool input_batched(size_t i) const override { return input_batched_.at(i); }
  // Marks input i as a value without a batch axis (a weight, or computed from weights alone),
  // before the op is built (the single-input ops make their operand themselves).
  void set_input_batched(size_t i, bool batched);
  // In a model, a result is batched when some input is (eager ops: their shapes are concrete),
  // unless the op reduces the batch axis (ReduceOp).
  bool output_batched() const override { return batched_; }
  Shape build_multi(const std::vector<Shape>& input_shapes) override;
  // Eager mode: the inputs' concrete shapes (any rank). Returns the result's shape.
  Shape build_eager(const std::vector<Shape>& input_shapes);
  bool eager() const { return eager_; }
  // Whether forward uses scratch buffers (the eager runner allocates them only then).
  virtual bool forward_uses_scratch() const { return false; }

  std::vector<Shape> scratch_shapes(int64_t batch) const override;
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
  // Every op implements the multi-input forms (the single-input ones forward to them); dxs[i]
  // null: input i needs no gradient. Every non-null dx is overwritten.
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override = 0;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override = 0;

 protected:
  Shape compute_output_shape(const Shape& in) override;
  // The result's shape from every operand's shape (an input's, a constant's, {} for a scalar);
  // in a model, an input's dimension 0 is None. Raise ValueError through label().
  virtual Shape infer(const std::vector<Shape>& operand_shapes) = 0;
  // Scratch buffers for concrete operand and result shapes (default none).
  virtual std::vector<Shape> op_scratch(const std::vector<Shape>& /*operand_shapes*/,
                                        const Shape& /*out*/) const {
    return {};
  }
  // Every operand's shape at run time (inputs from xs).
  std::vector<Shape> operand_shapes(const std::vector<Tensor>& xs) const;
  // Operand k's data: its input's tensor, its constant's copy on be's device, or null (scalar).
  const float* operand_data(size_t k, const std::vector<Tensor>& xs, Backend& be) const;
  // The position of operand k among the inputs, or -1.
  int input_index(size_t k) const { return input_index_[k]; }
  // "ff.ops.add": how errors name the op.
  std::string label() const { return "ff.ops." + op_; }
  // Shapes of the operands as build saw them (a model's: batch None).
  const std::vector<Shape>& built_operand_shapes() const { return built_operand_shapes_; }
  // True for an op in a model on at least one batched input: dimension 0 of its result is the
  // batch, which it must keep first (eager ops and ops on weights alone have concrete shapes).
  bool batched() const { return batched_; }

 private:
  Shape resolve(const std::vector<Shape>& input_shapes);
  std::string op_;
  std::vector<OpOperand> operands_;
  std::vector<int> input_index_;
  std::vector<bool> input_batched_;  // per input (graph input operands, in order)
  int input_count_ = 0;
  bool eager_ = false;
  bool batched_ = true;
  std::vector<Shape> built_operand_shapes_;
  // Constants on each device they were used on (operand order; undefined for non-constants).
  mutable std::mutex constants_mutex_;
  mutable std::vector<std::pair<Device*, std::vector<Tensor>>> constants_;
};

// Runs `op` once on `inputs` (tensors of any shapes on be's device: ff.ops on arrays): builds it
// for their shapes, runs its forward into a new tensor and returns it; an error the op recorded
// in its step state (one_hot's bad index) is raised as ValueError.
Tensor run_eager(OpLayer& op, Backend& be, const std::vector<Tensor>& inputs);

}  // namespace ff
