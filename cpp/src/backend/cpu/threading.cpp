// The CPU backend's thread-count policy (threading.h): usable CPUs from the affinity mask and
// cgroup quotas, the user's fixed count, and the load-following automatic count re-measured from
// /proc/stat at most every 100 ms.
#include "backend/cpu/threading.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

#include "core/errors.h"

namespace ff::cpu {

namespace {

std::optional<std::string> read_text(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return std::nullopt;
  std::string text;
  char buf[8192];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  std::fclose(f);
  return text;
}

std::optional<double> number(const std::string& word) {
  if (word.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(word.c_str(), &end);
  if (errno != 0 || end == word.c_str() || *end != '\0' || !std::isfinite(v))
    return std::nullopt;
  return v;
}

std::string first_word(const std::string& text) {
  std::istringstream in(text);
  std::string w;
  in >> w;
  return w;
}

// "/a/b" -> {"/a/b", "/a", ""}: the levels from a cgroup up to its hierarchy's root.
std::vector<std::string> levels(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/") path.clear();
  std::vector<std::string> out{path};
  while (!path.empty()) {
    const size_t slash = path.rfind('/');
    path = slash == std::string::npos ? std::string() : path.substr(0, slash);
    out.push_back(path);
  }
  return out;
}

int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// The CPUs in this process's affinity mask (the calling thread's, as the kernels' threads
// inherit it).
std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  for (int size = 1024; size <= (1 << 16); size *= 4) {
    cpu_set_t* set = CPU_ALLOC(size);
    if (!set) break;
    const size_t bytes = CPU_ALLOC_SIZE(size);
    CPU_ZERO_S(bytes, set);
    if (sched_getaffinity(0, bytes, set) == 0) {
      for (int c = 0; c < size; ++c)
        if (CPU_ISSET_S(c, bytes, set)) cpus.push_back(c);
      CPU_FREE(set);
      return cpus;
    }
    CPU_FREE(set);
    if (errno != EINVAL) break;  // EINVAL: the kernel's mask is larger than `size`
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  for (int c = 0; c < std::max(1L, online); ++c) cpus.push_back(c);
  return cpus;
}

// A fixed count from OMP_NUM_THREADS ("4", or a nesting list "4,2": its first entry), else 0.
int env_threads() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (!v) return 0;
  std::string s(v);
  s = s.substr(0, s.find(','));
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  const auto n = number(s);
  if (!n || *n < 1 || *n != std::floor(*n) || *n > 1 << 16) return 0;
  return static_cast<int>(*n);
}

struct Machine {
  std::vector<int> cpus;  // the affinity mask
  int usable = 1;         // cpus, lowered to the cgroup quota
};

const Machine& machine() {
  static const Machine m = [] {
    Machine m;
    m.cpus = affinity_cpus();
    const auto cgroup = read_text("/proc/self/cgroup");
    const auto quota = cgroup ? cgroup_cpu_limit(*cgroup, read_text) : std::nullopt;
    m.usable = cpus_under_quota(static_cast<int>(m.cpus.size()), quota);
    return m;
  }();
  return m;
}

constexpr int kUnset = -1;
std::atomic<int> g_setting{kUnset};

int setting() {
  int s = g_setting.load(std::memory_order_relaxed);
  if (s != kUnset) return s;
  int expected = kUnset;
  g_setting.compare_exchange_strong(expected, env_threads());
  return g_setting.load(std::memory_order_relaxed);
}

// The automatic count and the /proc/stat window it was measured over. Every kernel reads the
// clock, so it is the coarse one (a few ns; its millisecond resolution is plenty for 100 ms).
constexpr int64_t kWindowNs = 100'000'000;
#ifdef CLOCK_MONOTONIC_COARSE
constexpr clockid_t kWindowClock = CLOCK_MONOTONIC_COARSE;
#else
constexpr clockid_t kWindowClock = CLOCK_MONOTONIC;
#endif
std::atomic<int> g_auto{0};                   // 0 until the first call
std::atomic<int64_t> g_next_sample_ns{0};
std::mutex g_sample_mutex;
struct Sample {
  bool valid = false;
  int64_t wall_ns = 0, ours_ns = 0;
  CpuTicks ticks;
};
Sample g_last;  // guarded by g_sample_mutex

bool take_sample(const Machine& m, Sample& s) {
  const auto text = read_text("/proc/stat");
  if (!text) return false;
  s.wall_ns = now_ns(kWindowClock);
  s.ours_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID);
  s.ticks = parse_proc_stat(*text, m.cpus);
  s.valid = s.ticks.total > 0;
  return s.valid;
}

// Re-measures the load when the window has passed (one thread at a time; the others keep the
// current count).
void maybe_resample(const Machine& m, int64_t now) {
  std::unique_lock<std::mutex> lock(g_sample_mutex, std::try_to_lock);
  if (!lock.owns_lock() || now < g_next_sample_ns.load(std::memory_order_relaxed)) return;
  g_next_sample_ns.store(now + kWindowNs, std::memory_order_relaxed);
  Sample s;
  if (!take_sample(m, s)) {
    g_next_sample_ns.store(INT64_MAX, std::memory_order_relaxed);  // no /proc/stat: stay at cap
    return;
  }
  if (g_last.valid && s.wall_ns > g_last.wall_ns && s.ticks.total >= g_last.ticks.total) {
    static const double tick_s = 1.0 / std::max(1L, sysconf(_SC_CLK_TCK));
    const double wall_s = (s.wall_ns - g_last.wall_ns) * 1e-9;
    const double ours_s = (s.ours_ns - g_last.ours_ns) * 1e-9;
    const double busy_s = static_cast<double>(s.ticks.busy - g_last.ticks.busy) * tick_s;
    const int current = g_auto.load(std::memory_order_relaxed);
    g_auto.store(threads_for_load(static_cast<int>(m.cpus.size()), m.usable, wall_s,
                                  std::max(0.0, busy_s - ours_s), ours_s, current),
                 std::memory_order_relaxed);
  }
  g_last = s;
}

}  // namespace

