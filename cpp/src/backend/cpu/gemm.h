// The CPU backend's float32 GEMM: C = alpha * op(A) * op(B) + beta * C (row-major), cut into
// tiles fixed by the shape alone, each tile one single-threaded oneDNN sgemm (OpenBLAS's without
// oneDNN), tiles spread over however many threads threading.h grants. So the bits never depend
// on the thread count (oneDNN's own threading splits the k sum once it has 8 threads for a
// 128x512x784 product, and already at 2 for a single row), and the thread count may follow the
// load from one call to the next.
#pragma once
#include <cstdint>

namespace ff::cpu {

// How a product is cut: an m x n grid of output tiles (tile_m x tile_n each, the last ones
// smaller), and the k sum cut into parts_k fixed chunks of tile_k whose partial products are
// added in order (only for long sums with few output tiles).
struct GemmPlan {
  int64_t tile_m = 0, tile_n = 0, tile_k = 0;
  int64_t parts_m = 1, parts_n = 1, parts_k = 1;
  int64_t tiles() const { return parts_m * parts_n * parts_k; }
};
GemmPlan gemm_plan(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k);
// The work a plan divides: m * n * k multiply-adds, a side shorter than 16 counted as 16 (a thin
// product is bound by reading the other operand, not by its multiply-adds).
int64_t gemm_work(int64_t m, int64_t n, int64_t k);

void gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc);

}  // namespace ff::cpu
