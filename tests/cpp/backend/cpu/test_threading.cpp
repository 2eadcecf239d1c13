// Tests of backend/cpu/threading.cpp: the cgroup quota files (v2 cpu.max, v1 cfs quota/period)
// and /proc/self/cgroup read from sample contents (never the machine's own), /proc/stat lines
// summed over the affinity CPUs, the load rule (busy neighbours on every CPU -> one thread,
// quiet -> all), and the fixed setting.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>

#include "backend/cpu/threading.h"
#include "core/errors.h"
#include "test_util.h"

using namespace ff::cpu;

namespace {

// A read() over a map of path -> contents: the test's own cgroup filesystem.
auto files(std::map<std::string, std::string> contents) {
  return [contents](const std::string& path) -> std::optional<std::string> {
    auto it = contents.find(path);
    if (it == contents.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("cgroup v2 cpu.max gives the quota in CPUs", "[backend][cpu][threading]") {
  CHECK(parse_cgroup_v2_cpu_max("150000 100000\n") == Approx(1.5));
  CHECK(parse_cgroup_v2_cpu_max("200000 100000") == Approx(2.0));
  CHECK(parse_cgroup_v2_cpu_max("50000 100000\n") == Approx(0.5));
  CHECK(parse_cgroup_v2_cpu_max("400000\n") == Approx(4.0));  // period left at its default
  CHECK_FALSE(parse_cgroup_v2_cpu_max("max 100000\n"));
  CHECK_FALSE(parse_cgroup_v2_cpu_max(""));
  CHECK_FALSE(parse_cgroup_v2_cpu_max("garbage 100000"));
  CHECK_FALSE(parse_cgroup_v2_cpu_max("0 100000"));
}

TEST_CASE("cgroup v1 cfs quota and period give the quota in CPUs", "[backend][cpu][threading]") {
  CHECK(parse_cgroup_v1_quota("300000\n", "100000\n") == Approx(3.0));
  CHECK(parse_cgroup_v1_quota("25000", "100000") == Approx(0.25));
  CHECK_FALSE(parse_cgroup_v1_quota("-1\n", "100000\n"));
  CHECK_FALSE(parse_cgroup_v1_quota("100000", "0"));
  CHECK_FALSE(parse_cgroup_v1_quota("", "100000"));
}

TEST_CASE("a quota rounds up to whole CPUs within the affinity mask", "[backend][cpu][threading]") {
  CHECK(cpus_under_quota(8, std::nullopt) == 8);
  CHECK(cpus_under_quota(8, 1.5) == 2);
  CHECK(cpus_under_quota(8, 2.0) == 2);
  CHECK(cpus_under_quota(8, 0.25) == 1);
  CHECK(cpus_under_quota(2, 16.0) == 2);  // more quota than CPUs: the CPUs
  CHECK(cpus_under_quota(0, std::nullopt) == 1);
}

TEST_CASE("the cgroup limit is the smallest quota from the process's cgroup up to the root",
          "[backend][cpu][threading]") {
  SECTION("cgroup v2, the quota on a parent") {
    auto read = files({{"/sys/fs/cgroup/user.slice/job/cpu.max", "max 100000\n"},
                       {"/sys/fs/cgroup/user.slice/cpu.max", "250000 100000\n"}});
    CHECK(cgroup_cpu_limit("0::/user.slice/job\n", read) == Approx(2.5));
  }
  SECTION("cgroup v2 in a container (its own cgroup is the mount's root)") {
    auto read = files({{"/sys/fs/cgroup/cpu.max", "100000 100000\n"}});
    CHECK(cgroup_cpu_limit("0::/\n", read) == Approx(1.0));
  }
  SECTION("cgroup v2, a tighter quota below a looser one") {
    auto read = files({{"/sys/fs/cgroup/a/b/cpu.max", "150000 100000"},
                       {"/sys/fs/cgroup/a/cpu.max", "400000 100000"}});
    CHECK(cgroup_cpu_limit("0::/a/b\n", read) == Approx(1.5));
  }
  SECTION("cgroup v2 without any quota") {
    auto read = files({{"/sys/fs/cgroup/a/cpu.max", "max 100000"}});
    CHECK_FALSE(cgroup_cpu_limit("0::/a\n", read));
  }
  SECTION("cgroup v1 cpu controller, as docker sets it") {
    auto read = files({{"/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n"},
                       {"/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n"},
                       {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n"},
                       {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n"}});
    const std::string cgroup =
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n";
    CHECK(cgroup_cpu_limit(cgroup, read) == Approx(3.0));
  }
  SECTION("cgroup v1 inside the container: the path is not under the mount, its root is") {
    auto read = files({{"/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "50000"},
                       {"/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000"}});
    CHECK(cgroup_cpu_limit("3:cpuacct,cpu:/docker/abc\n", read) == Approx(0.5));
  }
  SECTION("hybrid v1 and v2: the smaller quota") {
    auto read = files({{"/sys/fs/cgroup/x/cpu.max", "300000 100000"},
                       {"/sys/fs/cgroup/cpu/x/cpu.cfs_quota_us", "200000"},
                       {"/sys/fs/cgroup/cpu/x/cpu.cfs_period_us", "100000"}});
    CHECK(cgroup_cpu_limit("5:cpu:/x\n0::/x\n", read) == Approx(2.0));
  }
  SECTION("nothing readable, or no cpu controller") {
    CHECK_FALSE(cgroup_cpu_limit("0::/a\n", files({})));
    CHECK_FALSE(cgroup_cpu_limit("7:memory:/a\n", files({})));
    CHECK_FALSE(cgroup_cpu_limit("", files({})));
    CHECK_FALSE(cgroup_cpu_limit("not a cgroup line\n", files({})));
  }
}

TEST_CASE("/proc/stat is summed over the affinity CPUs only", "[backend][cpu][threading]") {
  const std::string stat =
      "cpu  900 0 90 9000 10 0 5 0 0 0\n"
      "cpu0 100 1 10 1000 2 3 4 5 7 0\n"
      "cpu1 200 0 20 2000 0 0 0 0 0 0\n"
      "cpu12 300 0 30 3000 0 0 0 0 0 0\n"
      "intr 12345 0 0\n"
      "procs_running 3\n";
  // cpu0: busy = user 100 + nice 1 + system 10 + irq 3 + softirq 4 + steal 5 = 123, idle 1002
  const CpuTicks c0 = parse_proc_stat(stat, {0});
  CHECK(c0.busy == 123);
  CHECK(c0.total == 1125);
  const CpuTicks both = parse_proc_stat(stat, {0, 12});
  CHECK(both.busy == 123 + 330);
  CHECK(both.total == 1125 + 3330);
  CHECK(parse_proc_stat(stat, {5}).total == 0);  // not listed: nothing
  CHECK(parse_proc_stat("", {0}).total == 0);
}

TEST_CASE("the load rule leaves other processes their CPUs", "[backend][cpu][threading]") {
  // Quiet 2-CPU machine, 2 threads busy: both CPUs.
  CHECK(threads_for_load(2, 2, 1.0, 0.02, 1.95, 2) == 2);
  // A busy process on each of 2 CPUs, with 2 threads of ours: everyone got half a CPU; the
  // others want 2 -> 1 thread.
  CHECK(threads_for_load(2, 2, 1.0, 1.0, 1.0, 2) == 1);
  // The same with 1 thread of ours (it got 2/3 of a CPU): stays at 1.
  CHECK(threads_for_load(2, 2, 1.0, 1.33, 0.67, 1) == 1);
  // One busy process on 2 CPUs: 1 thread, and it stays there.
  CHECK(threads_for_load(2, 2, 1.0, 0.67, 1.33, 2) == 1);
  CHECK(threads_for_load(2, 2, 1.0, 1.0, 1.0, 1) == 1);
  // The neighbours stop: back to 2 from 1 thread (a CPU was idle).
  CHECK(threads_for_load(2, 2, 1.0, 0.0, 1.0, 1) == 2);
  // 16 CPUs with a busy process on each, 16 threads of ours: straight to 1.
  CHECK(threads_for_load(16, 16, 1.0, 8.0, 8.0, 16) == 1);
  // 16 CPUs, 8 busy: 8 threads, from 16 and from 8.
  CHECK(threads_for_load(16, 16, 1.0, 16.0 / 3, 32.0 / 3, 16) == 8);
  CHECK(threads_for_load(16, 16, 1.0, 8.0, 8.0, 8) == 8);
  // A light neighbour (a third of a CPU) does not cost a thread; the quota caps the count.
  CHECK(threads_for_load(2, 2, 1.0, 0.3, 1.7, 2) == 2);
  CHECK(threads_for_load(64, 4, 1.0, 10.0, 4.0, 4) == 4);
  // Our process idle in the window: the others' use is their demand.
  CHECK(threads_for_load(4, 4, 1.0, 3.0, 0.0, 4) == 1);
  CHECK(threads_for_load(4, 4, 1.0, 1.0, 0.0, 4) == 3);
  // A window of no length measures nothing: the ceiling.
  CHECK(threads_for_load(4, 4, 0.0, 0.0, 0.0, 1) == 4);
}

TEST_CASE("a fixed thread count holds whatever the load", "[backend][cpu][threading]") {
  {
    fftest::ScopedThreads fixed(6);
    CHECK(intra_op_threads_setting() == 6);
    CHECK(max_threads_now() == 6);
  }
  {
    fftest::ScopedThreads automatic(0);
    CHECK(intra_op_threads_setting() == 0);
    const int now = max_threads_now();
    CHECK(now >= 1);
    CHECK(now <= usable_cpus());
  }
  CHECK_THROWS_AS(set_intra_op_threads(-1), ff::ValueError);
}
