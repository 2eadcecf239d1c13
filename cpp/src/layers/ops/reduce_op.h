// Reduction op layers of ff.ops: ReduceOp (sum, mean, max, min, argmax, argmin, logsumexp over
// axes, keepdims) and SoftmaxOp (softmax and log_softmax along one axis), through the backend's
// op_reduce kernels (each output combines its values in a fixed order: deterministic) and, for a
// softmax over the last axis, the Softmax activation kernels the layers use. In a model a
// reduction over the batch axis (0) gives a value without a batch axis (a statistic of the
// step's batch, e.g. for add_loss); a softmax cannot run along it.
#pragma once
#include "backend/op_geometry.h"
#include "layers/ops/op_layer.h"

namespace ff {

class ReduceOp final : public OpLayer {
 public:
  // op: sum mean max min argmax argmin logsumexp. axes empty with all_axes: every axis.
  ReduceOp(std::string name, std::string op, uint64_t seed, std::vector<int64_t> axes,
           bool all_axes, bool keepdims);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 public:
  bool output_batched() const override { return OpLayer::output_batched() && !reduces_batch_; }

 private:
  bool reduces_batch_ = false;
  ReduceKind kind_;
  std::vector<int64_t> axes_arg_;
  bool all_axes_, keepdims_;
  std::vector<int> axes_;  // resolved, sorted
};

class SoftmaxOp final : public OpLayer {
 public:
  // op: softmax or log_softmax, along `axis`.
  SoftmaxOp(std::string name, std::string op, uint64_t seed, int64_t axis);
  bool forward_uses_scratch() const override { return true; }
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;
  std::vector<Shape> op_scratch(const std::vector<Shape>& shapes, const Shape& out) const override;

 private:
  bool log_;
  int64_t axis_arg_;
  int axis_ = 0;
  // True when the softmax runs as rows over the last axis (the activation kernels).
  bool rows(const Shape& x) const { return !log_ && axis_ + 1 == static_cast<int>(x.size()); }
};

}  // namespace ff
