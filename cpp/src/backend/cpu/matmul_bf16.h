// bfloat16 matrix products on the CPU for layers computing under mixed_bfloat16 (Dense): oneDNN's
// bfloat16 matmul (AVX-512 BF16), float32 accumulation and results, with bits that do not depend
// on the thread count. Also the one place that says whether this CPU runs bfloat16 kernels.
#pragma once
#include <cstdint>

namespace ff::cpu {

// True when the build has oneDNN and the CPU has AVX-512 BF16 (or AMX): bfloat16 kernels are
// fast here. Elsewhere the callers compute in float32 on the same values.
bool bf16_kernels_available();

// c (m x n, leading dimension ldc) = op(a) op(b), row-major, op = transpose when asked, with the
// operands rounded to bfloat16 (round to nearest even) and float32 accumulation. Returns false
// when bfloat16 kernels are not available for it; the caller then runs its float32 GEMM, which
// overwrites c.
bool matmul_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc);

}  // namespace ff::cpu
