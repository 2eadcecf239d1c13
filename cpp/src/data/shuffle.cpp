// shuffle: tf.data's buffered shuffle. The buffer is filled with the first buffer_size elements;
// each output is drawn uniformly from the buffer and its place refilled from the input. Draw k
// of pass p uses Philox(seed, stream p, counter k): the order depends only on the seed and on
// how many passes came before (reshuffle_each_iteration) — never on threads or timing.
#include <atomic>

#include "core/errors.h"
#include "core/rng.h"
#include "data/ops.h"

namespace ff::data {
namespace {

class ShuffleDataset : public Dataset {
 public:
  ShuffleDataset(DatasetPtr input, int64_t buffer_size, uint64_t seed, bool reshuffle)
      : input_(std::move(input)), buffer_size_(buffer_size), seed_(seed), reshuffle_(reshuffle) {
    if (buffer_size_ < 1)
      throw ValueError("shuffle: buffer_size must be a positive integer, received " +
                       std::to_string(buffer_size_));
  }
  std::unique_ptr<Iterator> make_iterator() const override {
    const uint64_t pass = reshuffle_ ? passes_++ : 0;
    return std::make_unique<It>(input_->make_iterator(), buffer_size_, seed_, pass);
  }
  int64_t cardinality() const override { return input_->cardinality(); }
  std::string name() const override { return "ShuffleDataset"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> in, int64_t size, uint64_t seed, uint64_t pass)
        : in_(std::move(in)), size_(static_cast<size_t>(size)), seed_(seed), pass_(pass) {}
    bool next(Element& out) override {
      while (!exhausted_ && buffer_.size() < size_) {
        Element e;
        if (!in_->next(e)) {
          exhausted_ = true;
          break;
        }
        buffer_.push_back(std::move(e));
      }
      if (buffer_.empty()) return false;
      // Uniform index in [0, size) from 64 random bits (bias below 2^-32 for any buffer size).
      auto bits = Philox::block(seed_, pass_, draws_++);
      const uint64_t r = (static_cast<uint64_t>(bits[0]) << 32) | bits[1];
      const size_t j = static_cast<size_t>(r % buffer_.size());
      out = std::move(buffer_[j]);
      Element refill;
      if (!exhausted_ && in_->next(refill)) {
        buffer_[j] = std::move(refill);
      } else {
        exhausted_ = true;
        buffer_[j] = std::move(buffer_.back());
        buffer_.pop_back();
      }
      return true;
    }

   private:
    std::unique_ptr<Iterator> in_;
    size_t size_;
    uint64_t seed_, pass_;
    uint64_t draws_ = 0;
    bool exhausted_ = false;
    std::vector<Element> buffer_;
  };
  DatasetPtr input_;
  int64_t buffer_size_;
  uint64_t seed_;
  bool reshuffle_;
  mutable std::atomic<uint64_t> passes_{0};
};

}  // namespace

DatasetPtr shuffle(DatasetPtr input, int64_t buffer_size, uint64_t seed, bool reshuffle_each_iteration) {
  return std::make_shared<ShuffleDataset>(std::move(input), buffer_size, seed,
                                          reshuffle_each_iteration);
}

}  // namespace ff::data
