// The MPI transport of ff.distribute (a run launched with `mpirun -np N python train.py`): the
// `exchange` of Collective (distribute/collective.h) over MPI's non-blocking point-to-point
// messages, so the fixed-order collectives of the core run over whatever MPI uses between the
// processes (shared memory on one machine, TCP or InfiniBand between machines).
//
// Built as its own library, libforgeflow_mpi.so, loaded on first use (distribute/mpi_loader.cpp)
// so that `import forgeflow` never loads MPI, and MPI_Init runs only when a strategy asks for it.
// It uses only the core's inline code (it is linked with --no-undefined and loaded RTLD_LOCAL).
//
// Every message goes through buffers this object owns (copied in before the send, out after the
// receive): after a timeout the pending requests are abandoned with their buffers, which are
// never freed, so a late message can never write into memory the caller has freed since. Every
// wait polls MPI_Testsome against the timeout, naming the worker that did not deliver; a message
// whose tag is not the collective this worker is in (the workers run different programs) or
// whose size differs is an error too (MPI_ANY_TAG receives, checked).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "distribute/collective.h"

namespace ff {
namespace {

using Clock = std::chrono::steady_clock;
// False once a collective failed: MPI_Finalize would then wait on the dead or hung peer, so the
// process exits without it and the launcher ends the job.
bool g_finalize_ok = true;
// Messages larger than this go in pieces (MPI counts are int).
constexpr size_t kPiece = size_t{1} << 30;
constexpr int kSeqTags = 4096;

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(len));
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

class MpiCollective final : public Collective {
 public:
  MpiCollective(int rank, int size, MPI_Comm comm)
      : Collective(rank, size),
        comm_(comm),
        sent_(static_cast<size_t>(size), 0),
        received_(static_cast<size_t>(size), 0) {}

  ~MpiCollective() override {
    if (broken()) {
      // Requests may still be pending on these buffers: they are left allocated on purpose.
      for (auto& b : buffers_) (void)b.release();
      return;
    }
  }

  std::string transport() const override { return "mpi"; }

