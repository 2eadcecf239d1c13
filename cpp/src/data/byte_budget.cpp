// ByteBudget and ByteReservation (see byte_budget.h): a mutex, one condition variable, and
// tickets that serve acquire() calls in arrival order.
#include "data/byte_budget.h"

#include <algorithm>
#include <string>

#include "core/errors.h"

namespace ff::data {

namespace {

void check_bytes(int64_t bytes, const char* what) {
  if (bytes < 0)
    throw ValueError(std::string("ByteBudget::") + what + ": bytes must be >= 0, received " +
                     std::to_string(bytes));
}

}  // namespace

ByteBudget::ByteBudget(int64_t capacity) : capacity_(capacity) {
  if (capacity <= 0)
    throw ValueError("ByteBudget: capacity must be a positive number of bytes, received " +
                     std::to_string(capacity));
}

int64_t ByteBudget::capacity() const {
  std::lock_guard<std::mutex> lock(mu_);
  return capacity_;
}

void ByteBudget::set_capacity(int64_t capacity) {
  if (capacity <= 0)
    throw ValueError("ByteBudget: capacity must be a positive number of bytes, received " +
                     std::to_string(capacity));
  {
    std::lock_guard<std::mutex> lock(mu_);
    capacity_ = capacity;
  }
  cv_.notify_all();
}

int64_t ByteBudget::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

int64_t ByteBudget::peak() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_;
}

void ByteBudget::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  peak_ = in_use_;
}

int64_t ByteBudget::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(next_ticket_ - serving_);
}

void ByteBudget::add(int64_t bytes) {
  in_use_ += bytes;
  peak_ = std::max(peak_, in_use_);
}

void ByteBudget::acquire(int64_t bytes) {
  check_bytes(bytes, "acquire");
  if (bytes == 0) return;
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t ticket = next_ticket_++;
  cv_.wait(lock, [&] { return serving_ == ticket && fits(bytes); });
  add(bytes);
  ++serving_;
  lock.unlock();
  cv_.notify_all();  // the next ticket may fit too
}

bool ByteBudget::try_grow(int64_t held, int64_t bytes) {
  check_bytes(bytes, "try_grow");
  if (bytes == 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  if (in_use_ + bytes > capacity_ && in_use_ != held) return false;
  add(bytes);
  return true;
}

void ByteBudget::release(int64_t bytes) {
  check_bytes(bytes, "release");
  if (bytes == 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_use_ -= std::min(bytes, in_use_);
  }
  cv_.notify_all();
}

void ByteReservation::acquire(int64_t bytes) {
  release();
  budget_.acquire(bytes);
  held_ = bytes;
}

bool ByteReservation::try_grow(int64_t bytes) {
  if (!budget_.try_grow(held_, bytes)) return false;
  held_ += bytes;
  return true;
}

void ByteReservation::release_part(int64_t bytes) {
  bytes = std::min(std::max<int64_t>(bytes, 0), held_);
  budget_.release(bytes);
  held_ -= bytes;
}

void ByteReservation::release() {
  if (held_ == 0) return;
  budget_.release(held_);
  held_ = 0;
}

}  // namespace ff::data
