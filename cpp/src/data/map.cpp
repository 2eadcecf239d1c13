// map: applies a MapFn to every element, inline or on worker threads. Workers take input
// elements in order (one at a time, under the lock: input iterators are single-threaded), run
// the function unlocked, and the consumer returns results strictly in input order, so the
// output never depends on the number of workers or their timing. At most 2 * workers elements
// are in flight. An exception (from the input or the function) is stored in its element's slot
// and rethrown by the next() that reaches that slot.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "core/errors.h"
#include "core/rng.h"
#include "data/ops.h"

namespace ff::data {
namespace {

int64_t resolve_workers(int64_t n) {
  if (n == kAutotune) return std::max<int64_t>(1, std::thread::hardware_concurrency());
  if (n < 1) throw ValueError("num_parallel_calls must be a positive integer or AUTOTUNE, "
                              "received " + std::to_string(n));
  return n;
}

class MapDataset : public Dataset {
 public:
  MapDataset(DatasetPtr input, MapFn fn, int64_t workers, std::string fn_name)
      : input_(std::move(input)), fn_(std::move(fn)), workers_(resolve_workers(workers)),
        fn_name_(std::move(fn_name)) {}

  std::unique_ptr<Iterator> make_iterator() const override {
    const uint64_t pass = mix_seed(0x6d6170ull, passes_++);
    if (workers_ == 1) return std::make_unique<Inline>(input_->make_iterator(), fn_, pass);
    return std::make_unique<Parallel>(input_->make_iterator(), fn_, pass, workers_);
  }
  int64_t cardinality() const override { return input_->cardinality(); }
  std::string name() const override { return "MapDataset(" + fn_name_ + ")"; }

 private:
  class Inline : public Iterator {
   public:
    Inline(std::unique_ptr<Iterator> in, MapFn fn, uint64_t pass)
        : in_(std::move(in)), fn_(std::move(fn)), pass_(pass) {}
    bool next(Element& out) override {
      Element e;
      if (!in_->next(e)) return false;
      out = fn_(e, index_, mix_seed(pass_, static_cast<uint64_t>(index_)));
      ++index_;
      return true;
    }

   private:
    std::unique_ptr<Iterator> in_;
    MapFn fn_;
    uint64_t pass_;
    int64_t index_ = 0;
  };

  class Parallel : public Iterator {
   public:
    Parallel(std::unique_ptr<Iterator> in, MapFn fn, uint64_t pass, int64_t workers)
        : in_(std::move(in)), fn_(std::move(fn)), pass_(pass),
          max_in_flight_(static_cast<size_t>(2 * workers)) {
      for (int64_t w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
    }
    ~Parallel() override {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
      }
      cv_.notify_all();
      for (auto& t : threads_) t.join();
    }
    bool next(Element& out) override {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return (!slots_.empty() && slots_.front().done) ||
                                  (slots_.empty() && exhausted_); });
      if (slots_.empty()) return false;
      Slot slot = std::move(slots_.front());
      slots_.pop_front();
      lock.unlock();
      cv_.notify_all();  // a worker may take the next input now
      if (slot.error) std::rethrow_exception(slot.error);
      out = std::move(*slot.result);
      return true;
    }

   private:
    struct Slot {
      bool done = false;
      std::optional<Element> result;
      std::exception_ptr error;
    };
    void work() {
      std::unique_lock<std::mutex> lock(mu_);
      while (true) {
        cv_.wait(lock, [&] { return stop_ || (!exhausted_ && slots_.size() < max_in_flight_); });
        if (stop_) return;
        // Take the next input element (in order) and reserve its slot.
        Element in;
        bool got = false;
        std::exception_ptr error;
        try {
          got = in_->next(in);
        } catch (...) {
          error = std::current_exception();
        }
        if (!got && !error) {
          exhausted_ = true;
          cv_.notify_all();
          continue;
        }
        slots_.emplace_back();
        Slot* slot = &slots_.back();  // deque: stays valid while others are appended/popped
        const int64_t index = index_++;
        if (error) {
          exhausted_ = true;  // nothing after a failed input element
          slot->error = std::move(error);
          slot->done = true;
          cv_.notify_all();
          continue;
        }
        lock.unlock();
        std::optional<Element> result;
        try {
          result = fn_(in, index, mix_seed(pass_, static_cast<uint64_t>(index)));
        } catch (...) {
          error = std::current_exception();
        }
        lock.lock();
        slot->result = std::move(result);
        slot->error = std::move(error);
        slot->done = true;
        cv_.notify_all();
      }
    }

    std::unique_ptr<Iterator> in_;
    MapFn fn_;
    uint64_t pass_;
    size_t max_in_flight_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Slot> slots_;
    bool exhausted_ = false, stop_ = false;
    int64_t index_ = 0;
    std::vector<std::thread> threads_;
  };

  DatasetPtr input_;
  MapFn fn_;
  int64_t workers_;
  std::string fn_name_;
  mutable std::atomic<uint64_t> passes_{0};
};

}  // namespace

DatasetPtr map(DatasetPtr input, MapFn fn, int64_t num_parallel_calls, std::string fn_name) {
  return std::make_shared<MapDataset>(std::move(input), std::move(fn), num_parallel_calls,
                                      std::move(fn_name));
}

}  // namespace ff::data
