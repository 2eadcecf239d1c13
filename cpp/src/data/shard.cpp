// shard: tf.data's Dataset.shard(num_shards, index), the elements whose position p in the input
// has p % num_shards == index. Elements pass through unchanged, so it forwards its pass's
// IterationOptions to its input (as take and skip do).
#include <string>

#include "core/errors.h"
#include "data/ops.h"

namespace ff::data {
namespace {

class ShardDataset : public Dataset {
 public:
  ShardDataset(DatasetPtr input, int64_t num_shards, int64_t index)
      : input_(std::move(input)), num_shards_(num_shards), index_(index) {}
  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<It>(input_->make_iterator(), num_shards_, index_);
  }
  std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const override {
    return std::make_unique<It>(input_->make_iterator_for(options), num_shards_, index_);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (n < 0) return n;  // infinite or unknown stays so
    return n / num_shards_ + (index_ < n % num_shards_ ? 1 : 0);
  }
  std::string name() const override { return "ShardDataset"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> input, int64_t num_shards, int64_t index)
        : input_(std::move(input)), num_shards_(num_shards), index_(index) {}
    bool next(Element& out) override {
      Element e;
      while (input_->next(e)) {
        const int64_t position = position_++;
        if (position % num_shards_ == index_) {
          out = std::move(e);
          return true;
        }
      }
      return false;
    }

   private:
    std::unique_ptr<Iterator> input_;
    int64_t num_shards_, index_, position_ = 0;
  };
  DatasetPtr input_;
  int64_t num_shards_, index_;
};

}  // namespace

DatasetPtr shard(DatasetPtr input, int64_t num_shards, int64_t index) {
  if (num_shards < 1)
    throw ValueError("num_shards must be a positive integer; received num_shards=" +
                     std::to_string(num_shards));
  if (index < 0 || index >= num_shards)
    throw ValueError("index must be in [0, num_shards) = [0, " + std::to_string(num_shards) +
                     "); received index=" + std::to_string(index));
  return std::make_shared<ShardDataset>(std::move(input), num_shards, index);
}

}  // namespace ff::data
