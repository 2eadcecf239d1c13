// The bounded waits of ff.distribute's NCCL reducer (distribute/nccl_wait.h) on the CPU, with a
// fake communicator: a non-blocking initialisation polled to success, past the timeout (aborted,
// DeadlineExceeded naming the step) or to an error (aborted, NCCL's words in the message); the
// watchdog of launched steps; the start's outcome gathered from every worker.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "distribute/nccl_wait.h"

namespace {

// A communicator whose ncclCommGetAsyncError answers `states` in turn (the last one forever),
// on a clock that advances only when the wait sleeps.
struct FakeComm {
  std::vector<int> states;
  size_t asked = 0;
  int aborts = 0;
  double clock = 0;

  ff::NcclWaitHooks hooks() {
    ff::NcclWaitHooks h;
    h.state = [this] {
      const int s = states[std::min(asked, states.size() - 1)];
      ++asked;
      return s;
    };
    h.abort = [this] { ++aborts; };
    h.now = [this] { return clock; };
    h.sleep = [this](double s) { clock += s; };
    return h;
  }
};

const std::string kStep = "NCCL's communicator initialisation";

}  // namespace

TEST_CASE("nccl wait: in progress, then success", "[distribute][nccl-wait]") {
  FakeComm comm;
  comm.states = {ff::kNcclInProgress, ff::kNcclInProgress, ff::kNcclInProgress, ff::kNcclSuccess};
  const ff::NcclWaitOutcome o = ff::wait_for_nccl(comm.hooks(), 300.0);
  CHECK(o.end == ff::NcclWaitOutcome::End::Done);
  CHECK(comm.asked == 4);
  CHECK(comm.aborts == 0);
}

TEST_CASE("nccl wait: still in progress past the timeout aborts and names the step",
          "[distribute][nccl-wait]") {
  FakeComm comm;
  comm.states = {ff::kNcclInProgress};
  const ff::NcclWaitOutcome o = ff::wait_for_nccl(comm.hooks(), 2.5);
  CHECK(o.end == ff::NcclWaitOutcome::End::TimedOut);
  CHECK(comm.aborts == 1);
  CHECK(comm.clock >= 2.5);
  CHECK(comm.clock < 2.6);  // it polls at least every 10 ms: it stops soon after the deadline
  const ff::DistributedError e = ff::nccl_wait_error(o, kStep, "worker 1 (of 2)", 2.5, "unused");
  CHECK(e.kind == ff::DistributedError::Kind::DeadlineExceeded);
  const std::string m = e.what();
  CHECK(m.find("NCCL's communicator initialisation did not complete within 2.5 s on worker 1 "
               "(of 2)") != std::string::npos);
  CHECK(m.find("aborted") != std::string::npos);
  CHECK(m.find("FORGEFLOW_DISTRIBUTE_TIMEOUT") != std::string::npos);
}

TEST_CASE("nccl wait: an error aborts at once with NCCL's words", "[distribute][nccl-wait]") {
  FakeComm comm;
  const int remote_error = 6;  // ncclRemoteError
  comm.states = {ff::kNcclInProgress, remote_error, ff::kNcclSuccess};
  const ff::NcclWaitOutcome o = ff::wait_for_nccl(comm.hooks(), 300.0);
  CHECK(o.end == ff::NcclWaitOutcome::End::Failed);
  CHECK(o.code == remote_error);
  CHECK(comm.aborts == 1);
  CHECK(comm.asked == 2);
  const ff::DistributedError e = ff::nccl_wait_error(
      o, kStep, "worker 0 (of 2)", 300.0, "remote process exited or there was a network error");
  CHECK(e.kind == ff::DistributedError::Kind::Unavailable);
  CHECK(std::string(e.what()) ==
        "ff.distribute: NCCL error in NCCL's communicator initialisation on worker 0 (of 2): "
        "remote process exited or there was a network error; NCCL's communicator was aborted");
}

TEST_CASE("nccl wait: success at once needs no pause", "[distribute][nccl-wait]") {
  FakeComm comm;
  comm.states = {ff::kNcclSuccess};
  CHECK(ff::wait_for_nccl(comm.hooks(), 0.0).end == ff::NcclWaitOutcome::End::Done);
  CHECK(comm.clock == 0.0);
}

namespace {

struct FakeSteps {
  std::vector<bool> reached = std::vector<bool>(ff::StepWatch::kSlots, false);
  int state = ff::kNcclSuccess;
  int aborts = 0;

  ff::StepWatch::Hooks hooks() {
    ff::StepWatch::Hooks h;
    h.reached = [this](int slot) { return static_cast<bool>(reached[static_cast<size_t>(slot)]); };
    h.state = [this] { return state; };
    h.abort = [this] { ++aborts; };
    h.describe = [](int code) { return "NCCL code " + std::to_string(code); };
    return h;
  }
};

}  // namespace

