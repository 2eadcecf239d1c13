// MatmulOp (see matmul_op.h).
#include "layers/ops/matmul_op.h"

#include <algorithm>

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
  Shape out = a_batch.empty() ? b_batch : a_batch;
  if (!a_batch.empty() && !b_batch.empty() && a_batch != b_batch) {
    // NumPy's batch broadcasting: aligned on the right, a missing axis or a 1 stretches.
    const size_t rank = std::max(a_batch.size(), b_batch.size());
    out.assign(rank, 1);
    for (size_t d = 0; d < rank; ++d) {
      const size_t from_right = rank - d;
      const int64_t da = from_right <= a_batch.size() ? a_batch[a_batch.size() - from_right] : 1;
      const int64_t db = from_right <= b_batch.size() ? b_batch[b_batch.size() - from_right] : 1;
      int64_t r;
      if (da == db) r = da;
      else if (da == 1) r = db;
      else if (db == 1) r = da;
      else
        throw ValueError(label() + ": shapes " + shape_str(shapes[0]) + " and " +
                         shape_str(shapes[1]) + " have batch dimensions " + shape_str(a_batch) +
                         " and " + shape_str(b_batch) + " that do not broadcast (the batch "
                         "size None meets only None or 1); reshape or expand the operands "
                         "explicitly");
      out[d] = r;
    }
  }
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
  const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  if (p.a_batched && p.b_batched && ab != bb) {
    // Broadcast batch axes: the matrix of each operand that every output entry reads.
    const size_t rank = std::max(ab.size(), bb.size());
    Shape da(rank - ab.size(), 1), db(rank - bb.size(), 1), out(rank);
    da.insert(da.end(), ab.begin(), ab.end());
    db.insert(db.end(), bb.begin(), bb.end());
    for (size_t d = 0; d < rank; ++d) out[d] = std::max(da[d], db[d]);
    for (int64_t d : out) p.batch *= d;
    p.a_index.resize(static_cast<size_t>(p.batch));
    p.b_index.resize(static_cast<size_t>(p.batch));
    for (int64_t i = 0; i < p.batch; ++i) {
      int64_t rest = i, ia = 0, ib = 0, sa = 1, sb = 1;
      for (size_t d = rank; d-- > 0;) {
        const int64_t c = rest % out[d];
        rest /= out[d];
        if (da[d] != 1) ia += c * sa;
        if (db[d] != 1) ib += c * sb;
        sa *= da[d];
        sb *= db[d];
      }
      p.a_index[static_cast<size_t>(i)] = ia;
      p.b_index[static_cast<size_t>(i)] = ib;
    }
    return p;
  }
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
    be.gemm(false, false, p.m, p.n, p.k, 1.0f, p.a_batched ? a + p.a_entry(i) * p.m * p.k : a,
            p.k, b + p.b_entry(i) * p.k * p.n, p.n, 0.0f, out + i * p.m * p.n, p.n);
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
    const float* ai = p.a_batched ? a + p.a_entry(i) * p.m * p.k : a;
    const float* bi = b + p.b_entry(i) * p.k * p.n;
    // A matrix read by several entries (shared, or broadcast) accumulates their gradients in
    // batch order: beta 1 on its zeroed gradient.
    const bool broadcast = !p.a_index.empty();
    if (da) {
      float* dai = p.a_batched ? da->data<float>() + p.a_entry(i) * p.m * p.k : da->data<float>();
      const float beta = (p.a_batched && !broadcast) || i == 0 ? 0.0f : 1.0f;
      be.gemm(false, true, p.m, p.k, p.n, 1.0f, gi, p.n, bi, p.n, beta, dai, p.k);
    }
    if (db)
      be.gemm(true, false, p.k, p.n, p.m, 1.0f, ai, p.k, gi, p.n, broadcast ? 1.0f : 0.0f,
              db->data<float>() + p.b_entry(i) * p.k * p.n, p.n);
  }
}

}  // namespace ff