 protected:
  void exchange(uint32_t op, const std::vector<Transfer>& sends, const std::vector<Transfer>& recvs,
                const std::string& what) override {
    struct Item {
      int peer;
      bool receive;
      size_t bytes;
      char* buffer;
      int tag;
      std::vector<MPI_Request> requests;
      size_t pending = 0;
    };
    std::vector<Item> items;
    items.reserve(sends.size() + recvs.size());
    size_t total = 0;
    for (const Transfer& t : sends) total += t.bytes;
    for (const Transfer& t : recvs) total += t.bytes;
    char* base = buffer(total);
    size_t offset = 0;
    for (const Transfer& t : sends) {
      const uint64_t seq = sent_[static_cast<size_t>(t.peer)]++;
      items.push_back({t.peer, false, t.bytes, base + offset, tag_of(op, seq), {}, 0});
      std::memcpy(base + offset, t.data, t.bytes);
      offset += t.bytes;
    }
    for (const Transfer& t : recvs) {
      const uint64_t seq = received_[static_cast<size_t>(t.peer)]++;
      items.push_back({t.peer, true, t.bytes, base + offset, tag_of(op, seq), {}, 0});
      offset += t.bytes;
    }
    // Post everything: receives with MPI_ANY_TAG (a message of another collective is then seen
    // and named instead of waited for), one request per piece.
    std::vector<MPI_Request> all;
    std::vector<std::pair<size_t, size_t>> owner;  // request -> (item, piece)
    for (size_t k = 0; k < items.size(); ++k) {
      Item& it = items[k];
      const size_t pieces = std::max<size_t>(1, (it.bytes + kPiece - 1) / kPiece);
      for (size_t piece = 0; piece < pieces; ++piece) {
        const size_t begin = piece * kPiece;
        const int count = static_cast<int>(std::min(kPiece, it.bytes - begin));
        MPI_Request req;
        const int rc =
            it.receive
                ? MPI_Irecv(it.buffer + begin, count, MPI_BYTE, it.peer, MPI_ANY_TAG, comm_, &req)
                : MPI_Isend(it.buffer + begin, count, MPI_BYTE, it.peer, it.tag, comm_, &req);
        if (rc != MPI_SUCCESS)
          fail(DistributedError::Kind::Unavailable,
               std::string(it.receive ? "receiving from " : "sending to ") + worker_name(it.peer) +
                   " failed during " + what + ": " + mpi_error_text(rc));
        all.push_back(req);
        owner.emplace_back(k, piece);
        ++it.pending;
      }
    }
    const auto timeout =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s()));
    std::vector<Clock::time_point> last(static_cast<size_t>(size()), Clock::now());
    std::vector<int> done(all.size());
    std::vector<MPI_Status> statuses(all.size());
    size_t remaining = all.size();
    auto sleep = std::chrono::microseconds(0);
    while (remaining > 0) {
      int outcount = 0;
      const int rc = MPI_Testsome(static_cast<int>(all.size()), all.data(), &outcount, done.data(),
                                  statuses.data());
      if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS)
        fail(DistributedError::Kind::Unavailable,
             "MPI failed during " + what + ": " + mpi_error_text(rc));
      if (outcount == MPI_UNDEFINED) outcount = 0;
      for (int j = 0; j < outcount; ++j) {
        const size_t r = static_cast<size_t>(done[j]);
        Item& it = items[owner[r].first];
        const MPI_Status& st = statuses[static_cast<size_t>(j)];
        if (rc == MPI_ERR_IN_STATUS && st.MPI_ERROR != MPI_SUCCESS &&
            st.MPI_ERROR != MPI_ERR_PENDING) {
          if (it.receive && st.MPI_ERROR == MPI_ERR_TRUNCATE)
            fail(DistributedError::Kind::Aborted,
                 worker_name(it.peer) + " sent more data than this worker expects during " + what +
                     " (" + collective_op_name(op) + "): the workers' models differ");
          fail(DistributedError::Kind::Unavailable,
               worker_name(it.peer) + ": " + mpi_error_text(st.MPI_ERROR) + " during " + what);
        }
        if (it.receive) {
          int count = 0;
          MPI_Get_count(&st, MPI_BYTE, &count);
          const size_t begin = owner[r].second * kPiece;
          const size_t want = std::min(kPiece, it.bytes - begin);
          if (st.MPI_TAG != it.tag) {
            const uint32_t their_op = static_cast<uint32_t>(st.MPI_TAG % 8);
            fail(DistributedError::Kind::Aborted,
                 worker_name(it.peer) + " is in " + collective_op_name(their_op) +
                     " while this worker is in " + what + " (" + collective_op_name(op) +
                     "): the workers do not run the same program (every worker must build, "
                     "compile and fit the same model on the same settings)");
          }
          if (static_cast<size_t>(count) != want)
            fail(DistributedError::Kind::Aborted,
                 worker_name(it.peer) + " sent " + std::to_string(count) + " bytes for " + what +
                     " where this worker expects " + std::to_string(want) +
                     ": the workers' models differ (every worker must build the same model)");
        }
        last[static_cast<size_t>(it.peer)] = Clock::now();
        --it.pending;
        --remaining;
      }
      if (remaining == 0) break;
      if (outcount > 0) {
        sleep = std::chrono::microseconds(0);
        continue;
      }
      // Nothing finished: is some peer overdue? Name the first whose transfers are pending.
      const auto now = Clock::now();
      for (const Item& it : items) {
        if (it.pending == 0) continue;
        if (now - last[static_cast<size_t>(it.peer)] >= timeout)
          fail(DistributedError::Kind::DeadlineExceeded,
               worker_name(it.peer) + (it.receive ? " sent nothing" : " took nothing") + " for " +
                   seconds_text(timeout_s()) + " s during " + what + " (" + collective_op_name(op) +
                   "): it hangs, is far behind or is gone. This worker stops (the timeout: "
                   "CommunicationOptions(timeout_seconds=...) or FORGEFLOW_DISTRIBUTE_TIMEOUT)");
      }
      // Back off from spinning (the machine may run more workers than cores).
      if (sleep.count() > 0) std::this_thread::sleep_for(sleep);
      sleep = std::min(sleep * 2 + std::chrono::microseconds(20), std::chrono::microseconds(1000));
    }
    for (size_t k = 0, i = sends.size(); k < recvs.size(); ++k, ++i)
      std::memcpy(recvs[k].data, items[i].buffer, recvs[k].bytes);
  }

 private:
  [[noreturn]] void fail(DistributedError::Kind kind, const std::string& text) {
    mark_broken();
    g_finalize_ok = false;
    throw DistributedError(kind, "ff.distribute: " + text);
  }

  static int tag_of(uint32_t op, uint64_t seq) {
    return static_cast<int>((seq % kSeqTags) * 8 + op);
  }

  // One buffer for this exchange's messages, at least `bytes` long (reused between exchanges).
  char* buffer(size_t bytes) {
    if (buffers_.empty() || capacity_ < bytes) {
      buffers_.clear();
      buffers_.emplace_back(new char[std::max<size_t>(bytes, 1)]);
      capacity_ = bytes;
    }
    return buffers_.back().get();
  }

  MPI_Comm comm_;
  std::vector<uint64_t> sent_, received_;
  std::vector<std::unique_ptr<char[]>> buffers_;
  size_t capacity_ = 0;
};

}  // namespace
}  // namespace ff

extern "C" {

// MPI_Init (once; MPI_THREAD_SERIALIZED) and a collective over a duplicate of MPI_COMM_WORLD
// whose errors return instead of aborting. Null with `message` filled when MPI fails.
__attribute__((visibility("default"))) ff::Collective* forgeflow_mpi_collective(char* message,
                                                                                size_t size) {
  auto say = [&](const std::string& text) {
    if (size) std::snprintf(message, size, "%s", text.c_str());
  };
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized) {
    say("MPI was already finalized in this process");
    return nullptr;
  }
  if (!initialized) {
    int provided = 0;
    const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) {
      say("MPI_Init_thread failed: " + ff::mpi_error_text(rc));
      return nullptr;
    }
  }
  MPI_Comm comm;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &comm) != MPI_SUCCESS) {
    say("MPI_Comm_dup failed");
    return nullptr;
  }
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  int rank = 0, n = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &n);
  try {
    return new ff::MpiCollective(rank, n, comm);
  } catch (const std::exception& e) {
    say(e.what());
    return nullptr;
  }
}

// MPI_Finalize at interpreter exit, unless MPI is not initialized or a collective failed.
__attribute__((visibility("default"))) int forgeflow_mpi_finalize() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized || !ff::g_finalize_ok) return 0;
  return MPI_Finalize() == MPI_SUCCESS ? 1 : 0;
}

}  // extern "C"
