// CPU kernels of the ff.ops section of the backend (backend.h): broadcasting unary/binary/where
// ops, axis reductions and strided copies, as free functions that the CpuBackend overrides
// call. Plain loops over the rules of backend/op_rules.h (the CUDA kernels run the same rules),
// split over threads by output element: each output's value is computed the same way whatever
// the thread count.
#pragma once
#include <cstdint>

#include "backend/op_geometry.h"

namespace ff::cpu {

void op_unary(UnaryKind op, float p0, float p1, const float* x, float* y, int64_t n);
void op_unary_backward(UnaryKind op, float p0, float p1, const float* x, const float* y,
                       const float* dy, float* dx, int64_t n);
void op_binary(BinaryKind op, const float* a, float a_scalar, const float* b, float b_scalar,
               float* y, const BroadcastGeometry& g);
void op_binary_backward(BinaryKind op, const float* a, float a_scalar, const float* b,
                        float b_scalar, const float* dy, float* da, float* db,
                        const BroadcastGeometry& g);
void op_where(const float* cond, float cond_scalar, const float* x, float x_scalar,
              const float* y, float y_scalar, float* out, const BroadcastGeometry& g);
void op_where_backward(const float* cond, float cond_scalar, const float* dy, float* dx,
                       float* dy_out, const BroadcastGeometry& g);
void op_reduce(ReduceKind op, const float* x, float* y, const ReduceGeometry& g);
void op_reduce_backward(ReduceKind op, const float* x, const float* y, const float* dy, float* dx,
                        const ReduceGeometry& g);
void op_strided_copy(const float* x, float* y, const BroadcastGeometry& g);
// ff.ops.take (backend.h): returns -1, or the position in idx of the first invalid index.
int64_t op_take(const float* x, const float* idx, float* y, int64_t outer, int64_t size,
                int64_t n, int64_t inner);
void op_take_backward(const float* idx, const float* dy, float* dx, int64_t outer, int64_t size,
                      int64_t n, int64_t inner);

}  // namespace ff::cpu
