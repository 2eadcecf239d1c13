// TcpCollective (see tcp_collective.h): the rendezvous through worker 0 and the exchange of
// framed messages over non-blocking sockets, every wait bounded by the timeout.
#include "distribute/tcp_collective.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace ff {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kMagic = 0x46464443;  // "FFDC"
constexpr uint32_t kVersion = 1;

struct Header {
  uint32_t magic;
  uint32_t op;
  uint64_t seq;
  uint64_t bytes;
};

struct Hello {
  uint32_t magic, version;
  int32_t rank, size;
  int32_t port;
  uint32_t address;  // network byte order (filled by worker 0 from what it sees)
};

struct Endpoint {
  uint32_t address;  // network byte order
  int32_t port;
};

[[noreturn]] void fail(DistributedError::Kind kind, const std::string& what) {
  throw DistributedError(kind, "ff.distribute: " + what);
}

std::string errno_text(int e) { return std::strerror(e); }

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    fail(DistributedError::Kind::Unavailable, "fcntl(O_NONBLOCK) failed: " + errno_text(errno));
}

void tune(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_nonblocking(fd);
}

double seconds_left(Clock::time_point deadline) {
  return std::chrono::duration<double>(deadline - Clock::now()).count();
}

// Waits until fd is ready for `events` or the deadline passes (false then).
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const double left = seconds_left(deadline);
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int ms = static_cast<int>(std::min(left * 1000.0 + 1.0, 1000.0));
    const int r = poll(&p, 1, ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR)
      fail(DistributedError::Kind::Unavailable, "poll failed: " + errno_text(errno));
  }
}

// Reads exactly n bytes (rendezvous messages); false on a timeout. `who` names the peer.
bool read_full(int fd, void* buf, size_t n, Clock::time_point deadline, const std::string& who) {
  char* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t r = recv(fd, p, n, 0);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0)
      fail(DistributedError::Kind::Unavailable, who +
                                                    " closed its connection during the "
                                                    "rendezvous (its process ended)");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      fail(DistributedError::Kind::Unavailable, "reading from " + who +
                                                    " during the rendezvous "
                                                    "failed: " +
                                                    errno_text(errno));
    if (!wait_for(fd, POLLIN, deadline)) return false;
  }
  return true;
}

bool write_full(int fd, const void* buf, size_t n, Clock::time_point deadline,
                const std::string& who) {
  const char* p = static_cast<const char*>(buf);
  while (n > 0) {
    const ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      fail(DistributedError::Kind::Unavailable, "sending to " + who +
                                                    " during the rendezvous "
                                                    "failed: " +
                                                    errno_text(errno) + " (its process ended?)");
    if (!wait_for(fd, POLLOUT, deadline)) return false;
  }
  return true;
}

// A listening socket on `port` (0: any free port) of every interface.
int listen_on(int port, int backlog) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail(DistributedError::Kind::Unavailable, "socket() failed: " + errno_text(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    const int e = errno;
    close(fd);
    fail(DistributedError::Kind::Unavailable,
         "worker 0 cannot listen on port " + std::to_string(port) + ": " + errno_text(e) +
             (e == EADDRINUSE ? " (another process uses it: choose another port, "
                                "FORGEFLOW_MASTER_PORT / MASTER_PORT)"
                              : ""));
  }
  if (listen(fd, backlog) < 0) {
    const int e = errno;
    close(fd);
    fail(DistributedError::Kind::Unavailable, "listen() failed: " + errno_text(e));
  }
  set_nonblocking(fd);
  return fd;
}

