// MatmulOp (see matmul_op.h).
#include "layers/ops/matmul_op.h"

#include "core/errors.h"

namespace ff {

MatmulOp::MatmulOp(std::string name, uint64_t seed, std::vector<OpOperand> operands)
    : OpLayer(std::move(name), "matmul", seed, std::move(operands)) {
  if (this->operands().size() != 2) throw ValueError("internal: ff.ops.matmul takes 2 operands");
  for (const OpOperand& o : this->operands())
    if (o.kind == OpOperand::Kind::Scalar)
      throw ValueError("ff.ops.matmul takes tensors of rank 1 or more, not scalars (use "
                       "ff.ops.multiply)");
}

Shape MatmulOp::infer(const std::vector<Shape>& shapes) {
  Shape a = shapes[0], b = shapes[1];
  if (a.empty() || b.empty())
    throw ValueError(label() + " takes tensors of rank 1 or more; received shapes " +
                     shape_str(a) + " and " + shape_str(b) + " (use ff.ops.multiply for scalars)");
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  const Shape a_batch(a.begin(), a.end() - 2), b_batch(b.begin(), b.end() - 2);
  const int64_t ka = a.back(), kb = b[b.size() - 2];
  if (ka != kb || ka == kNone)
    throw ValueError(label() + ": the inner dimensions of shapes " + shape_str(shapes[0]) +
                     " and " + shape_str(shapes[1]) + " do not match (" +
                     (ka == kNone ? std::string("None") : std::to_string(ka)) + " vs " +
                     (kb == kNone ? std::string("None") : std::to_string(kb)) + ")");
  if (!a_batch.empty() && !b_batch.empty() && a_batch != b_batch)
    throw ValueError(label() + ": shapes " + shape_str(shapes[0]) + " and " +
                     shape_str(shapes[1]) + " have different batch dimensions " +
                     shape_str(a_batch) + " and " + shape_str(b_batch) + "; forgeflow's matmul "
                     "needs them equal, or a plain matrix on one side (reshape or expand the "
                     "operands explicitly)");
  Shape out = a_batch.empty() ? b_batch : a_batch;
  if (!a_vec) out.push_back(a[a.size() - 2]);
  if (!b_vec) out.push_back(b.back());
  return out;
}

MatmulOp::Plan MatmulOp::plan(const Shape& a0, const Shape& b0) const {
  Shape a = a0, b = b0;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  Plan p;
  p.m = a[a.size() - 2];
  p.k = a.back();
  p.n = b.back();
  p.a_batched = a.size() > 2;
  p.b_batched = b.size() > 2;
  const Shape& batched = p.b_batched ? b : a;
  for (size_t d = 0; d + 2 < batched.size(); ++d) p.batch *= batched[d];
  return p;
}

void MatmulOp::forward_multi(const std::vector<Tensor>& xs, Tensor& y, std::vector<Tensor>&,
                             const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const std::vector<Shape> shapes = operand_shapes(xs);
  const Plan p = plan(shapes[0], shapes[1]);
  const float* a = operand_data(0, xs, be);
  const float* b = operand_data(1, xs, be);
  float* out = y.data<float>();
  if (y.numel() == 0) return;
  if (p.k == 0) {  // an empty sum
    be.fill(out, y.numel(), 0.0f);
    return;
  }
  if (!p.b_batched) {  // every row of a (batch entries included) times one matrix
    be.gemm(false, false, p.batch * p.m, p.n, p.k, 1.0f, a, p.k, b, p.n, 0.0f, out, p.n);
    return;
  }
  for (int64_t i = 0; i < p.batch; ++i)
    be.gemm(false, false, p.m, p.n, p.k, 1.0f, p.a_batched ? a + i * p.m * p.k : a, p.k,
            b + i * p.k * p.n, p.n, 0.0f, out + i * p.m * p.n, p.n);
}

void MatmulOp::backward_multi(const std::vector<Tensor>& xs, const Tensor&, const Tensor& dy,
                              const std::vector<Tensor*>& dxs, std::vector<Tensor>&,
                              const StepContext& ctx) {
  Backend& be = *ctx.backend;
  const std::vector<Shape> shapes = operand_shapes(xs);
  const Plan p = plan(shapes[0], shapes[1]);
  const float* a = operand_data(0, xs, be);
  const float* b = operand_data(1, xs, be);
  const float* g = dy.data<float>();
  Tensor* da = input_index(0) >= 0 ? dxs[input_index(0)] : nullptr;
  Tensor* db = input_index(1) >= 0 ? dxs[input_index(1)] : nullptr;
  // An empty product (K == 0, or no rows) still owes zero gradients.
  if (da) be.fill(da->data<float>(), da->numel(), 0.0f);
  if (db) be.fill(db->data<float>(), db->numel(), 0.0f);
  if (dy.numel() == 0 || p.k == 0) return;
  if (!p.b_batched) {
    const int64_t rows = p.batch * p.m;
    if (da) be.gemm(false, true, rows, p.k, p.n, 1.0f, g, p.n, b, p.n, 0.0f, da->data<float>(), p.k);
    if (db) be.gemm(true, false, p.k, p.n, rows, 1.0f, a, p.k, g, p.n, 0.0f, db->data<float>(), p.n);
    return;
  }
  for (int64_t i = 0; i < p.batch; ++i) {
    const float* gi = g + i * p.m * p.n;
    const float* ai = p.a_batched ? a + i * p.m * p.k : a;
    const float* bi = b + i * p.k * p.n;
    if (da) {  // a matrix shared by every entry accumulates (beta 1 after the first)
      float* dai = p.a_batched ? da->data<float>() + i * p.m * p.k : da->data<float>();
      const float beta = p.a_batched || i == 0 ? 0.0f : 1.0f;
      be.gemm(false, true, p.m, p.k, p.n, 1.0f, gi, p.n, bi, p.n, beta, dai, p.k);
    }
    if (db)
      be.gemm(true, false, p.k, p.n, p.m, 1.0f, ai, p.k, gi, p.n, 0.0f,
              db->data<float>() + i * p.k * p.n, p.n);
  }
}

}  // namespace ff
