// Runtime dispatch of the hand-written CPU loops (the CPU backend's elementwise kernels,
// reductions, optimizers, pooling, normalization and image transforms; image resizing). A
// portable build (the default: -march=x86-64-v2, FORGEFLOW_CPU_DISPATCH) compiles every function
// marked FF_CPU_DISPATCH three times, for AVX-512F, AVX2 and the baseline, and the dynamic
// loader picks the best one this CPU runs (GCC's target_clones: an ifunc, resolved once). No
// clone enables FMA (and the library is built with -ffp-contract=off) and none may reorder a sum
// (no -ffast-math, no `omp simd reduction`), so all three give the same bits: a wider vector
// changes no elementwise result. A -march=native build, another compiler or another
// architecture compiles each function once, for its own target.
//
// The CPU backend's parallel_for (backend/cpu/parallel.h) runs every range body through
// ff::dispatched, so a loop inside a parallel_for lambda is dispatched without further marking;
// a hot loop outside one is marked FF_CPU_DISPATCH itself. Loops written with GCC vector types
// wider than 16 bytes cannot be dispatched this way (GCC lowers them to scalar code before it
// clones): max pooling compiles those once per instruction set instead (backend/cpu/pooling.cpp).
// scripts/check_isa_baseline.py (a ctest entry) checks that the library's other code stays
// within x86-64-v2 and that the AVX2 / AVX-512 code exists.
#pragma once
#include <cstdint>

#if defined(FORGEFLOW_CPU_DISPATCH) && defined(__x86_64__) && defined(__linux__) && \
    defined(__GNUC__) && !defined(__clang__)
// flatten: everything the function calls is inlined into each clone where it can be (lambdas,
// xtensor expressions, half.h), so no inner loop stays behind in its baseline copy.
#define FF_CPU_DISPATCH __attribute__((target_clones("avx512f", "avx2", "default"), flatten))
#else
#define FF_CPU_DISPATCH
#endif

namespace ff {

// body(begin, end), compiled once per dispatch target: the lambda (and what it inlines) is
// inlined into each clone, so its loops vectorise for the CPU that runs them.
template <class Body>
FF_CPU_DISPATCH void dispatched(Body& body, int64_t begin, int64_t end) {
  body(begin, end);
}

}  // namespace ff