int local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// Accepts one connection before the deadline (-1 on a timeout).
int accept_one(int listener, Clock::time_point deadline) {
  for (;;) {
    const int fd = accept(listener, nullptr, nullptr);
    if (fd >= 0) {
      tune(fd);
      return fd;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      fail(DistributedError::Kind::Unavailable, "accept() failed: " + errno_text(errno));
    if (!wait_for(listener, POLLIN, deadline)) return -1;
  }
}

// Connects to address:port (network order address), retrying refused connections (the peer
// may not listen yet) until the deadline; -1 on a timeout.
int connect_to(uint32_t address, int port, Clock::time_point deadline, const std::string& who) {
  for (;;) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail(DistributedError::Kind::Unavailable, "socket() failed: " + errno_text(errno));
    set_nonblocking(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = address;
    a.sin_port = htons(static_cast<uint16_t>(port));
    int r = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (r < 0 && errno == EINPROGRESS) {
      if (!wait_for(fd, POLLOUT, deadline)) {
        close(fd);
        return -1;
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err ? -1 : 0;
      errno = err;
    }
    if (r == 0) {
      tune(fd);
      return fd;
    }
    const int e = errno;
    close(fd);
    if (e != ECONNREFUSED && e != ETIMEDOUT && e != EHOSTUNREACH && e != ENETUNREACH &&
        e != ECONNRESET)
      fail(DistributedError::Kind::Unavailable,
           "connecting to " + who + " failed: " + errno_text(e));
    if (seconds_left(deadline) <= 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

uint32_t resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int r = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (r != 0 || !res)
    fail(DistributedError::Kind::Unavailable,
         "cannot resolve the address of worker 0, \"" + host +
             "\" (FORGEFLOW_MASTER_ADDR / MASTER_ADDR): " + gai_strerror(r));
  const uint32_t address = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr.s_addr;
  freeaddrinfo(res);
  return address;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

TcpCollective::TcpCollective(int rank, int size, const std::string& address, int port,
                             double timeout_s)
    : Collective(rank, size) {
  if (size < 1)
    throw ValueError("the number of workers must be at least 1; received " + std::to_string(size));
  if (rank < 0 || rank >= size)
    throw ValueError("the rank of a worker must be in [0, " + std::to_string(size) +
                     "); received " + std::to_string(rank));
  if (port <= 0 || port > 65535)
    throw ValueError("the port of worker 0 must be in 1..65535; received " + std::to_string(port));
  set_timeout(timeout_s);
  fds_.assign(static_cast<size_t>(size), -1);
  sent_.assign(static_cast<size_t>(size), 0);
  received_.assign(static_cast<size_t>(size), 0);
  if (size == 1) return;
  try {
    rendezvous(address, port);
  } catch (...) {
    for (int& fd : fds_)
      if (fd >= 0) close(fd);
    throw;
  }
}

TcpCollective::~TcpCollective() {
  for (int fd : fds_)
    if (fd >= 0) close(fd);
}

void TcpCollective::rendezvous(const std::string& address, int port) {
  const int n = size();
  const int me = rank();
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_s()));
  const std::string waited = " within " + seconds_text(timeout_s()) + " s";
  std::vector<Endpoint> table(static_cast<size_t>(n));
  if (me == 0) {
    const int listener = listen_on(port, n);
    std::vector<bool> joined(static_cast<size_t>(n), false);
    joined[0] = true;
    try {
      for (int k = 1; k < n; ++k) {
        const int fd = accept_one(listener, deadline);
        if (fd < 0) {
          std::string missing;
          for (int r = 1; r < n; ++r)
            if (!joined[static_cast<size_t>(r)])
              missing += (missing.empty() ? "" : ", ") + std::to_string(r);
          fail(DistributedError::Kind::DeadlineExceeded,
               "worker(s) " + missing + " of " + std::to_string(n) +
                   " did not join worker 0 (port " + std::to_string(port) + ")" + waited +
                   ": not started, or started with another "
                   "address, port or number of workers");
        }
        Hello h{};
        if (!read_full(fd, &h, sizeof h, deadline, "a joining worker")) {
          close(fd);
          fail(DistributedError::Kind::DeadlineExceeded,
               "a process connected to worker 0's port " + std::to_string(port) +
                   " but did not say which worker it is" + waited);
        }
        if (h.magic != kMagic || h.version != kVersion) {
          close(fd);
          fail(DistributedError::Kind::Aborted,
               "a process that is not a forgeflow worker of this "
               "version connected to worker 0's port " +
                   std::to_string(port));
        }
        if (h.size != n) {
          close(fd);
          fail(DistributedError::Kind::Aborted, "worker " + std::to_string(h.rank) +
                                                    " was started for " + std::to_string(h.size) +
                                                    " workers, worker 0 for " + std::to_string(n) +
                                                    " (FORGEFLOW_WORLD_SIZE / "
                                                    "WORLD_SIZE must be the same everywhere)");
        }
        if (h.rank <= 0 || h.rank >= n || joined[static_cast<size_t>(h.rank)]) {
          close(fd);
          fail(DistributedError::Kind::Aborted,
               "two workers claim rank " + std::to_string(h.rank) +
                   " (each worker needs its own FORGEFLOW_RANK / RANK in 0.." +
                   std::to_string(n - 1) + ")");
        }
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
        table[static_cast<size_t>(h.rank)] = {peer.sin_addr.s_addr, h.port};
        joined[static_cast<size_t>(h.rank)] = true;
        fds_[static_cast<size_t>(h.rank)] = fd;
      }
    } catch (...) {
      close(listener);
      throw;
    }
    close(listener);
    for (int r = 1; r < n; ++r)
      if (!write_full(fds_[static_cast<size_t>(r)], table.data(), sizeof(Endpoint) * table.size(),
                      deadline, worker_name(r)))
        fail(DistributedError::Kind::DeadlineExceeded,
             "could not send the address table to " + worker_name(r) + waited);
    return;
  }
  // A worker other than 0: a listener for the workers of higher rank, then worker 0.
  const int listener = listen_on(0, n);
  try {
    const int own_port = local_port(listener);
    const int master = connect_to(resolve(address), port, deadline, "worker 0");
    if (master < 0)
      fail(DistributedError::Kind::DeadlineExceeded,
           "worker 0 did not accept a connection at " + address + ":" + std::to_string(port) +
               waited +
               " (not started, or another address or port: FORGEFLOW_MASTER_ADDR / "
               "MASTER_ADDR, FORGEFLOW_MASTER_PORT / MASTER_PORT)");
    fds_[0] = master;
    Hello h{kMagic, kVersion, me, n, own_port, 0};
    if (!write_full(master, &h, sizeof h, deadline, "worker 0") ||
        !read_full(master, table.data(), sizeof(Endpoint) * table.size(), deadline, "worker 0"))
      fail(DistributedError::Kind::DeadlineExceeded, "worker 0 did not send the table of workers" +
                                                         waited +
                                                         ": some other worker did not "
                                                         "join it (its error names which)");
    for (int r = 1; r < me; ++r) {
      const Endpoint& e = table[static_cast<size_t>(r)];
      const int fd = connect_to(e.address, e.port, deadline, worker_name(r));
      if (fd < 0)
        fail(DistributedError::Kind::DeadlineExceeded,
             worker_name(r) + " did not accept a connection" + waited);
      fds_[static_cast<size_t>(r)] = fd;
      const int32_t id[2] = {static_cast<int32_t>(kMagic), me};
      if (!write_full(fd, id, sizeof id, deadline, worker_name(r)))
        fail(DistributedError::Kind::DeadlineExceeded, worker_name(r) + " took no data" + waited);
    }
    for (int k = me + 1; k < n; ++k) {
      const int fd = accept_one(listener, deadline);
      if (fd < 0)
        fail(DistributedError::Kind::DeadlineExceeded,
             "the workers of rank above " + std::to_string(me) + " did not all connect" + waited);
      int32_t id[2] = {0, 0};
      if (!read_full(fd, id, sizeof id, deadline, "a worker")) {
        close(fd);
        fail(DistributedError::Kind::DeadlineExceeded,
             "a worker connected but sent nothing" + waited);
      }
      if (id[0] != static_cast<int32_t>(kMagic) || id[1] <= me || id[1] >= n ||
          fds_[static_cast<size_t>(id[1])] >= 0) {
        close(fd);
        fail(DistributedError::Kind::Aborted,
             "an unexpected connection arrived during the "
             "rendezvous (rank " +
                 std::to_string(id[1]) + ")");
      }
      fds_[static_cast<size_t>(id[1])] = fd;
    }
  } catch (...) {
    close(listener);
    throw;
  }
  close(listener);
}

std::vector<int> TcpCollective::closed_peers(int except) const {
  // The peers (other than `except` and this worker) whose connection is closed or closes within
  // a short grace: a worker that ended closed its sockets before any worker could react to it,
  // so its end has reached this worker by then (in practice at once on one machine).
  std::vector<int> out;
  std::vector<pollfd> fds;
  std::vector<int> peers;
  for (int q = 0; q < size(); ++q) {
    if (q == except || q == rank() || fds_[static_cast<size_t>(q)] < 0) continue;
    fds.push_back({fds_[static_cast<size_t>(q)], static_cast<short>(POLLRDHUP), 0});
    peers.push_back(q);
  }
  const auto until = Clock::now() + std::chrono::milliseconds(200);
  while (!fds.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    const int r = poll(fds.data(), static_cast<nfds_t>(fds.size()),
                       static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (size_t k = fds.size(); k-- > 0;) {
      if (!(fds[k].revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
      out.push_back(peers[k]);
      fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(k));
      peers.erase(peers.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  return out;
}

void TcpCollective::exchange(uint32_t op, const std::vector<Transfer>& sends,
                             const std::vector<Transfer>& recvs, const std::string& what) {
  const int n = size();
  struct Side {
    bool active = false;
    Header header{};
    size_t header_done = 0;
    char* data = nullptr;
    size_t bytes = 0, done = 0;
  };
  std::vector<Side> out(static_cast<size_t>(n)), in(static_cast<size_t>(n));
  for (const Transfer& t : sends) {
    Side& s = out.at(static_cast<size_t>(t.peer));
    s.active = true;
    s.header = {kMagic, op, sent_[static_cast<size_t>(t.peer)]++, t.bytes};
    s.data = static_cast<char*>(t.data);
    s.bytes = t.bytes;
  }
  for (const Transfer& t : recvs) {
    Side& s = in.at(static_cast<size_t>(t.peer));
    s.active = true;
    s.data = static_cast<char*>(t.data);
    s.bytes = t.bytes;
  }
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s()));
  std::vector<Clock::time_point> last(static_cast<size_t>(n), Clock::now());
  auto closed = [&](int p, const std::string& detail) {
    // A worker that stops because another ended closes its connections too, and its end may be
    // seen here first: the other workers whose connections closed as well are named with it, so
    // the worker that ended first is always among those named.
    std::vector<int> gone = closed_peers(p);
    gone.push_back(p);
    std::sort(gone.begin(), gone.end());
    std::string who = "worker";
    if (gone.size() > 1) {
      who = "workers ";
      for (size_t k = 0; k < gone.size(); ++k)
        who += (k == 0 ? "" : k + 1 == gone.size() ? " and " : ", ") + std::to_string(gone[k]);
      who += " (of " + std::to_string(n) + ")";
    } else {
      who = worker_name(p);
    }
    const bool one = gone.size() == 1;
    fail(DistributedError::Kind::Unavailable,
         who + (one ? " closed its connection" : " closed their connections") + " during " +
             what + " (" + collective_op_name(op) + (detail.empty() ? "" : "; " + detail) +
             (one ? "): its process ended or was killed" : "): their processes ended or were "
                                                          "killed") +
             "; this worker stops too");
  };
  std::vector<pollfd> fds;
  std::vector<int> peers;
  for (;;) {
    fds.clear();
    peers.clear();
    Clock::time_point earliest = Clock::time_point::max();
    int late = -1;
    for (int p = 0; p < n; ++p) {
      const Side& o = out[static_cast<size_t>(p)];
      const Side& i = in[static_cast<size_t>(p)];
      const short events = static_cast<short>((o.active ? POLLOUT : 0) | (i.active ? POLLIN : 0));
      if (!events) continue;
      fds.push_back({fds_[static_cast<size_t>(p)], events, 0});
      peers.push_back(p);
      const auto due = last[static_cast<size_t>(p)] + timeout;
      if (due < earliest) {
        earliest = due;
        late = p;
      }
    }
    if (fds.empty()) return;
    const double left = seconds_left(earliest);
    if (left <= 0) {
      const bool receiving = in[static_cast<size_t>(late)].active;
      fail(DistributedError::Kind::DeadlineExceeded,
           worker_name(late) + (receiving ? " sent nothing" : " took nothing") + " for " +
               seconds_text(timeout_s()) + " s during " + what + " (" + collective_op_name(op) +
               "): it hangs, is far behind or is gone. This worker stops (the timeout: "
               "CommunicationOptions(timeout_seconds=...) or FORGEFLOW_DISTRIBUTE_TIMEOUT)");
    }
    const int ms = static_cast<int>(std::min(left * 1000.0 + 1.0, 1000.0));
    const int r = poll(fds.data(), static_cast<nfds_t>(fds.size()), ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(DistributedError::Kind::Unavailable,
           "poll failed during " + what + ": " + errno_text(errno));
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      const short ev = fds[k].revents;
      if (!ev) continue;
      const int p = peers[k];
      const int fd = fds[k].fd;
      Side& i = in[static_cast<size_t>(p)];
      Side& o = out[static_cast<size_t>(p)];
      if (i.active && (ev & (POLLIN | POLLHUP | POLLERR))) {
        for (;;) {
          char* dst;
          size_t want;
          if (i.header_done < sizeof(Header)) {
            dst = reinterpret_cast<char*>(&i.header) + i.header_done;
            want = sizeof(Header) - i.header_done;
          } else {
            dst = i.data + i.done;
            want = i.bytes - i.done;
          }
          if (want == 0) break;
          const ssize_t got = recv(fd, dst, want, 0);
          if (got == 0) closed(p, "");
          if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            closed(p, errno_text(errno));
          }
          last[static_cast<size_t>(p)] = Clock::now();
          if (i.header_done < sizeof(Header)) {
            i.header_done += static_cast<size_t>(got);
            if (i.header_done == sizeof(Header)) {
              const Header& h = i.header;
              const uint64_t expected = received_[static_cast<size_t>(p)];
              if (h.magic != kMagic)
                fail(DistributedError::Kind::Aborted, worker_name(p) +
                                                          " sent data that is not a "
                                                          "forgeflow message during " +
                                                          what);
              if (h.op != op || h.seq != expected)
                fail(DistributedError::Kind::Aborted,
                     worker_name(p) + " is in " + collective_op_name(h.op) + " (its message " +
                         std::to_string(h.seq) + ") while this worker is in " + what + " (" +
                         collective_op_name(op) + ", message " + std::to_string(expected) +
                         "): the workers do not run the same program (every worker must build, "
                         "compile and fit the same model on the same settings)");
              if (h.bytes != i.bytes)
                fail(DistributedError::Kind::Aborted,
                     worker_name(p) + " sent " + std::to_string(h.bytes) + " bytes for " + what +
                         " where this worker expects " + std::to_string(i.bytes) +
                         ": the workers' models differ (every worker must build the same model)");
              ++received_[static_cast<size_t>(p)];
            }
          } else {
            i.done += static_cast<size_t>(got);
          }
        }
        if (i.header_done == sizeof(Header) && i.done == i.bytes) i.active = false;
      }
      if (o.active && (ev & (POLLOUT | POLLHUP | POLLERR))) {
        for (;;) {
          const char* src;
          size_t want;
          if (o.header_done < sizeof(Header)) {
            src = reinterpret_cast<const char*>(&o.header) + o.header_done;
            want = sizeof(Header) - o.header_done;
          } else {
            src = o.data + o.done;
            want = o.bytes - o.done;
          }
          if (want == 0) break;
          const ssize_t put = send(fd, src, want, MSG_NOSIGNAL);
          if (put < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            closed(p, errno_text(errno));
          }
          last[static_cast<size_t>(p)] = Clock::now();
          if (o.header_done < sizeof(Header))
            o.header_done += static_cast<size_t>(put);
          else
            o.done += static_cast<size_t>(put);
        }
        if (o.header_done == sizeof(Header) && o.done == o.bytes) o.active = false;
      }
    }
  }
}

}  // namespace ff
