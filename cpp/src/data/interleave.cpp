// interleave: each input element opens a dataset (through the caller's function); cycle_length
// of them are read round-robin, block_length elements at a time, and an exhausted one is
// replaced by the next input element's dataset, in tf.data's order. The datasets are opened
// and read in the consumer's thread (num_parallel_calls is accepted for tf.data compatibility;
// put a prefetch after the datasets the function returns to read them ahead).
#include "core/errors.h"
#include "data/ops.h"

namespace ff::data {
namespace {

class InterleaveDataset : public Dataset {
 public:
  InterleaveDataset(DatasetPtr input, InterleaveFn make, int64_t cycle, int64_t block)
      : input_(std::move(input)), make_(std::move(make)), cycle_(cycle), block_(block) {
    if (cycle_ < 1) throw ValueError("interleave: cycle_length must be >= 1, received " + std::to_string(cycle_));
    if (block_ < 1) throw ValueError("interleave: block_length must be >= 1, received " + std::to_string(block_));
  }
  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<It>(input_->make_iterator(), make_, cycle_, block_);
  }
  int64_t cardinality() const override { return kUnknownCardinality; }
  std::string name() const override { return "InterleaveDataset"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> in, InterleaveFn make, int64_t cycle, int64_t block)
        : in_(std::move(in)), make_(std::move(make)), block_(block),
          open_(static_cast<size_t>(cycle)) {}
    bool next(Element& out) override {
      while (true) {
        // Fill empty places of the cycle from the input, in order.
        for (auto& slot : open_)
          if (!slot && !input_done_) {
            Element e;
            if (in_->next(e)) {
              DatasetPtr d = make_(e, index_++);
              if (!d) throw ValueError("interleave: the function returned no dataset");
              slot = d->make_iterator();
            } else {
              input_done_ = true;
            }
          }
        bool any = false;
        for (const auto& slot : open_) any = any || static_cast<bool>(slot);
        if (!any) return false;
        auto& cur = open_[pos_];
        if (cur && cur->next(out)) {
          if (++taken_ == block_) advance();
          return true;
        }
        if (cur) cur.reset();  // exhausted: its place is refilled on the next round
        advance();
      }
    }

   private:
    void advance() {
      taken_ = 0;
      pos_ = (pos_ + 1) % open_.size();
    }
    std::unique_ptr<Iterator> in_;
    InterleaveFn make_;
    int64_t block_;
    std::vector<std::unique_ptr<Iterator>> open_;
    size_t pos_ = 0;
    int64_t taken_ = 0, index_ = 0;
    bool input_done_ = false;
  };
  DatasetPtr input_;
  InterleaveFn make_;
  int64_t cycle_, block_;
};

}  // namespace

DatasetPtr interleave(DatasetPtr input, InterleaveFn make, int64_t cycle_length,
                      int64_t block_length, int64_t /*num_parallel_calls*/) {
  return std::make_shared<InterleaveDataset>(std::move(input), std::move(make), cycle_length,
                                             block_length);
}

}  // namespace ff::data
