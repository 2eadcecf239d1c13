// batch: stacks batch_size consecutive elements into one (the last batch may be smaller unless
// drop_remainder). Elements must agree in dtype and shape; stack() names the mismatch. When the
// pass's consumer asked for pinned batches (IterationOptions::pinned), the batches are stacked
// straight into the pool's page-locked blocks (pageable when none is free).
#include <map>

#include "core/errors.h"
#include "data/ops.h"
#include "data/pinned_buffers.h"

namespace ff::data {
namespace {

class BatchDataset : public Dataset {
 public:
  BatchDataset(DatasetPtr input, int64_t batch_size, bool drop_remainder)
      : input_(std::move(input)), batch_size_(batch_size), drop_remainder_(drop_remainder) {
    if (batch_size_ < 1)
      throw ValueError("batch: batch_size must be a positive integer, received " +
                       std::to_string(batch_size_));
  }
  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<It>(input_->make_iterator(), batch_size_, drop_remainder_);
  }
  std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const override {
    // This op's output is the batch: its input is asked for nothing.
    auto it = std::make_unique<It>(input_->make_iterator(), batch_size_, drop_remainder_);
    it->pin(options);
    return it;
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (n < 0) return n;
    return drop_remainder_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
  }
  std::string name() const override { return "BatchDataset"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> in, int64_t size, bool drop)
        : in_(std::move(in)), size_(static_cast<size_t>(size)), drop_(drop) {}
    void pin(const IterationOptions& options) {
      pinned_ = options.pinned;
      queued_ = options.queued < 0 ? 0 : options.queued;
    }
    bool next(Element& out) override {
      std::vector<Element> items;
      items.reserve(size_);
      Element e;
      while (items.size() < size_ && in_->next(e)) items.push_back(std::move(e));
      if (items.empty() || (drop_ && items.size() < size_)) return false;
      if (pinned_ && !bounded_) bound_pool(items.front());
      out = stack(items, pinned_);
      return true;
    }

   private:
    // Blocks per size the pool may keep: every batch that can be alive at once (those queued
    // downstream, the one being made, and the consumer's current and two in-flight ones:
    // model/input_slots.h) times this batch's numeric components of one size.
    void bound_pool(const Element& first) {
      bounded_ = true;
      std::map<size_t, size_t> per_size;
      size_t most = 0;
      for (const Component& c : first) {
        if (c.type == ValueType::String) continue;
        most = std::max(most, ++per_size[PinnedBufferPool::rounded(c.nbytes() * size_)]);
      }
      pinned_->reserve_per_size(static_cast<size_t>(queued_ + 3) * most);
    }
    std::shared_ptr<PinnedBufferPool> pinned_;
    int64_t queued_ = 0;
    bool bounded_ = false;
    std::unique_ptr<Iterator> in_;
    size_t size_;
    bool drop_;
  };
  DatasetPtr input_;
  int64_t batch_size_;
  bool drop_remainder_;
};

}  // namespace

DatasetPtr batch(DatasetPtr input, int64_t batch_size, bool drop_remainder) {
  return std::make_shared<BatchDataset>(std::move(input), batch_size, drop_remainder);
}

}  // namespace ff::data
