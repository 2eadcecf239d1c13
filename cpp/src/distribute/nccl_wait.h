// nccl_wait: the bounded waits of ff.distribute's NCCL reducer (backend/cuda/cuda_nccl.cu), apart
// from NCCL so that the CPU tests drive them with a fake communicator
// (tests/cpp/distribute/test_nccl_wait.cpp):
//
//   wait_for_nccl: a non-blocking NCCL communicator (config.blocking = 0) answers ncclInProgress
//   while it works in the background (its initialisation, a group that connects to a peer, its
//   finalisation); the caller polls ncclCommGetAsyncError until ncclSuccess, an error, or the
//   strategy's timeout, and on an error or the timeout the communicator is aborted
//   (ncclCommAbort), so nothing waits forever.
//
//   StepWatch: the steps a model launched on its GPU whose gradients NCCL sums. A watchdog thread
//   of the reducer asks it every few milliseconds whether the oldest unfinished step's event was
//   reached; a step still unfinished `timeout` seconds after the step before it finished (a peer
//   died or hangs inside a collective: NCCL's kernels wait for it forever) or an asynchronous
//   NCCL error aborts the communicator (its kernels then end) and leaves the error for the
//   training loop to raise.
//
// Inline only: the CUDA library uses it and may use no symbol of the core.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/errors.h"

namespace ff {

// NCCL's result codes the waits tell apart (nccl.h: ncclSuccess = 0, ncclInProgress = 7).
constexpr int kNcclSuccess = 0;
constexpr int kNcclInProgress = 7;

struct NcclWaitHooks {
  std::function<int()> state;          // ncclCommGetAsyncError's answer (or its own failure)
  std::function<void()> abort;         // ncclCommAbort
  std::function<double()> now;         // seconds on a monotonic clock
  std::function<void(double)> sleep;   // pause for this many seconds
};

struct NcclWaitOutcome {
  enum class End { Done, Failed, TimedOut };
  End end = End::Done;
  int code = kNcclSuccess;  // NCCL's error when Failed
};

// Polls until the communicator is no longer in progress or `timeout_s` has passed; an error or
// the timeout aborts it.
inline NcclWaitOutcome wait_for_nccl(const NcclWaitHooks& h, double timeout_s) {
  const double start = h.now();
  double pause = 1e-4;
  for (;;) {
    const int s = h.state();
    if (s == kNcclSuccess) return {NcclWaitOutcome::End::Done, s};
    if (s != kNcclInProgress) {
      h.abort();
      return {NcclWaitOutcome::End::Failed, s};
    }
    if (h.now() - start >= timeout_s) {
      h.abort();
      return {NcclWaitOutcome::End::TimedOut, s};
    }
    h.sleep(pause);
    pause = std::min(pause * 2, 0.01);
  }
}

inline std::string seconds_text(double s) {
  std::string t = std::to_string(s);
  t.erase(t.find_last_not_of('0') + 1);
  if (!t.empty() && t.back() == '.') t.pop_back();
  return t;
}

// The DistributedError of a wait that did not end in success: `step` names what waited ("NCCL's
// communicator initialisation"), `who` the worker ("worker 1 (of 2)"), `nccl_text` NCCL's words
// for the error (ncclGetErrorString and ncclGetLastError).
inline DistributedError nccl_wait_error(const NcclWaitOutcome& o, const std::string& step,
                                        const std::string& who, double timeout_s,
                                        const std::string& nccl_text) {
  if (o.end == NcclWaitOutcome::End::TimedOut)
    return DistributedError(
        DistributedError::Kind::DeadlineExceeded,
        "ff.distribute: " + step + " did not complete within " + seconds_text(timeout_s) +
            " s on " + who +
            " (a worker died or hangs); NCCL's communicator was aborted. The timeout is "
            "CommunicationOptions(timeout_seconds=...) or FORGEFLOW_DISTRIBUTE_TIMEOUT");
  return DistributedError(DistributedError::Kind::Unavailable,
                          "ff.distribute: NCCL error in " + step + " on " + who + ": " +
                              nccl_text + "; NCCL's communicator was aborted");
}

class StepWatch {
 public:
  // Steps in flight at most (their events are the reducer's; a launch beyond waits).
  static constexpr int kSlots = 8;

