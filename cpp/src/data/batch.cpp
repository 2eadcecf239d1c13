// batch: stacks batch_size consecutive elements into one (the last batch may be smaller unless
// drop_remainder). Elements must agree in dtype and shape; stack() names the mismatch.
#include "core/errors.h"
#include "data/ops.h"

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
    bool next(Element& out) override {
      std::vector<Element> items;
      items.reserve(size_);
      Element e;
      while (items.size() < size_ && in_->next(e)) items.push_back(std::move(e));
      if (items.empty() || (drop_ && items.size() < size_)) return false;
      out = stack(items);
      return true;
    }

   private:
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
