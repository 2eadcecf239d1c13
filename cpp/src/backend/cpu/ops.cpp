// CPU kernels of the ff.ops section (see ops.h): the rules of backend/op_rules.h in loops over
// output elements. An operand whose strides are those of the output (the common no-broadcast
// case) is read at the output's own index, without the per-axis index arithmetic.
#include "backend/cpu/ops.h"

#include "backend/cpu/parallel.h"
#include "backend/op_rules.h"
#include "backend/take_rules.h"

namespace ff::cpu {
namespace {

// True when operand k is read at the output's own flat index (contiguous, not broadcast).
bool contiguous(const BroadcastGeometry& g, int k) {
  int64_t stride = 1;
  for (int32_t d = g.rank - 1; d >= 0; --d) {
    if (g.dims[d] != 1 && g.strides[k][d] != stride) return false;
    stride *= g.dims[d];
  }
  return true;
}

// Reads operand k (a pointer, or a scalar when null) at output element i.
struct Operand {
  const float* p;
  float scalar;
  bool flat;
  const BroadcastGeometry* g;
  int k;
  float at(int64_t i) const {
    if (!p) return scalar;
    return p[flat ? i : broadcast_offset(*g, k, i)];
  }
};

Operand operand(const float* p, float scalar, const BroadcastGeometry& g, int k) {
  return Operand{p, scalar, p != nullptr && contiguous(g, k), &g, k};
}

}  // namespace

void op_unary(UnaryKind op, float p0, float p1, const float* x, float* y, int64_t n) {
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = unary_rule(op, p0, p1, x[i]);
  });
}

void op_unary_backward(UnaryKind op, float p0, float p1, const float* x, const float* y,
                       const float* dy, float* dx, int64_t n) {
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      dx[i] = unary_grad_rule(op, p0, p1, x ? x[i] : 0.0f, y ? y[i] : 0.0f, dy[i]);
  });
}

void op_binary(BinaryKind op, const float* a, float a_scalar, const float* b, float b_scalar,
               float* y, const BroadcastGeometry& g) {
  const Operand oa = operand(a, a_scalar, g, 0), ob = operand(b, b_scalar, g, 1);
  parallel_for(g.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = binary_rule(op, oa.at(i), ob.at(i));
  });
}

void op_binary_backward(BinaryKind op, const float* a, float a_scalar, const float* b,
                        float b_scalar, const float* dy, float* da, float* db,
                        const BroadcastGeometry& g) {
  const Operand oa = operand(a, a_scalar, g, 0), ob = operand(b, b_scalar, g, 1);
  parallel_for(g.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) {
      const float av = oa.at(i), bv = ob.at(i);
      if (da) da[i] = binary_grad_a(op, av, bv, dy[i]);
      if (db) db[i] = binary_grad_b(op, av, bv, dy[i]);
    }
  });
}

void op_where(const float* cond, float cond_scalar, const float* x, float x_scalar,
              const float* y, float y_scalar, float* out, const BroadcastGeometry& g) {
  const Operand oc = operand(cond, cond_scalar, g, 0), ox = operand(x, x_scalar, g, 1),
                oy = operand(y, y_scalar, g, 2);
  parallel_for(g.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) out[i] = oc.at(i) != 0.0f ? ox.at(i) : oy.at(i);
  });
}

void op_where_backward(const float* cond, float cond_scalar, const float* dy, float* dx,
                       float* dy_out, const BroadcastGeometry& g) {
  const Operand oc = operand(cond, cond_scalar, g, 0);
  parallel_for(g.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) {
      const bool take = oc.at(i) != 0.0f;
      if (dx) dx[i] = take ? dy[i] : 0.0f;
      if (dy_out) dy_out[i] = take ? 0.0f : dy[i];
    }
  });
}

void op_reduce(ReduceKind op, const float* x, float* y, const ReduceGeometry& g) {
  const int64_t n = g.out_numel();
  parallel_for(n, [&](int64_t s, int64_t e) {
    for (int64_t j = s; j < e; ++j) y[j] = reduce_rule(op, x, g, reduce_base(g, j));
  }, n * (g.red_numel() + 1), 1);
}

void op_reduce_backward(ReduceKind op, const float* x, const float* y, const float* dy, float* dx,
                        const ReduceGeometry& g) {
  const int64_t n = g.out_numel();
  parallel_for(n, [&](int64_t s, int64_t e) {
    for (int64_t j = s; j < e; ++j)
      reduce_grad_rule(op, x, y ? y[j] : 0.0f, dy[j], dx, g, reduce_base(g, j));
  }, n * (g.red_numel() + 1), 1);
}

void op_strided_copy(const float* x, float* y, const BroadcastGeometry& g) {
  parallel_for(g.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = x[broadcast_offset(g, 0, i)];
  });
}

int64_t op_take(const float* x, const float* idx, float* y, int64_t outer, int64_t size,
                int64_t n, int64_t inner) {
  int64_t bad = -1;
  for (int64_t j = 0; j < n && bad < 0; ++j)
    if (take_position(idx[j], size) < 0) bad = j;
  parallel_for(outer * n, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t o = r / n, j = r % n;
      const int64_t k = take_position(idx[j], size);
      float* dst = y + r * inner;
      if (k < 0) {
        for (int64_t i = 0; i < inner; ++i) dst[i] = 0.0f;
        continue;
      }
      const float* src = x + (o * size + k) * inner;
      for (int64_t i = 0; i < inner; ++i) dst[i] = src[i];
    }
  });
  return bad;
}

void op_take_backward(const float* idx, const float* dy, float* dx, int64_t outer, int64_t size,
                      int64_t n, int64_t inner) {
  // One task per outer slice: its dx rows are written by it alone, in the order of idx.
  parallel_for(outer, [&](int64_t s, int64_t e) {
    for (int64_t o = s; o < e; ++o) {
      float* d = dx + o * size * inner;
      for (int64_t i = 0; i < size * inner; ++i) d[i] = 0.0f;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t k = take_position(idx[j], size);
        if (k < 0) continue;
        const float* src = dy + (o * n + j) * inner;
        float* dst = d + k * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
    }
  });
}

}  // namespace ff::cpu
