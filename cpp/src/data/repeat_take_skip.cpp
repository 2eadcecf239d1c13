// repeat, take and skip: the counting operations. Elements pass through unchanged, so each
// forwards its pass's IterationOptions to its input.
#include "data/ops.h"

namespace ff::data {
namespace {

class RepeatDataset : public Dataset {
 public:
  RepeatDataset(DatasetPtr input, int64_t count) : input_(std::move(input)), count_(count) {}
  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<It>(input_, count_, IterationOptions{});
  }
  std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const override {
    return std::make_unique<It>(input_, count_, options);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (count_ == 0 || n == 0) return 0;
    // As tf.data: repeating forever is infinite even when the input's length is unknown.
    if (n == kInfiniteCardinality || count_ < 0) return kInfiniteCardinality;
    if (n == kUnknownCardinality) return n;
    return n * count_;
  }
  std::string name() const override { return "RepeatDataset"; }

 private:
  class It : public Iterator {
   public:
    It(DatasetPtr input, int64_t count, IterationOptions options)
        : input_(std::move(input)), count_(count), options_(std::move(options)) {}
    bool next(Element& out) override {
      while (count_ < 0 || pass_ < count_) {
        if (!current_) {
          current_ = input_->make_iterator_for(options_);
          produced_ = false;
        }
        if (current_->next(out)) {
          produced_ = true;
          return true;
        }
        current_.reset();
        ++pass_;
        if (!produced_) return false;  // an empty pass: repeating it would never end
      }
      return false;
    }

   private:
    DatasetPtr input_;
    int64_t count_;
    IterationOptions options_;
    int64_t pass_ = 0;
    bool produced_ = false;
    std::unique_ptr<Iterator> current_;
  };
  DatasetPtr input_;
  int64_t count_;
};

class TakeDataset : public Dataset {
 public:
  TakeDataset(DatasetPtr input, int64_t count) : input_(std::move(input)), count_(count) {}
  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<It>(input_->make_iterator(), count_);
  }
  std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const override {
    return std::make_unique<It>(input_->make_iterator_for(options), count_);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (count_ < 0) return n;
    if (n == kInfiniteCardinality) return count_;
    if (n == kUnknownCardinality) return n;
    return std::min(n, count_);
  }
  std::string name() const override { return "TakeDataset"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> in, int64_t count) : in_(std::move(in)), left_(count) {}
    bool next(Element& out) override {
      if (left_ == 0) return false;
      if (!in_->next(out)) return false;
      if (left_ > 0) --left_;
      return true;
    }

   private:
    std::unique_ptr<Iterator> in_;
    int64_t left_;
  };
  DatasetPtr input_;
  int64_t count_;
};

class SkipDataset : public Dataset {
 public:
  SkipDataset(DatasetPtr input, int64_t count) : input_(std::move(input)), count_(count) {}
  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<It>(input_->make_iterator(), count_);
  }
  std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const override {
    return std::make_unique<It>(input_->make_iterator_for(options), count_);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (count_ < 0) return n == kInfiniteCardinality ? 0 : (n == kUnknownCardinality ? n : 0);
    if (n < 0) return n;
    return std::max<int64_t>(0, n - count_);
  }
  std::string name() const override { return "SkipDataset"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> in, int64_t count) : in_(std::move(in)), skip_(count) {}
    bool next(Element& out) override {
      Element dropped;
      while (skip_ != 0) {
        if (!in_->next(dropped)) return false;
        if (skip_ > 0) --skip_;
      }
      return in_->next(out);
    }

   private:
    std::unique_ptr<Iterator> in_;
    int64_t skip_;
  };
  DatasetPtr input_;
  int64_t count_;
};

}  // namespace

DatasetPtr repeat(DatasetPtr input, int64_t count) {
  return std::make_shared<RepeatDataset>(std::move(input), count);
}
DatasetPtr take(DatasetPtr input, int64_t count) {
  return std::make_shared<TakeDataset>(std::move(input), count);
}
DatasetPtr skip(DatasetPtr input, int64_t count) {
  return std::make_shared<SkipDataset>(std::move(input), count);
}

}  // namespace ff::data
