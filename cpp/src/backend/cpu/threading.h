// How many threads the CPU backend's kernels use. The ceiling is the CPUs this process may
// actually run on (its affinity mask, and a cgroup CPU quota: cpu.max / cfs_quota_us, rounded
// up), or a count the user fixed (OMP_NUM_THREADS, ff.config.threading). Under the automatic
// setting the count also follows the machine's load: every 100 ms the CPU time other processes
// took on our CPUs is read from /proc/stat, and only the CPUs they leave free get a thread, so
// lock-step OpenMP teams never wait on threads the scheduler has parked behind someone else's
// work. Each kernel then keeps as many of those threads busy as its size pays for (parallel.h).
// Results never depend on the count (see parallel.h), so it may change between any two kernels.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ff::cpu {

// ---- the thread-count policy ----

// The CPUs this process may use: the affinity mask's size, lowered to a cgroup CPU quota
// (rounded up). Read once, at the first call.
int usable_cpus();

// The user's fixed thread count (ff.config.threading.set_intra_op_parallelism_threads, or
// OMP_NUM_THREADS in the environment when the process started), or 0 for automatic.
int intra_op_threads_setting();
// 0 = automatic; n > 0 = every kernel large enough uses up to n threads, whatever the load.
// Raises ValueError for n < 0.
void set_intra_op_threads(int n);

// The threads a kernel may use now: the fixed setting, or (automatic) the usable CPUs that other
// processes leave free, at least 1. Cheap (a clock read; the load is re-measured at most every
// 100 ms, by whichever thread calls first).
int max_threads_now();

// ---- what the policy reads, as pure functions over file contents (unit-tested) ----

// CPUs granted by a cgroup v2 "cpu.max" file ("150000 100000" -> 1.5; "max 100000" -> none).
std::optional<double> parse_cgroup_v2_cpu_max(const std::string& text);
// CPUs granted by cgroup v1 "cpu.cfs_quota_us" / "cpu.cfs_period_us" (quota -1 -> none).
std::optional<double> parse_cgroup_v1_quota(const std::string& quota, const std::string& period);
// The smallest CPU quota on the way from this process's cgroup (named in /proc/self/cgroup's
// text) up to the root of the v2 hierarchy or the v1 "cpu" controller's; `read` returns a file's
// text, or nothing when it cannot be read. None when no level sets a quota.
std::optional<double> cgroup_cpu_limit(
    const std::string& proc_self_cgroup,
    const std::function<std::optional<std::string>(const std::string&)>& read);
// ceil(quota), at least 1, at most `cpus`; `cpus` itself without a quota.
int cpus_under_quota(int cpus, std::optional<double> quota);

// Busy and total time (in /proc/stat ticks) summed over the listed CPUs' "cpuN" lines. Busy is
// user + nice + system + irq + softirq + steal (guest time is inside user).
struct CpuTicks {
  uint64_t busy = 0, total = 0;
};
CpuTicks parse_proc_stat(const std::string& text, const std::vector<int>& cpus);

// The threads to run given what one window of `wall_s` seconds measured: `cpus` usable CPUs
// (`cap` of them at most), `others_busy_s` CPU seconds other processes took on them, `ours_s`
// CPU seconds this process took, with `threads` threads running kernels. When the CPUs had
// idle time, the others' demand is what they took; when they were saturated, the scheduler
// shared them out, so the others' demand is scaled up by how much of its demand this process
// got. One thread per CPU left free (rounded), between 1 and cap.
int threads_for_load(int cpus, int cap, double wall_s, double others_busy_s, double ours_s,
                     int threads);

}  // namespace ff::cpu
