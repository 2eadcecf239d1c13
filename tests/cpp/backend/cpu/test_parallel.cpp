// Tests of backend/cpu/parallel.h: how many threads a loop or a set of tasks keeps busy follows
// its size (small work stays on the caller), while the OpenMP team is always the whole thread
// count (libgomp ends and re-creates pool threads whenever a team is smaller than the last one);
// nested work stays on its thread; the ranges cover the loop exactly once.
#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "backend/cpu/parallel.h"
#include "test_util.h"

using namespace ff::cpu;

namespace {

struct Seen {
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::set<int> team_sizes;
};

void record(Seen& seen, int64_t b, int64_t e) {
  std::lock_guard<std::mutex> lock(seen.mu);
  seen.ranges.emplace_back(b, e);
  seen.team_sizes.insert(omp_get_num_threads());
}

}  // namespace

TEST_CASE("split_for keeps as many threads busy as the work pays for", "[backend][cpu][threading]") {
  fftest::ScopedThreads fixed(6);
  CHECK(split_for(1000, 100).team == 6);
  CHECK(split_for(1000, 100).busy == 6);
  CHECK(split_for(350, 100).team == 6);  // the whole team, 3 of it busy
  CHECK(split_for(350, 100).busy == 3);
  CHECK(split_for(150, 100).team == 1);  // one thread's worth: on the caller
  CHECK(split_for(0, 100).team == 1);
  fftest::ScopedThreads one(1);
  CHECK(split_for(1000, 100).team == 1);
}

TEST_CASE("parallel_for splits by size over a team of constant size", "[backend][cpu][threading]") {
  fftest::ScopedThreads fixed(4);
  for (int64_t n : {int64_t{1000}, kParallelMin, 3 * kWorkPerThread, 1000 * kWorkPerThread}) {
    CAPTURE(n);
    Seen seen;
    parallel_for(n, [&](int64_t b, int64_t e) { record(seen, b, e); });
    std::sort(seen.ranges.begin(), seen.ranges.end());
    int64_t at = 0;
    for (auto [b, e] : seen.ranges) {  // contiguous, in order, nothing twice
      CHECK(b == at);
      at = e;
    }
    CHECK(at == n);
    const int64_t busy = std::clamp<int64_t>(n / kWorkPerThread, 1, 4);
    if (n < kParallelMin) {
      CHECK(seen.ranges.size() == 1);
      CHECK(seen.team_sizes == std::set<int>{1});  // on the caller, no team
    } else {
      CHECK(static_cast<int64_t>(seen.ranges.size()) == busy);
      CHECK(seen.team_sizes == std::set<int>{4});  // the whole team, however many are busy
    }
  }
}

TEST_CASE("tasks run single-threaded, on a whole team or on the caller", "[backend][cpu][threading]") {
  fftest::ScopedThreads fixed(3);
  for (int64_t tasks : {1, 2, 7}) {
    CAPTURE(tasks);
    std::mutex mu;
    std::vector<int> done(static_cast<size_t>(tasks), 0);
    std::set<int> inner_threads, team_sizes;
    const bool ok = for_each_task_single_threaded(tasks, [&](int64_t i) {
      std::lock_guard<std::mutex> lock(mu);
      ++done[i];
      inner_threads.insert(omp_get_max_threads());  // what oneDNN would plan for
      team_sizes.insert(omp_get_num_threads());
      return true;
    });
    CHECK(ok);
    CHECK(done == std::vector<int>(static_cast<size_t>(tasks), 1));
    CHECK(inner_threads == std::set<int>{1});
    CHECK(team_sizes == std::set<int>{tasks == 1 ? 1 : 3});
  }
  // A body returning false stops the rest and is reported.
  CHECK_FALSE(for_each_task_single_threaded(5, [](int64_t i) { return i != 2; }));
}

TEST_CASE("work started inside a task or a parallel loop stays on its thread",
          "[backend][cpu][threading]") {
  fftest::ScopedThreads fixed(4);
  const int saved = omp_get_max_threads();
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> inner_ranges;
  std::vector<int> library_threads;
  const int64_t n = 1000 * kWorkPerThread;
  for_each_task_single_threaded(4, [&](int64_t) {
    parallel_for(n, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(mu);
      inner_ranges.emplace_back(b, e);  // one range per loop: not split again
    });
    const int lib = set_library_threads(int64_t{1} << 40, 1);
    std::lock_guard<std::mutex> lock(mu);
    library_threads.push_back(lib);
    return true;
  });
  CHECK(inner_ranges == std::vector<std::pair<int64_t, int64_t>>(4, {0, n}));
  CHECK(library_threads == std::vector<int>(4, 1));
  // On the caller, a library gets the whole team or 1 thread, by size.
  CHECK(set_library_threads(int64_t{1} << 40, 1) == 4);
  CHECK(omp_get_max_threads() == 4);
  CHECK(set_library_threads(10, 100) == 1);
  CHECK(omp_get_max_threads() == 1);
  omp_set_num_threads(saved);
}
