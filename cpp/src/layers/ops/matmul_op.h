// MatmulOp: ff.ops.matmul (and dot's matrix cases) as a graph node: NumPy's matmul for operands
// (..., M, K) @ (..., K, N), a 1-D operand promoted (K,) -> (1, K) or (K, 1) and its axis
// dropped from the result, batch axes equal on both sides or absent on one (a matrix applied to
// every sample); other batch broadcasting is refused. Forward and backward are the backend's
// GEMMs: one over all rows when the right operand is a plain matrix, one per batch entry
// otherwise (dA = dY·Bᵀ, dB = Aᵀ·dY; a matrix used for every batch entry sums its gradient over
// them with beta = 1, in batch order).
#pragma once
#include "layers/ops/op_layer.h"

namespace ff {

class MatmulOp final : public OpLayer {
 public:
  // Two operands: inputs or constants (not scalars).
  MatmulOp(std::string name, uint64_t seed, std::vector<OpOperand> operands);
  void forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>& scratch,
                     const StepContext& ctx) override;
  void backward_multi(const std::vector<Tensor>& xs, const Tensor& y, const Tensor& dy,
                      const std::vector<Tensor*>& dxs, std::vector<Tensor>& scratch,
                      const StepContext& ctx) override;

 protected:
  Shape infer(const std::vector<Shape>& shapes) override;

 private:
  // The GEMM layout of concrete operand shapes.
  struct Plan {
    int64_t m = 0, k = 0, n = 0;
    int64_t batch = 1;     // batch entries (1 when neither operand has batch axes)
    bool a_batched = false, b_batched = false;
  };
  Plan plan(const Shape& a, const Shape& b) const;
};

}  // namespace ff
