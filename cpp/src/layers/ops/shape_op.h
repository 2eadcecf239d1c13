// Shape op layers of ff.ops: ReshapeOp (reshape, expand_dims, squeeze: the data unchanged, so
// a model aliases its output to its input), TransposeOp (op_strided_copy), ConcatOp
// (concatenate and stack: strided block copies, as the Concatenate layer), SliceOp (one piece
// of split) and OneHotOp (the CategoryEncoding kernel in one_hot mode). In a model the batch
// axis stays first: an op that would move, split or resize it is refused at build.
#pragma once
#include "layers/ops/op_layer.h"

namespace ff {

class ReshapeOp final : public OpLayer {
 public:
  // reshape: `target` (one entry may be -1; in a model target[0] is the batch: -1);
  // expand_dims: axes = {axis}; squeeze: `axes`, or every axis of size 1 when all_axes.
  ReshapeOp(std::string name, std::string op, uint64_t seed, Shape target,
            std::vector<int64_t> axes, bool all_axes);
  bool aliases_input(bool) const override { return true; }
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 private:
  Shape target_;
  std::vector<int64_t> axes_;
  bool all_axes_;
};

class TransposeOp final : public OpLayer {
 public:
  // perm: the result's axis d is the input's axis perm[d]; empty with reverse: reversed axes.
  TransposeOp(std::string name, uint64_t seed, std::vector<int64_t> perm, bool reverse);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 private:
  std::vector<int64_t> perm_arg_;
  bool reverse_;
  std::vector<int> perm_;
};

class ConcatOp final : public OpLayer {
 public:
  // op: concatenate (along an existing axis) or stack (along a new one); inputs or constants.
  ConcatOp(std::string name, std::string op, uint64_t seed, std::vector<OpOperand> operands,
           int64_t axis);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 private:
  bool stack_;
  int64_t axis_arg_;
  int axis_ = 0;
};

class SliceOp final : public OpLayer {
 public:
  // x[..., start:stop, ...] along `axis` (one piece of ff.ops.split).
  SliceOp(std::string name, uint64_t seed, int64_t axis, int64_t start, int64_t stop);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 private:
  int64_t axis_arg_, start_, stop_;
  int axis_ = 0;
};

class OneHotOp final : public OpLayer {
 public:
  // x (any shape, class indices) -> x's shape + (num_classes,); a value that is not a whole
  // number in [0, num_classes) is an error (recorded in the step state, raised by the model).
  OneHotOp(std::string name, uint64_t seed, int64_t num_classes);
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
  int64_t num_classes_;
};

}  // namespace ff
