// TcpCollective: the workers of a run started without an MPI launcher (torchrun-style: every
// process told its rank, the number of workers and the address of worker 0 through environment
// variables; python/forgeflow/distribute/cluster.py reads them) connected by TCP, one socket per
// pair of workers.
//
// Why not MPI here: Open MPI cannot join processes it did not start into one communicator
// without its own runtime (MPI_Comm_join / MPI_Comm_connect between singletons need an
// `ompi-server` name server), so a launcher-free run needs a rendezvous of its own anyway. Over
// it, the CPU's collectives run on these sockets (as PyTorch's Gloo does for torchrun on CPUs),
// with the same fixed-order all-reduce as MPI (collective.h); on GPUs the rendezvous only hands
// out NCCL's unique id and NCCL moves the gradients.
//
// Rendezvous: worker 0 listens on `port` (all interfaces); every other worker opens a listening
// socket on a free port, connects to worker 0 (retrying until the timeout: worker 0 may start
// later) and says hello (its rank, the world size it was given, its own port; its address is the
// one worker 0 sees). Worker 0 checks the ranks (each of 1..size-1 once) and world sizes, then
// sends everyone the table of addresses; each worker connects to the workers of lower rank and
// accepts those of higher rank. Every socket is non-blocking and every wait is a poll() bounded
// by the timeout, so a worker that never comes is named, never waited on forever.
//
// Messages carry a header (magic, collective, sequence number, byte count) that the receiver
// checks against what it expects, so workers that run different collectives fail with an error
// instead of exchanging garbage.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "distribute/collective.h"

namespace ff {

class TcpCollective final : public Collective {
 public:
  // Connects this worker (rank of size) to the others through worker 0 at address:port;
  // raises DistributedError naming who did not join within `timeout_s`.
  TcpCollective(int rank, int size, const std::string& address, int port, double timeout_s);
  ~TcpCollective() override;
  std::string transport() const override { return "tcp"; }

 protected:
  void exchange(uint32_t op, const std::vector<Transfer>& sends, const std::vector<Transfer>& recvs,
                const std::string& what) override;

 private:
  // Peers other than `except` whose connections are closed (or close within a short grace).
  std::vector<int> closed_peers(int except) const;
  void rendezvous(const std::string& address, int port);
  std::vector<int> fds_;                   // per peer (-1 for this worker)
  std::vector<uint64_t> sent_, received_;  // per peer: messages so far (the sequence numbers)
};

}  // namespace ff