TEST_CASE("step watch: steps that finish keep it quiet", "[distribute][nccl-wait]") {
  FakeSteps steps;
  ff::StepWatch watch(steps.hooks(), 10.0, "worker 0 (of 2)");
  const int a = watch.launched(0.0);
  const int b = watch.launched(1.0);
  CHECK(a == 0);
  CHECK(b == 1);
  CHECK(watch.poll(5.0));
  steps.reached[0] = true;
  CHECK(watch.poll(9.0));  // the first finished at 9: the second's time starts there
  CHECK(watch.in_flight() == 1);
  CHECK(watch.poll(18.0));
  steps.reached[1] = true;
  CHECK(watch.poll(100.0));
  CHECK(watch.in_flight() == 0);
  CHECK(watch.poll(1000.0));  // nothing in flight: no deadline
  CHECK(steps.aborts == 0);
  CHECK_NOTHROW(watch.check());
}

TEST_CASE("step watch: a step unfinished for the timeout aborts NCCL and raises",
          "[distribute][nccl-wait]") {
  FakeSteps steps;
  ff::StepWatch watch(steps.hooks(), 10.0, "worker 1 (of 3)");
  watch.launched(0.0);
  CHECK(watch.poll(9.99));
  CHECK_FALSE(watch.poll(10.0));
  CHECK(steps.aborts == 1);
  CHECK_FALSE(watch.poll(20.0));  // once failed, it stays so and aborts no more
  CHECK(steps.aborts == 1);
  try {
    watch.check();
    FAIL("no error");
  } catch (const ff::DistributedError& e) {
    CHECK(e.kind == ff::DistributedError::Kind::DeadlineExceeded);
    CHECK(std::string(e.what()).find("made no progress for 10 s on worker 1 (of 3)") !=
          std::string::npos);
  }
}

TEST_CASE("step watch: NCCL's asynchronous error aborts and raises it",
          "[distribute][nccl-wait]") {
  FakeSteps steps;
  ff::StepWatch watch(steps.hooks(), 300.0, "worker 0 (of 2)");
  watch.launched(0.0);
  steps.state = 6;
  CHECK_FALSE(watch.poll(1.0));
  CHECK(steps.aborts == 1);
  try {
    watch.check();
    FAIL("no error");
  } catch (const ff::DistributedError& e) {
    CHECK(e.kind == ff::DistributedError::Kind::Unavailable);
    CHECK(std::string(e.what()) ==
          "ff.distribute: NCCL error in the gradient all-reduce on worker 0 (of 2): NCCL code 6; "
          "NCCL's communicator was aborted");
  }
}

TEST_CASE("step watch: at most kSlots steps in flight", "[distribute][nccl-wait]") {
  FakeSteps steps;
  ff::StepWatch watch(steps.hooks(), 300.0, "worker 0 (of 2)");
  for (int i = 0; i < ff::StepWatch::kSlots; ++i) CHECK(watch.launched(0.0) == i);
  CHECK(watch.launched(0.0) == -1);
  CHECK(watch.oldest() == 0);
  steps.reached[0] = true;
  CHECK(watch.poll(1.0));
  CHECK(watch.oldest() == 1);
  CHECK(watch.launched(1.0) == 0);  // the freed slot is reused
}

TEST_CASE("nccl start: every worker's outcome names the ones that failed",
          "[distribute][nccl-wait]") {
  CHECK_NOTHROW(ff::raise_nccl_start_failures(0, {0, 0, 0}, ""));
  // This worker succeeded, worker 2 timed out: DeadlineExceeded naming worker 2.
  try {
    ff::raise_nccl_start_failures(0, {0, 0, 2}, "");
    FAIL("no error");
  } catch (const ff::DistributedError& e) {
    CHECK(e.kind == ff::DistributedError::Kind::DeadlineExceeded);
    CHECK(std::string(e.what()).find("NCCL's communicator initialisation failed on worker 2 "
                                     "(of 3)") != std::string::npos);
  }
  // This worker's own error keeps its words and kind, with the list of the failed workers.
  try {
    ff::raise_nccl_start_failures(1, {1, 1, 0}, "ff.distribute: NCCL error X");
    FAIL("no error");
  } catch (const ff::DistributedError& e) {
    CHECK(e.kind == ff::DistributedError::Kind::Unavailable);
    CHECK(std::string(e.what()) ==
          "ff.distribute: NCCL error X [NCCL's communicator initialisation failed on workers 0 "
          "and 1 (of 3)]");
  }
}
