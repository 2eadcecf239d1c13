// The CUDA kernels of the ff.ops section of the backend (backend.h): broadcasting unary, binary
// and where ops, axis reductions and strided copies. One thread per output element in
// grid-stride loops over int64 indices, running the CPU's own rules (backend/op_rules.h): the
// same expressions (no fused multiply-add: the library is built with --fmad=false), and each
// reduction's output combined by one thread in the geometry's fixed order, so the results are
// deterministic (no atomics) and agree with the CPU's (bit for bit except where a libm and CUDA
// function differ in their last place: exp, log, pow). Geometries are passed by value (kernel
// arguments, frozen in a captured graph); nothing here allocates, synchronises or reads to the
// host.
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_kernel_util.cuh"
#include "backend/cuda/cuda_launch.cuh"
#include "backend/op_rules.h"
#include "backend/random_rules.h"
#include "backend/take_rules.h"

namespace ff::cuda {
namespace {

// Operand k (a pointer, or the scalar beside it when null) at output element i.
__device__ inline float operand_at(const float* p, float scalar, const BroadcastGeometry& g,
                                   int k, int64_t i) {
  return p ? p[broadcast_offset(g, k, i)] : scalar;
}

__global__ void op_unary_kernel(UnaryKind op, float p0, float p1, const float* x, float* y,
                                int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = unary_rule(op, p0, p1, x[i]);
}

__global__ void op_unary_backward_kernel(UnaryKind op, float p0, float p1, const float* x,
                                         const float* y, const float* dy, float* dx, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    dx[i] = unary_grad_rule(op, p0, p1, x ? x[i] : 0.0f, y ? y[i] : 0.0f, dy[i]);
}

__global__ void op_binary_kernel(BinaryKind op, const float* a, float as, const float* b,
                                 float bs, float* y, BroadcastGeometry g, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    y[i] = binary_rule(op, operand_at(a, as, g, 0, i), operand_at(b, bs, g, 1, i));
}

__global__ void op_binary_backward_kernel(BinaryKind op, const float* a, float as, const float* b,
                                          float bs, const float* dy, float* da, float* db,
                                          BroadcastGeometry g, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float av = operand_at(a, as, g, 0, i), bv = operand_at(b, bs, g, 1, i);
    if (da) da[i] = binary_grad_a(op, av, bv, dy[i]);
    if (db) db[i] = binary_grad_b(op, av, bv, dy[i]);
  }
}

__global__ void op_where_kernel(const float* c, float cs, const float* x, float xs,
                                const float* y, float ys, float* out, BroadcastGeometry g,
                                int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    out[i] = operand_at(c, cs, g, 0, i) != 0.0f ? operand_at(x, xs, g, 1, i)
                                                 : operand_at(y, ys, g, 2, i);
}

__global__ void op_where_backward_kernel(const float* c, float cs, const float* dy, float* dx,
                                         float* dy_out, BroadcastGeometry g, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const bool take = operand_at(c, cs, g, 0, i) != 0.0f;
    if (dx) dx[i] = take ? dy[i] : 0.0f;
    if (dy_out) dy_out[i] = take ? 0.0f : dy[i];
  }
}

__global__ void op_reduce_kernel(ReduceKind op, const float* x, float* y, ReduceGeometry g,
                                 int64_t n) {
  for (int64_t j = first_index(); j < n; j += grid_stride())
    y[j] = reduce_rule(op, x, g, reduce_base(g, j));
}

__global__ void op_reduce_backward_kernel(ReduceKind op, const float* x, const float* y,
                                          const float* dy, float* dx, ReduceGeometry g,
                                          int64_t n) {
  for (int64_t j = first_index(); j < n; j += grid_stride())
    reduce_grad_rule(op, x, y ? y[j] : 0.0f, dy[j], dx, g, reduce_base(g, j));
}

__global__ void op_strided_copy_kernel(const float* x, float* y, BroadcastGeometry g, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = x[broadcast_offset(g, 0, i)];
}

