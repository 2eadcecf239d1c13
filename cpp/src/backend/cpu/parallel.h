// Threading helpers of the CPU backend: OpenMP-split loops whose results never depend on the
// thread count (elementwise work is partition-independent; reductions add fixed-size chunks in
// a fixed order). Shared by every cpu/*.cpp kernel file. How many threads a loop gets comes from
// threading.h: what the process may use and other processes leave free, and what the loop's
// size pays for.
#pragma once
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "backend/cpu/threading.h"
#include "core/cpu_dispatch.h"

namespace ff::cpu {

// Below this many elements a loop runs on the calling thread: waking threads costs more.
constexpr int64_t kParallelMin = int64_t{1} << 15;
// Above kParallelMin, each thread gets at least this many elements (so a loop of 64K elements
// keeps 4 threads busy, not all 64 of a large machine).
constexpr int64_t kWorkPerThread = int64_t{1} << 14;
// Reductions add partial sums of this many elements, in order: thread-count independent.
constexpr int64_t kReduceChunk = int64_t{1} << 14;

// True on a thread running one of for_each_task_single_threaded's tasks.
inline thread_local bool t_in_single_threaded_task = false;

// Whether work started here must stay on the calling thread: inside a parallel region, or
// inside a single-threaded task.
inline bool nested_in_parallel_work() { return t_in_single_threaded_task || omp_in_parallel(); }

// How one piece of work runs: inline on the caller (team 1), or on an OpenMP team of `team`
// threads of which `busy` get a share. The team is always max_threads_now() threads, whatever the
// work's size: libgomp ends the pool threads a smaller team leaves out and creates new ones for
// the next larger team (measured: regions alternating 8 and 2 threads created a new thread on
// every region), so a kernel that needs fewer threads leaves the rest of the team idle instead.
struct Split {
  int team = 1, busy = 1;
};
inline Split split_for(int64_t work, int64_t work_per_thread) {
  if (nested_in_parallel_work()) return {};
  const int team = max_threads_now();
  const int busy = static_cast<int>(std::clamp<int64_t>(
      work_per_thread > 0 ? work / work_per_thread : team, 1, team));
  if (busy == 1) return {};
  return {team, busy};
}

// Calls body(begin, end) over [0, n) split into one contiguous range per busy thread, when
// `work` (elements touched) is large enough to pay for threads. Range starts are multiples of
// `align` (16 floats = one cache line for elementwise loops). The body runs through
// ff::dispatched: its loops are compiled for each dispatch target (core/cpu_dispatch.h).
template <class Body>
void parallel_for(int64_t n, Body&& body, int64_t work = -1, int64_t align = 16) {
  if (work < 0) work = n;
  const Split split = n < 2 || work < kParallelMin ? Split{} : split_for(work, kWorkPerThread);
  if (split.team == 1) {
    dispatched(body, int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(split.team)
  {
    const int64_t busy = std::min(split.busy, omp_get_num_threads()), t = omp_get_thread_num();
    if (t < busy) {
      const int64_t chunk = ((n + busy - 1) / busy + align - 1) / align * align;
      const int64_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
      if (begin < end) dispatched(body, begin, end);
    }
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

// body(i) for each task i in [0, tasks), tasks taken in turn by OpenMP threads whose own
// thread count is set to 1, so a library called inside (oneDNN) plans for and runs on that one
// thread: each task's result never depends on how many threads there are. `work_per_task`
// (elements, multiply-adds...) and `min_work_per_thread` say how many threads take tasks
// (split_for); with one, the tasks run on the caller. Stops at the first body returning false
// and returns false then.
template <class Body>
bool for_each_task_single_threaded(int64_t tasks, Body&& body, int64_t work_per_task = 1,
                                   int64_t min_work_per_thread = 1) {
  if (tasks <= 0) return true;
  const Split split = tasks == 1 ? Split{} : split_for(tasks * work_per_task, min_work_per_thread);
  if (split.team == 1) {
    const int saved = omp_get_max_threads();
    const bool was_in_task = t_in_single_threaded_task;
    omp_set_num_threads(1);
    t_in_single_threaded_task = true;
    bool ok = true;
    try {
      for (int64_t i = 0; i < tasks && ok; ++i) ok = body(i);
    } catch (...) {
      t_in_single_threaded_task = was_in_task;
      omp_set_num_threads(saved);
      throw;
    }
    t_in_single_threaded_task = was_in_task;
    omp_set_num_threads(saved);
    return ok;
  }
  std::atomic<bool> ok{true};
  std::atomic<int64_t> next{0};
#pragma omp parallel num_threads(split.team)
  {
    if (omp_get_thread_num() < split.busy) {
      omp_set_num_threads(1);
      t_in_single_threaded_task = true;
      for (int64_t i = next.fetch_add(1); i < tasks && ok.load(); i = next.fetch_add(1))
        if (!body(i)) ok.store(false);
      t_in_single_threaded_task = false;
    }
  }
  return ok.load();
}

// Sets the calling thread's OpenMP thread count, which oneDNN plans a primitive for: 1 when the
// work (`work` units, at least min_work_per_thread per thread) is too small for threads or the
// caller is nested, else the whole team (see Split). Returns that count.
inline int set_library_threads(int64_t work, int64_t min_work_per_thread) {
  const int threads = split_for(work, min_work_per_thread).team;
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
  return threads;
}

}  // namespace ff::cpu
