// TakeOp: ff.ops.take(x, indices, axis), NumPy's and Keras 3's gather (docs/ops.md). x and the
// indices are each a graph input or a constant; the indices are floats holding whole numbers in
// [-size, size) of the axis (negative ones count from the end). axis None flattens x first. The
// forward is the backend's op_take, the backward its scatter-add op_take_backward (deterministic:
// no atomics); the indices get a zero gradient. An index out of range is an error naming it and
// the axis size: at build for constant indices, recorded in the step state (and raised by the
// model or the eager runner) for indices computed in the graph. In a model the batch axis stays
// first: x is not gathered along (or flattened over) its batch axis, and batched indices (the
// embedding-lookup pattern) take from an x without a batch axis (a weight or constant) along
// axis 0.
#pragma once
#include "layers/ops/op_layer.h"

namespace ff {

class TakeOp final : public OpLayer {
 public:
  // operands: x then the indices; flatten: axis=None (axis ignored).
  TakeOp(std::string name, uint64_t seed, std::vector<OpOperand> operands, int64_t axis,
         bool flatten);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;
  std::string recorded_error_message(double value, int64_t index,
                                     const Shape& input_shape) const override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 private:
  // outer x size x inner: x's layout around the gathered axis (from x's run-time shape).
  void layout(const Shape& x, int64_t& outer, int64_t& size, int64_t& inner) const;
  std::string axis_text() const;
  int64_t axis_arg_;
  bool flatten_;
  int axis_ = 0;
  int64_t axis_size_ = 0;
};

}  // namespace ff