  struct Hooks {
    std::function<bool(int slot)> reached;  // the event of `slot` completed (cudaEventQuery)
    std::function<int()> state;             // ncclCommGetAsyncError
    std::function<void()> abort;            // ncclCommAbort
    std::function<std::string(int code)> describe;  // NCCL's words for an error code
  };

  StepWatch(Hooks hooks, double timeout_s, std::string who)
      : hooks_(std::move(hooks)), timeout_s_(timeout_s), who_(std::move(who)) {}

  // A step was launched at `now`: the slot to record its event in, or -1 when kSlots steps are
  // unfinished (the caller waits for the oldest's event, then asks again).
  int launched(double now) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (count_ == kSlots) return -1;
    const int slot = (first_ + count_) % kSlots;
    if (count_ == 0) since_ = now;
    ++count_;
    return slot;
  }

  // One look (the watchdog's, every few milliseconds): finished steps leave, and the oldest
  // unfinished one gets `timeout` seconds from when it became the oldest. False once failed.
  bool poll(double now) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failed_) return false;
    const int s = hooks_.state();
    if (s != kNcclSuccess && s != kNcclInProgress) {
      fail(DistributedError::Kind::Unavailable,
           "ff.distribute: NCCL error in the gradient all-reduce on " + who_ + ": " +
               hooks_.describe(s) + "; NCCL's communicator was aborted");
      return false;
    }
    while (count_ > 0 && hooks_.reached(first_)) {
      first_ = (first_ + 1) % kSlots;
      --count_;
      since_ = now;
    }
    if (count_ > 0 && now - since_ >= timeout_s_) {
      fail(DistributedError::Kind::DeadlineExceeded,
           "ff.distribute: a training step's gradient all-reduce (NCCL) made no progress for " +
               seconds_text(timeout_s_) + " s on " + who_ +
               " (a worker died or hangs); NCCL's communicator was aborted. The timeout is "
               "CommunicationOptions(timeout_seconds=...) or FORGEFLOW_DISTRIBUTE_TIMEOUT");
      return false;
    }
    return true;
  }

  int in_flight() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }
  int oldest() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_;
  }
  bool failed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failed_;
  }
  // Raises the failure, if any (the training loop's thread).
  void check() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failed_) throw DistributedError(kind_, message_);
  }

 private:
  void fail(DistributedError::Kind kind, std::string message) {
    failed_ = true;
    kind_ = kind;
    message_ = std::move(message);
    hooks_.abort();
  }

  Hooks hooks_;
  double timeout_s_;
  std::string who_;
  mutable std::mutex mutex_;
  int first_ = 0, count_ = 0;
  double since_ = 0;
  bool failed_ = false;
  DistributedError::Kind kind_ = DistributedError::Kind::Unavailable;
  std::string message_;
};

// Every worker's outcome of NCCL's start (0 ok, 1 an NCCL error, 2 the timeout), gathered through
// the host collective after it: raises, on every worker alike, naming the workers where it
// failed; `mine` is this worker's own message (kept when this worker failed).
inline void raise_nccl_start_failures(int rank, const std::vector<int64_t>& statuses,
                                      const std::string& mine) {
  std::vector<int> failed;
  bool timed_out = false;
  for (size_t w = 0; w < statuses.size(); ++w)
    if (statuses[w] != 0) {
      failed.push_back(static_cast<int>(w));
      timed_out = timed_out || statuses[w] == 2;
    }
  if (failed.empty()) return;
  std::string names;
  for (size_t i = 0; i < failed.size(); ++i)
    names += (i ? (i + 1 == failed.size() ? " and " : ", ") : "") + std::to_string(failed[i]);
  const std::string n = std::to_string(statuses.size());
  const std::string where = "NCCL's communicator initialisation failed on worker" +
                            std::string(failed.size() > 1 ? "s " : " ") + names + " (of " + n +
                            ")";
  const auto kind =
      timed_out ? DistributedError::Kind::DeadlineExceeded : DistributedError::Kind::Unavailable;
  const size_t me = static_cast<size_t>(rank);
  if (me < statuses.size() && statuses[me] != 0)
    throw DistributedError(statuses[me] == 2 ? DistributedError::Kind::DeadlineExceeded
                                             : DistributedError::Kind::Unavailable,
                           mine + " [" + where + "]");
  throw DistributedError(kind, "ff.distribute: " + where +
                                   "; this worker's communicator was aborted (the failed "
                                   "workers' errors say why)");
}

}  // namespace ff
