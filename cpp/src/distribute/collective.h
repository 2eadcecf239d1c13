// Collective: the communication of a data-parallel run (ff.distribute) between its workers, one
// process each. Every worker calls the same collectives in the same order (SPMD). Transports
// implement one primitive, `exchange` (point-to-point messages to and from peers, all at once,
// with a timeout); the collectives are built on it here, in the core, so that every transport
// reduces in the same fixed order:
//
//   allreduce_sum (floats or doubles): the buffer is cut into `size` chunks; worker c receives
//   chunk c of every worker (an all-to-all exchange: the reduce-scatter step), adds them in rank
//   order ((x_0 + x_1) + x_2) + ..., whatever the transport or the arrival order, then sends its
//   summed chunk to every worker (the all-gather step). Each worker sends and receives
//   2 (size - 1) / size of the buffer, as a ring all-reduce does, and a run is reproducible bit
//   for bit (MPI_Allreduce and NCCL's all-reduce choose their algorithm, and so their order of
//   addition, at run time).
//
// Transports: LocalCollective (one process; nothing to exchange), TcpCollective
// (distribute/tcp_collective.h: the launcher-free rendezvous through environment variables) and
// the MPI one (distribute/mpi/mpi_collective.cpp, in its own library libforgeflow_mpi.so loaded
// on first use: distribute/mpi_loader.h). A failure names the worker: one that closed its
// connection (its process ended: DistributedError Unavailable), one that sent nothing for
// `timeout_s` (it hangs or is gone: DeadlineExceeded), one whose message is not the collective
// this worker is in (the workers' programs differ: Aborted). After a failure the collective is
// broken: every later call raises at once (the job must be restarted).
//
// Everything a transport library needs from here is inline (it is loaded with RTLD_LOCAL and may
// use no symbol of the core): the collectives themselves live in collective.cpp, in the core.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"

namespace ff {

// One message of an exchange: `bytes` bytes to or from worker `peer`.
struct Transfer {
  int peer = 0;
  void* data = nullptr;
  size_t bytes = 0;
};

// What a message belongs to (checked by the receiver: a mismatch means the workers are in
// different collectives).
enum class CollectiveOp : uint32_t {
  ReduceScatter = 1,
  AllGatherSum = 2,
  AllGather = 3,
  Broadcast = 4,
  Barrier = 5,
};

inline const char* collective_op_name(uint32_t op) {
  switch (static_cast<CollectiveOp>(op)) {
    case CollectiveOp::ReduceScatter:
      return "an all-reduce (reduce-scatter step)";
    case CollectiveOp::AllGatherSum:
      return "an all-reduce (all-gather step)";
    case CollectiveOp::AllGather:
      return "an all-gather";
    case CollectiveOp::Broadcast:
      return "a broadcast";
    case CollectiveOp::Barrier:
      return "a barrier";
  }
  return "an unknown collective";
}

// Chunk c of n elements split among `parts` workers: [begin, begin + count), the first n % parts
// chunks one element longer. Also how a global batch is split among replicas.
struct Chunk {
  int64_t begin = 0, count = 0;
};
inline Chunk chunk_of(int64_t n, int parts, int c) {
  const int64_t base = n / parts, extra = n % parts;
  return {c * base + (c < extra ? c : extra), base + (c < extra ? 1 : 0)};
}

class Collective {
 public:
  // The default timeout: how long a worker may send nothing before the others give up on it.
  static constexpr double kDefaultTimeout = 300.0;

  virtual ~Collective() = default;
  int rank() const { return rank_; }
  int size() const { return size_; }
  // "local", "tcp", "mpi".
  virtual std::string transport() const = 0;
  double timeout_s() const { return timeout_s_; }
  void set_timeout(double seconds);
  bool broken() const { return broken_; }

  // ---- the collectives (collective.cpp); `what` names the operation in errors ("the gradient
  // all-reduce of epoch 2, step 5") ----
  // In place: data = the elementwise sum over the workers, added in rank order (see above).
  void allreduce_sum(float* data, int64_t n, const std::string& what);
  void allreduce_sum(double* data, int64_t n, const std::string& what);
  // Every worker's `values` (the same count on every worker), worker by worker.
  std::vector<int64_t> allgather(const std::vector<int64_t>& values, const std::string& what);
  // data = root's data (the same byte count on every worker).
  void broadcast(void* data, size_t bytes, int root, const std::string& what);
  void barrier(const std::string& what);

 protected:
  Collective(int rank, int size) : rank_(rank), size_(size) {}
  // Sends every `sends` item to its peer and receives every `recvs` item from its peer (at most
  // one of each per peer, never this worker), concurrently; returns when all completed. Raises
  // DistributedError naming the peer that closed its connection, sent nothing for timeout_s(),
  // or sent a message of another collective (`op`) or size. Called only when size() > 1 and the
  // collective is not broken.
  virtual void exchange(uint32_t op, const std::vector<Transfer>& sends,
                        const std::vector<Transfer>& recvs, const std::string& what) = 0;
  void mark_broken() { broken_ = true; }

  // "worker 2 (of 3)" for messages.
  std::string worker_name(int peer) const {
    return "worker " + std::to_string(peer) + " (of " + std::to_string(size_) + ")";
  }

 private:
  template <class T>
  void allreduce_impl(T* data, int64_t n, const std::string& what);
  void run_exchange(uint32_t op, const std::vector<Transfer>& sends,
                    const std::vector<Transfer>& recvs, const std::string& what);

  int rank_, size_;
  double timeout_s_ = kDefaultTimeout;
  bool broken_ = false;
  std::vector<char> staging_;  // the reduce-scatter step's received chunks
};

// One process: every collective is the identity.
class LocalCollective final : public Collective {
 public:
  LocalCollective() : Collective(0, 1) {}
  std::string transport() const override { return "local"; }

 protected:
  void exchange(uint32_t, const std::vector<Transfer>&, const std::vector<Transfer>&,
                const std::string&) override {}
};

}  // namespace ff