// ff.ops.take's index check: the smallest position of an invalid index is recorded (the CPU's
// sequential scan finds the same one). Launched with kThreads per block (the grid reduction).
__global__ void op_take_check_kernel(const float* idx, int64_t size, int64_t n, StepState* state,
                                     int32_t node) {
  long long first_bad = kNoIndex;
  for (int64_t j = global_thread(); j < n; j += grid_threads())
    if (take_position(idx[j], size) < 0 && static_cast<long long>(j) < first_bad)
      first_bad = static_cast<long long>(j);
  reduce_grid(0.0, first_bad, [=](double, long long bad) {
    if (bad != kNoIndex)
      record_step_error_atomic(state, StepError::BadCategory, node, 0, bad,
                               static_cast<double>(idx[bad]));
  });
}

// One thread per element of y (outer x n x inner); an invalid index gives zeros.
__global__ void op_take_kernel(const float* x, const float* idx, float* y, int64_t size,
                               int64_t n, int64_t inner, int64_t total) {
  for (int64_t e = first_index(); e < total; e += grid_stride()) {
    const int64_t i = e % inner;
    const int64_t r = e / inner;
    const int64_t j = r % n;
    const int64_t o = r / n;
    const int64_t k = take_position(idx[j], size);
    y[e] = k < 0 ? 0.0f : x[(o * size + k) * inner + i];
  }
}

// The scatter-add without atomics: one thread per (outer, inner) column of dx, which zeroes its
// column and adds dy's entries in the order of idx: race-free and deterministic.
__global__ void op_take_backward_kernel(const float* idx, const float* dy, float* dx,
                                        int64_t size, int64_t n, int64_t inner, int64_t columns) {
  for (int64_t c = first_index(); c < columns; c += grid_stride()) {
    const int64_t o = c / inner;
    const int64_t i = c % inner;
    float* d = dx + o * size * inner + i;
    for (int64_t k = 0; k < size; ++k) d[k * inner] = 0.0f;
    const float* g = dy + o * n * inner + i;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = take_position(idx[j], size);
      if (k >= 0) d[k * inner] += g[j * inner];
    }
  }
}

}  // namespace

void CudaBackend::op_unary(UnaryKind op, float p0, float p1, const float* x, float* y,
                           int64_t n) {
  if (n <= 0) return;
  op_unary_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(op, p0, p1, x, y, n);
  FF_CUDA_LAUNCH_CHECK("op_unary_kernel");
}

void CudaBackend::op_unary_backward(UnaryKind op, float p0, float p1, const float* x,
                                    const float* y, const float* dy, float* dx, int64_t n) {
  if (n <= 0) return;
  op_unary_backward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(op, p0, p1, x, y, dy,
                                                                            dx, n);
  FF_CUDA_LAUNCH_CHECK("op_unary_backward_kernel");
}

void CudaBackend::op_binary(BinaryKind op, const float* a, float a_scalar, const float* b,
                            float b_scalar, float* y, const BroadcastGeometry& g) {
  const int64_t n = g.numel();
  if (n <= 0) return;
  op_binary_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(op, a, a_scalar, b, b_scalar,
                                                                    y, g, n);
  FF_CUDA_LAUNCH_CHECK("op_binary_kernel");
}

void CudaBackend::op_binary_backward(BinaryKind op, const float* a, float a_scalar,
                                     const float* b, float b_scalar, const float* dy, float* da,
                                     float* db, const BroadcastGeometry& g) {
  const int64_t n = g.numel();
  if (n <= 0 || (!da && !db)) return;
  op_binary_backward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(
      op, a, a_scalar, b, b_scalar, dy, da, db, g, n);
  FF_CUDA_LAUNCH_CHECK("op_binary_backward_kernel");
}

