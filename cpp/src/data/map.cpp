// map: applies a MapFn to every element, inline or on worker threads. Workers take input
// elements in order (one at a time, under the lock: input iterators are single-threaded), run
// the function unlocked, and the consumer returns results strictly in input order, so the
// output never depends on the number of workers or their timing. At most 2 * workers elements
// are in flight. An exception (from the input or the function) is stored in its element's slot
// and rethrown by the next() that reaches that slot.
//
// Pinned output: a pass asked for pinned batches (IterationOptions::pinned: a map after the
// batch op, feeding a GPU) runs the function inside an OutputPoolScope of the pass's pool
// (data/element.h), so the components it creates are written into page-locked blocks on the
// thread that runs it (a worker, or the prefetch thread above an inline map), and the model's
// loop copies the batch to the device with no staging copy of its own. Components the function
// passes through keep their buffers: with MapResults::KeepsInput the input is asked for pinned
// batches too. The pool is bounded, from the first mapped element, for every batch that can be
// alive at once (see bound_pool).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/errors.h"
#include "core/rng.h"
#include "data/ops.h"
#include "data/pinned_buffers.h"

namespace ff::data {
namespace {

// The pinned side of a pass: the pool (null: a plain pass) and the batches that can be alive at
// once beyond those the pool's bound counts per op (see bound_pool).
struct Pinning {
  std::shared_ptr<PinnedBufferPool> pool;
  int64_t queued = 0;  // batches downstream of this op plus those in flight inside it
  bool input_pinned = false;  // the input was asked for pinned batches too
};

// Called once per pass, with its first input and mapped element. The blocks of one size that
// can be lent at once: per batch alive (`queued` + 3, as the batch op counts them: see
// batch.cpp), the numeric components of that size the function created, plus the input's when
// it was asked for pinned batches (the one being mapped, and those passed through). The pool's
// bound is one number for every size, so it is raised to the largest such count.
void bound_pool(const Pinning& pinning, const Element& in, const Element& out) {
  std::map<size_t, size_t> per_size;
  size_t most = 0;
  auto count = [&](const Component& c) {
    if (c.type == ValueType::String || !c.bytes) return;
    most = std::max(most, ++per_size[PinnedBufferPool::rounded(c.bytes->bytes())]);
  };
  if (pinning.input_pinned)
    for (const Component& c : in) count(c);
  for (const Component& c : out) {
    const bool kept = std::any_of(in.begin(), in.end(),
                                  [&](const Component& i) { return i.bytes == c.bytes; });
    if (!kept) count(c);
  }
  pinning.pool->reserve_per_size(static_cast<size_t>(pinning.queued + 3) * most);
}

int64_t resolve_workers(int64_t n) {
  if (n == kAutotune) return std::max<int64_t>(1, std::thread::hardware_concurrency());
  if (n < 1) throw ValueError("num_parallel_calls must be a positive integer or AUTOTUNE, "
                              "received " + std::to_string(n));
  return n;
}

class MapDataset : public Dataset {
 public:
  MapDataset(DatasetPtr input, MapFn fn, int64_t workers, std::string fn_name,
             MapResults results)
      : input_(std::move(input)), fn_(std::move(fn)), workers_(resolve_workers(workers)),
        fn_name_(std::move(fn_name)), results_(results) {}

  std::unique_ptr<Iterator> make_iterator() const override {
    return make(input_->make_iterator(), Pinning{});
  }
  std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const override {
    if (!options.pinned) return make_iterator();
    // Besides the batches queued downstream, this op holds up to 2 x workers elements (inputs
    // being mapped and results waiting their turn); an inline map only the one it maps, which
    // the "+ 3" of the bounds counts already.
    Pinning pinning;
    pinning.pool = options.pinned;
    pinning.queued = std::max<int64_t>(options.queued, 0) + (workers_ == 1 ? 0 : 2 * workers_);
    pinning.input_pinned = results_ == MapResults::KeepsInput;
    if (!pinning.input_pinned) return make(input_->make_iterator(), std::move(pinning));
    IterationOptions inner = options;
    inner.queued = pinning.queued;
    return make(input_->make_iterator_for(inner), std::move(pinning));
  }
  int64_t cardinality() const override { return input_->cardinality(); }
  std::string name() const override { return "MapDataset(" + fn_name_ + ")"; }

 private:
  std::unique_ptr<Iterator> make(std::unique_ptr<Iterator> in, Pinning pinning) const {
    const uint64_t pass = mix_seed(0x6d6170ull, passes_++);
    if (workers_ == 1)
      return std::make_unique<Inline>(std::move(in), fn_, pass, std::move(pinning));
    return std::make_unique<Parallel>(std::move(in), fn_, pass, workers_, std::move(pinning));
  }

  // The function applied to input element `index`, on the calling thread: what it creates goes
  // into the pass's pool when it has one (the first call also bounds the pool).
  class Apply {
   public:
    Apply(MapFn fn, uint64_t pass, Pinning pinning)
        : fn_(std::move(fn)), pass_(pass), pinning_(std::move(pinning)) {}
    Element operator()(const Element& in, int64_t index) {
      const uint64_t seed = mix_seed(pass_, static_cast<uint64_t>(index));
      if (!pinning_.pool) return fn_(in, index, seed);
      Element out;
      {
        OutputPoolScope scope(pinning_.pool);
        out = fn_(in, index, seed);
      }
      if (!bounded_.exchange(true)) bound_pool(pinning_, in, out);
      return out;
    }

   private:
    MapFn fn_;
    uint64_t pass_;
    Pinning pinning_;
    std::atomic<bool> bounded_{false};
  };

  class Inline : public Iterator {
   public:
    Inline(std::unique_ptr<Iterator> in, MapFn fn, uint64_t pass, Pinning pinning)
        : in_(std::move(in)), apply_(std::move(fn), pass, std::move(pinning)) {}
    bool next(Element& out) override {
      Element e;
      if (!in_->next(e)) return false;
      out = apply_(e, index_);
      ++index_;
      return true;
    }

   private:
    std::unique_ptr<Iterator> in_;
    Apply apply_;
    int64_t index_ = 0;
  };

  class Parallel : public Iterator {
   public:
    Parallel(std::unique_ptr<Iterator> in, MapFn fn, uint64_t pass, int64_t workers,
             Pinning pinning)
        : in_(std::move(in)), apply_(std::move(fn), pass, std::move(pinning)),
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
          result = apply_(in, index);
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
    Apply apply_;
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
  MapResults results_;
  mutable std::atomic<uint64_t> passes_{0};
};

}  // namespace

DatasetPtr map(DatasetPtr input, MapFn fn, int64_t num_parallel_calls, std::string fn_name,
               MapResults results) {
  return std::make_shared<MapDataset>(std::move(input), std::move(fn), num_parallel_calls,
                                      std::move(fn_name), results);
}

}  // namespace ff::data