std::optional<double> parse_cgroup_v2_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota, period;
  if (!(in >> quota) || quota == "max") return std::nullopt;
  const auto q = number(quota);
  const auto p = (in >> period) ? number(period) : std::optional<double>(100000.0);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
  return *q / *p;
}

std::optional<double> parse_cgroup_v1_quota(const std::string& quota, const std::string& period) {
  const auto q = number(first_word(quota)), p = number(first_word(period));
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;  // -1: no quota
  return *q / *p;
}

std::optional<double> cgroup_cpu_limit(
    const std::string& proc_self_cgroup,
    const std::function<std::optional<std::string>(const std::string&)>& read) {
  std::optional<double> limit;
  auto take = [&](std::optional<double> q) {
    if (q && (!limit || *q < *limit)) limit = q;
  };
  std::istringstream lines(proc_self_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    // hierarchy-ID:controller-list:path (the path may itself contain ':')
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (id == "0" && controllers.empty()) {  // cgroup v2
      for (const auto& level : levels(path))
        if (auto text = read("/sys/fs/cgroup" + level + "/cpu.max"))
          take(parse_cgroup_v2_cpu_max(*text));
      continue;
    }
    bool has_cpu = false;
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) has_cpu |= name == "cpu";
    if (!has_cpu) continue;
    for (const char* root : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuacct,cpu",
                             "/sys/fs/cgroup/cpu"}) {
      bool found = false;
      for (const auto& level : levels(path)) {
        const std::string dir = root + level;
        auto quota = read(dir + "/cpu.cfs_quota_us");
        auto period = read(dir + "/cpu.cfs_period_us");
        if (!quota || !period) continue;
        found = true;
        take(parse_cgroup_v1_quota(*quota, *period));
      }
      if (found) break;  // the same hierarchy under another of its usual mount names
    }
  }
  return limit;
}

int cpus_under_quota(int cpus, std::optional<double> quota) {
  cpus = std::max(1, cpus);
  if (!quota) return cpus;
  const double q = std::ceil(*quota - 1e-9);  // 2.0000000001 from rounding is still 2
  return static_cast<int>(std::clamp(q, 1.0, static_cast<double>(cpus)));
}

CpuTicks parse_proc_stat(const std::string& text, const std::vector<int>& cpus) {
  const int top = cpus.empty() ? 0 : *std::max_element(cpus.begin(), cpus.end());
  std::vector<char> wanted(static_cast<size_t>(top) + 1, 0);
  for (int c : cpus)
    if (c >= 0) wanted[c] = 1;
  CpuTicks sum;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const char* p = text.c_str() + pos;
    const char* line_end = text.c_str() + end;
    pos = end + 1;
    if (line_end - p < 4 || std::strncmp(p, "cpu", 3) != 0 || p[3] < '0' || p[3] > '9') continue;
    char* q = nullptr;
    const long id = std::strtol(p + 3, &q, 10);
    if (id < 0 || id > top || !wanted[id]) continue;
    // user nice system idle iowait irq softirq steal [guest guest_nice]
    uint64_t f[8] = {};
    int got = 0;
    for (; got < 8 && q < line_end; ++got) {
      char* next = nullptr;
      f[got] = std::strtoull(q, &next, 10);
      if (next == q) break;
      q = next;
    }
    if (got < 4) continue;
    const uint64_t busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    sum.busy += busy;
    sum.total += busy + f[3] + f[4];
  }
  return sum;
}

int threads_for_load(int cpus, int cap, double wall_s, double others_busy_s, double ours_s,
                     int threads) {
  cap = std::max(1, cap);
  if (!(wall_s > 0.0)) return cap;
  const double others = std::max(0.0, others_busy_s) / wall_s;
  const double ours = std::max(0.0, ours_s) / wall_s;
  const double idle = cpus - others - ours;
  double demand = others;
  // Saturated (under half a CPU idle) while running: everyone got a share of what they asked
  // for; ours was `ours` of the `threads` (or more, counting our other threads) we asked for.
  if (idle < 0.5 && ours > 0.05) demand = others * std::max<double>(threads, ours) / ours;
  const double free_cpus = cpus - demand;
  return static_cast<int>(std::clamp(std::floor(free_cpus + 0.5), 1.0, static_cast<double>(cap)));
}

int usable_cpus() { return machine().usable; }

int intra_op_threads_setting() { return setting(); }

void set_intra_op_threads(int n) {
  if (n < 0)
    throw ValueError("set_intra_op_parallelism_threads: expected 0 (automatic) or a positive "
                     "thread count, received " + std::to_string(n));
  setting();  // read OMP_NUM_THREADS first, so it cannot overwrite this call later
  g_setting.store(n, std::memory_order_relaxed);
}

int max_threads_now() {
  const int fixed = setting();
  if (fixed > 0) return fixed;
  const Machine& m = machine();
  if (m.usable == 1) return 1;
  int current = g_auto.load(std::memory_order_relaxed);
  if (current == 0) {  // first call: start at the ceiling, measure from here
    int expected = 0;
    g_auto.compare_exchange_strong(expected, m.usable);
    current = g_auto.load(std::memory_order_relaxed);
  }
  const int64_t now = now_ns(kWindowClock);
  if (now >= g_next_sample_ns.load(std::memory_order_relaxed)) {
    maybe_resample(m, now);
    current = g_auto.load(std::memory_order_relaxed);
  }
  return current;
}

}  // namespace ff::cpu
