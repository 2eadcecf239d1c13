// bfloat16 matrix products on the CPU for layers computing under mixed_bfloat16 (Dense): oneDNN's
// bfloat16 matmul (AVX-512 BF16), float32 accumulation and results, with bits that do not depend
// on the thread count; and the same product through the backend's float32 GEMM on a CPU without
// bfloat16 kernels. Also the one place that says whether this CPU runs bfloat16 kernels.
#pragma once
#include <cstdint>

namespace ff {
class Backend;
}

namespace ff::cpu {

// True when the build has oneDNN and the CPU has AVX-512 BF16 (or AMX): bfloat16 kernels are
// fast here. Elsewhere the callers compute in float32 on the same values.
bool bf16_kernels_available();

// c (m x n, leading dimension ldc) = op(a) op(b), row-major, op = transpose when asked, with the
// operands rounded to bfloat16 (round to nearest even) and float32 accumulation. Returns false
// when bfloat16 kernels are not available for it; the caller then runs matmul_bf16_in_float32,
// which overwrites c.
bool matmul_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc);

// What matmul_bf16 computes, for a CPU without bfloat16 kernels: the operands rounded to
// bfloat16 exactly as matmul_bf16 rounds them, then be.gemm (float32) over the same fixed blocks
// of rows, each on one thread, so the bits do not depend on the thread count. The products of
// bfloat16 values are exact in float32 and the sums are float32, so this equals matmul_bf16 up
// to the order of the sums, bit for bit where every partial sum is exact. (AVX-512 BF16's dot
// products also flush subnormal float32 values, below 2^-126, to zero.)
void matmul_bf16_in_float32(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n,
                            int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                            float* c, int64_t ldc);

}  // namespace ff::cpu
