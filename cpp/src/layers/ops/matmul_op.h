// MatmulOp: ff.ops.matmul (and dot's matrix cases) as a graph node: NumPy's matmul for operands
// (..., M, K) @ (..., K, N), a 1-D operand promoted (K,) -> (1, K) or (K, 1) and its axis
// dropped from the result, batch axes broadcast as NumPy's (aligned on the right, a missing axis
// or a 1 stretching; in a model the batch None meets None or 1). Forward and backward are the
// backend's GEMMs: one over all rows when the right operand is a plain matrix, one per batch
// entry otherwise (dA = dY·Bᵀ, dB = Aᵀ·dY; a matrix read by several batch entries sums its
// gradient over them with beta = 1, in batch order: deterministic).
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
    // Broadcast batch axes (both operands batched, their batch shapes different): the matrix
    // of a and of b that output entry i reads; empty otherwise (entry i reads entry i).
    std::vector<int64_t> a_index, b_index;
    int64_t a_entry(int64_t i) const { return a_index.empty() ? i : a_index[i]; }
    int64_t b_entry(int64_t i) const { return b_index.empty() ? i : b_index[i]; }
  };
  Plan plan(const Shape& a, const Shape& b) const;
};

}  // namespace ff