void CudaBackend::op_where(const float* cond, float cond_scalar, const float* x, float x_scalar,
                           const float* y, float y_scalar, float* out,
                           const BroadcastGeometry& g) {
  const int64_t n = g.numel();
  if (n <= 0) return;
  op_where_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(cond, cond_scalar, x, x_scalar,
                                                                   y, y_scalar, out, g, n);
  FF_CUDA_LAUNCH_CHECK("op_where_kernel");
}

void CudaBackend::op_where_backward(const float* cond, float cond_scalar, const float* dy,
                                    float* dx, float* dy_out, const BroadcastGeometry& g) {
  const int64_t n = g.numel();
  if (n <= 0 || (!dx && !dy_out)) return;
  op_where_backward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(
      cond, cond_scalar, dy, dx, dy_out, g, n);
  FF_CUDA_LAUNCH_CHECK("op_where_backward_kernel");
}

void CudaBackend::op_reduce(ReduceKind op, const float* x, float* y, const ReduceGeometry& g) {
  const int64_t n = g.out_numel();
  if (n <= 0) return;
  op_reduce_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(op, x, y, g, n);
  FF_CUDA_LAUNCH_CHECK("op_reduce_kernel");
}

void CudaBackend::op_reduce_backward(ReduceKind op, const float* x, const float* y,
                                     const float* dy, float* dx, const ReduceGeometry& g) {
  const int64_t n = g.out_numel();
  if (n <= 0) return;
  op_reduce_backward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(op, x, y, dy, dx, g,
                                                                             n);
  FF_CUDA_LAUNCH_CHECK("op_reduce_backward_kernel");
}

namespace {

// ff.random's ops: element i from the Philox stream the step state selects (random_rules.h).
__global__ void random_values_kernel(RandomKind kind, float a, float b, uint64_t seed,
                                     const float* __restrict__ x, float* __restrict__ y,
                                     int64_t n, const StepState* state, bool training) {
  const uint64_t stream = random_stream(state, training);
  for (int64_t i = first_index(); i < n; i += grid_stride())
    y[i] = random_value(kind, a, b, seed, stream, static_cast<uint64_t>(i), x ? x[i] : 0.0f);
}

}  // namespace

void CudaBackend::random_values(RandomKind kind, float a, float b, uint64_t seed, const float* x,
                                float* y, int64_t n, const StepState* state, bool training) {
  if (n <= 0) return;
  random_values_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(kind, a, b, seed, x, y,
                                                                        n, state, training);
  FF_CUDA_LAUNCH_CHECK("random_values_kernel");
}

void CudaBackend::op_strided_copy(const float* x, float* y, const BroadcastGeometry& g) {
  const int64_t n = g.numel();
  if (n <= 0) return;
  op_strided_copy_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(x, y, g, n);
  FF_CUDA_LAUNCH_CHECK("op_strided_copy_kernel");
}

void CudaBackend::op_take(const float* x, const float* idx, float* y, int64_t outer,
                          int64_t size, int64_t n, int64_t inner, StepState* state,
                          int32_t node) {
  if (n <= 0) return;
  op_take_check_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(idx, size, n, state, node);
  FF_CUDA_LAUNCH_CHECK("op_take_check_kernel");
  const int64_t total = outer * n * inner;
  if (total <= 0) return;
  op_take_kernel<<<grid_blocks(total), kLaunchThreads, 0, stream()>>>(x, idx, y, size, n, inner,
                                                                      total);
  FF_CUDA_LAUNCH_CHECK("op_take_kernel");
}

void CudaBackend::op_take_backward(const float* idx, const float* dy, float* dx, int64_t outer,
                                   int64_t size, int64_t n, int64_t inner) {
  const int64_t columns = outer * inner;
  if (columns <= 0 || size <= 0) return;
  op_take_backward_kernel<<<grid_blocks(columns), kLaunchThreads, 0, stream()>>>(
      idx, dy, dx, size, n, inner, columns);
  FF_CUDA_LAUNCH_CHECK("op_take_backward_kernel");
}

}  // namespace ff::cuda
