// ByteBudget: a counting semaphore of bytes, shared by pipeline worker threads that hold large
// temporary buffers (the image decoders: one full-size decoded image per worker would otherwise
// be N x the largest image). A thread reserves the bytes it is about to hold, blocking until
// they fit, and releases them when its buffers are gone, so what all holders have reserved
// together never exceeds the capacity, except for one request larger than the whole capacity,
// which runs alone (nothing else reserved meanwhile) rather than never.
//
// Deadlock freedom rests on one rule: a thread waits (acquire) only while it holds nothing.
// A holder that needs more calls try_grow, which never waits; when that fails it releases
// everything and acquires the total afresh (ByteReservation does both). Waiters are served in
// arrival order, so a large request is not starved by a stream of small ones.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ff::data {

class ByteBudget {
 public:
  explicit ByteBudget(int64_t capacity);
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  int64_t capacity() const;
  // A new capacity (> 0; ValueError otherwise) applies to requests from now on; waiters are
  // woken to check it. Holdings above it are not revoked.
  void set_capacity(int64_t capacity);
  int64_t in_use() const;
  // The largest in_use() seen since construction or the last reset_peak().
  int64_t peak() const;
  void reset_peak();
  // acquire() calls waiting now (for tests and diagnostics).
  int64_t waiting() const;

  // Blocks until `bytes` fit (in_use + bytes <= capacity, or nothing is in use), in arrival
  // order. The caller must hold nothing from this budget while it waits.
  void acquire(int64_t bytes);
  // Adds `bytes` to the caller's holding of `held` bytes if they fit now, or if the caller's
  // holding is all that is in use (it then runs alone); false (nothing changed) otherwise.
  // Never waits.
  bool try_grow(int64_t held, int64_t bytes);
  void release(int64_t bytes);

 private:
  bool fits(int64_t bytes) const { return in_use_ == 0 || in_use_ + bytes <= capacity_; }
  void add(int64_t bytes);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t capacity_;
  int64_t in_use_ = 0;
  int64_t peak_ = 0;
  uint64_t next_ticket_ = 0;  // arrival order of acquire() calls
  uint64_t serving_ = 0;      // the ticket allowed to take bytes next
};

// One thread's holding in a ByteBudget, released when it goes out of scope.
class ByteReservation {
 public:
  explicit ByteReservation(ByteBudget& budget) : budget_(budget) {}
  ~ByteReservation() { release(); }
  ByteReservation(const ByteReservation&) = delete;
  ByteReservation& operator=(const ByteReservation&) = delete;

  int64_t held() const { return held_; }
  // Releases what is held, then waits for `bytes` (ByteBudget::acquire).
  void acquire(int64_t bytes);
  // ByteBudget::try_grow for this holding.
  bool try_grow(int64_t bytes);
  // Gives back `bytes` of the holding (at most all of it).
  void release_part(int64_t bytes);
  void release();

 private:
  ByteBudget& budget_;
  int64_t held_ = 0;
};

}  // namespace ff::data
