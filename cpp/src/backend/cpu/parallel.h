// Threading helpers of the CPU backend: OpenMP-split loops whose results never depend on the
// thread count (elementwise work is partition-independent; reductions add fixed-size chunks in
// a fixed order). Shared by every cpu/*.cpp kernel file.
#pragma once
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "core/cpu_dispatch.h"

namespace ff::cpu {

// Below this many elements a loop runs on the calling thread: waking threads costs more.
constexpr int64_t kParallelMin = int64_t{1} << 15;
// Reductions add partial sums of this many elements, in order: thread-count independent.
constexpr int64_t kReduceChunk = int64_t{1} << 14;

// Calls body(begin, end) over [0, n) split into one contiguous range per thread, when `work`
// (elements touched) is large enough to pay for the threads. Range starts are multiples of
// `align` (16 floats = one cache line for elementwise loops). The body runs through
// ff::dispatched: its loops are compiled for each dispatch target (core/cpu_dispatch.h).
template <class Body>
void parallel_for(int64_t n, Body&& body, int64_t work = -1, int64_t align = 16) {
  if ((work < 0 ? n : work) < kParallelMin || omp_get_max_threads() == 1 || n < 2) {
    dispatched(body, int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t chunk = ((n + threads - 1) / threads + align - 1) / align * align;
    const int64_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
    if (begin < end) dispatched(body, begin, end);
  }
}

// Rows [r0, r1) of a rows x cols matrix, split over threads when the matrix is large.
template <class Body>
void parallel_rows(int64_t rows, int64_t cols, Body&& body) {
  parallel_for(rows, body, rows * cols, 1);
}

// body(c, begin, end) for each fixed-size chunk c of [0, n), chunks spread over threads.
template <class Body>
void for_each_chunk(int64_t n, Body&& body) {
  const int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
  parallel_for(chunks, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      body(c, c * kReduceChunk, std::min(n, (c + 1) * kReduceChunk));
  }, n, 1);
}

// body(i) for each task i in [0, tasks), tasks dealt round-robin to OpenMP threads whose own
// thread count is set to 1, so a library called inside (oneDNN) plans for and runs on that one
// thread: each task's result never depends on how many threads there are. Stops at the first
// body returning false and returns false then.
template <class Body>
bool for_each_task_single_threaded(int64_t tasks, Body&& body) {
  std::atomic<bool> ok{true};
  const int threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>(omp_get_max_threads(), tasks)));
#pragma omp parallel num_threads(threads)
  {
    omp_set_num_threads(1);
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    for (int64_t i = t; i < tasks && ok.load(); i += nt)
      if (!body(i)) ok.store(false);
  }
  return ok.load();
}

}  // namespace ff::cpu
