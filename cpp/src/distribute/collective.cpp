// The collectives of Collective (see collective.h), built on a transport's `exchange`: the
// fixed-order all-reduce (all-to-all reduce-scatter, rank-order sums, all-gather), all-gather,
// broadcast and barrier.
#include "distribute/collective.h"

#include <cmath>
#include <cstring>
#include <exception>

namespace ff {

void Collective::set_timeout(double seconds) {
  if (!(seconds > 0) || !std::isfinite(seconds))
    throw ValueError(
        "the timeout of a distributed run must be a positive number of seconds; "
        "received " +
        std::to_string(seconds));
  timeout_s_ = seconds;
}

void Collective::run_exchange(uint32_t op, const std::vector<Transfer>& sends,
                              const std::vector<Transfer>& recvs, const std::string& what) {
  if (broken_)
    throw DistributedError(DistributedError::Kind::Aborted,
                           "ff.distribute: " + what +
                               " cannot run: an earlier collective of "
                               "this worker failed (see that error); restart the job");
  try {
    exchange(op, sends, recvs, what);
  } catch (...) {
    broken_ = true;
    throw;
  }
}

template <class T>
void Collective::allreduce_impl(T* data, int64_t n, const std::string& what) {
  if (size_ == 1 || n == 0) return;
  if (n < 0) throw ValueError("internal: all-reduce of a negative element count");
  const Chunk mine = chunk_of(n, size_, rank_);
  const size_t chunk_bytes = static_cast<size_t>(mine.count) * sizeof(T);
  staging_.resize(chunk_bytes * static_cast<size_t>(size_));
  T* staged = reinterpret_cast<T*>(staging_.data());
  // Reduce-scatter: chunk p of this worker's buffer goes to worker p; chunk `rank` of every
  // worker's buffer comes here, worker q's into slot q of the staging buffer.
  std::vector<Transfer> sends, recvs;
  for (int p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    const Chunk c = chunk_of(n, size_, p);
    if (c.count) sends.push_back({p, data + c.begin, static_cast<size_t>(c.count) * sizeof(T)});
    if (mine.count)
      recvs.push_back({p, staged + static_cast<int64_t>(p) * mine.count, chunk_bytes});
  }
  run_exchange(static_cast<uint32_t>(CollectiveOp::ReduceScatter), sends, recvs, what);
  // Rank order, whatever order the chunks arrived in: ((x_0 + x_1) + x_2) + ...
  if (mine.count) {
    T* own = data + mine.begin;
    std::memcpy(staged + static_cast<int64_t>(rank_) * mine.count, own, chunk_bytes);
    std::memcpy(own, staged, chunk_bytes);
    for (int q = 1; q < size_; ++q) {
      const T* part = staged + static_cast<int64_t>(q) * mine.count;
      for (int64_t i = 0; i < mine.count; ++i) own[i] += part[i];
    }
  }
  // All-gather: this worker's summed chunk to every worker, theirs into place here.
  sends.clear();
  recvs.clear();
  for (int p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    const Chunk c = chunk_of(n, size_, p);
    if (mine.count) sends.push_back({p, data + mine.begin, chunk_bytes});
    if (c.count) recvs.push_back({p, data + c.begin, static_cast<size_t>(c.count) * sizeof(T)});
  }
  run_exchange(static_cast<uint32_t>(CollectiveOp::AllGatherSum), sends, recvs, what);
}

void Collective::allreduce_sum(float* data, int64_t n, const std::string& what) {
  allreduce_impl(data, n, what);
}

void Collective::allreduce_sum(double* data, int64_t n, const std::string& what) {
  allreduce_impl(data, n, what);
}

std::vector<int64_t> Collective::allgather(const std::vector<int64_t>& values,
                                           const std::string& what) {
  const size_t k = values.size();
  std::vector<int64_t> all(k * static_cast<size_t>(size_));
  std::copy(values.begin(), values.end(), all.begin() + static_cast<std::ptrdiff_t>(k) * rank_);
  if (size_ == 1 || k == 0) return all;
  std::vector<Transfer> sends, recvs;
  for (int p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    sends.push_back({p, const_cast<int64_t*>(values.data()), k * sizeof(int64_t)});
    recvs.push_back({p, all.data() + k * static_cast<size_t>(p), k * sizeof(int64_t)});
  }
  run_exchange(static_cast<uint32_t>(CollectiveOp::AllGather), sends, recvs, what);
  return all;
}

void Collective::broadcast(void* data, size_t bytes, int root, const std::string& what) {
  if (root < 0 || root >= size_)
    throw ValueError("internal: broadcast from worker " + std::to_string(root) + " of " +
                     std::to_string(size_));
  if (size_ == 1 || bytes == 0) return;
  std::vector<Transfer> sends, recvs;
  if (rank_ == root) {
    for (int p = 0; p < size_; ++p)
      if (p != rank_) sends.push_back({p, data, bytes});
  } else {
    recvs.push_back({root, data, bytes});
  }
  run_exchange(static_cast<uint32_t>(CollectiveOp::Broadcast), sends, recvs, what);
}

void Collective::barrier(const std::string& what) {
  if (size_ == 1) return;
  char mine = 1;
  std::vector<char> theirs(static_cast<size_t>(size_));
  std::vector<Transfer> sends, recvs;
  for (int p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    sends.push_back({p, &mine, 1});
    recvs.push_back({p, &theirs[static_cast<size_t>(p)], 1});
  }
  run_exchange(static_cast<uint32_t>(CollectiveOp::Barrier), sends, recvs, what);
}

}  // namespace ff
