// prefetch: a background thread runs the input pipeline ahead of the consumer, keeping up to
// buffer_size elements ready (batches, when placed after batch()). AUTOTUNE chooses
// max(2, hardware threads). The destructor stops and joins the thread; an exception in it is
// rethrown, with its message, by the next() that reaches it.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "core/errors.h"
#include "data/ops.h"

namespace ff::data {
namespace {

class PrefetchDataset : public Dataset {
 public:
  PrefetchDataset(DatasetPtr input, int64_t buffer_size) : input_(std::move(input)) {
    if (buffer_size == kAutotune)
      buffer_size = std::max<int64_t>(2, std::thread::hardware_concurrency());
    if (buffer_size < 0)
      throw ValueError("prefetch: buffer_size must be a non-negative integer or AUTOTUNE, "
                       "received " + std::to_string(buffer_size));
    buffer_size_ = buffer_size;
  }
  std::unique_ptr<Iterator> make_iterator() const override {
    auto in = input_->make_iterator();
    if (buffer_size_ == 0) return in;
    return std::make_unique<It>(std::move(in), static_cast<size_t>(buffer_size_));
  }
  std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const override {
    // Elements pass through unchanged: the options go on, with this buffer's batches counted.
    IterationOptions inner = options;
    inner.queued += buffer_size_;
    auto in = input_->make_iterator_for(inner);
    if (buffer_size_ == 0) return in;
    return std::make_unique<It>(std::move(in), static_cast<size_t>(buffer_size_));
  }
  int64_t cardinality() const override { return input_->cardinality(); }
  std::string name() const override { return "PrefetchDataset"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> in, size_t size) : in_(std::move(in)), size_(size) {
      thread_ = std::thread([this] { run(); });
    }
    ~It() override {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    bool next(Element& out) override {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (queue_.empty()) {
        if (error_) {
          auto e = error_;
          error_ = nullptr;
          std::rethrow_exception(e);
        }
        return false;
      }
      out = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      cv_.notify_all();
      return true;
    }

   private:
    void run() {
      while (true) {
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return stop_ || queue_.size() < size_; });
          if (stop_) return;
        }
        Element e;
        bool got = false;
        std::exception_ptr error;
        try {
          got = in_->next(e);
        } catch (...) {
          error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mu_);
        if (got) {
          queue_.push_back(std::move(e));
        } else {
          error_ = std::move(error);
          done_ = true;
        }
        cv_.notify_all();
        if (!got) return;
      }
    }

    std::unique_ptr<Iterator> in_;
    size_t size_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Element> queue_;
    bool stop_ = false, done_ = false;
    std::exception_ptr error_;
    std::thread thread_;
  };
  DatasetPtr input_;
  int64_t buffer_size_ = 0;
};

}  // namespace

DatasetPtr prefetch(DatasetPtr input, int64_t buffer_size) {
  return std::make_shared<PrefetchDataset>(std::move(input), buffer_size);
}

}  // namespace ff::data
