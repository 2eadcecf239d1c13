// Elementwise op layers of ff.ops: UnaryOp (math functions, activations, clip, casts,
// stop_gradient), BinaryOp (arithmetic, maximum/minimum, comparisons giving float32 0/1) and
// WhereOp, with NumPy broadcasting under forgeflow's rule (layers/ops/broadcast.h). Forward and
// backward through the backend's op_unary / op_binary / op_where kernels (gradients computed in
// the result's shape, then summed back to a broadcast operand's shape with op_reduce) and, for
// the activations, the same activation kernels as the Activation layer.
#pragma once
#include "backend/op_geometry.h"
#include "layers/ops/op_layer.h"

namespace ff {

class UnaryOp final : public OpLayer {
 public:
  // op: negative exp log sqrt square abs sign trunc not_zero clip (p0 = lo, p1 = hi), relu
  // sigmoid tanh gelu silu leaky_relu (p0 = negative slope) elu (p0 = alpha), stop_gradient.
  UnaryOp(std::string name, std::string op, uint64_t seed, float p0 = 0.0f, float p1 = 0.0f);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override { return shapes[0]; }

 private:
  enum class Path { Math, Activation, StopGradient };
  Path path_ = Path::Math;
  UnaryKind kind_ = UnaryKind::Identity;
  Activation act_ = Activation::Linear;
  float p0_, p1_;
};

class BinaryOp final : public OpLayer {
 public:
  // op: add subtract multiply divide power maximum minimum equal not_equal less less_equal
  // greater greater_equal; two operands.
  BinaryOp(std::string name, std::string op, uint64_t seed, std::vector<OpOperand> operands);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;
  std::vector<Shape> op_scratch(const std::vector<Shape>& shapes, const Shape& out) const override;

 private:
  BinaryKind kind_;
};

class WhereOp final : public OpLayer {
 public:
  // operands: condition (nonzero: take x), x, y.
  WhereOp(std::string name, uint64_t seed, std::vector<OpOperand> operands);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;
  std::vector<Shape> op_scratch(const std::vector<Shape>& shapes, const Shape& out) const override;
};

}  // namespace ff
