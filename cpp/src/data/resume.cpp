// resume: a one-pass dataset made of an element already taken from an iterator followed by the
// rest of that iterator. fit uses it to look at the first batch (to build the model and run the
// first-batch checks) without starting a second pass over the data.
#include "core/errors.h"
#include "data/ops.h"

namespace ff::data {
namespace {

class ResumeDataset : public Dataset {
 public:
  ResumeDataset(std::unique_ptr<Iterator> rest, bool has_first, Element first, int64_t cardinality)
      : rest_(std::move(rest)), has_first_(has_first), first_(std::move(first)),
        cardinality_(cardinality) {}
  std::unique_ptr<Iterator> make_iterator() const override {
    if (!rest_) throw ValueError("internal: a resumed pass can be iterated only once");
    return std::make_unique<It>(std::move(rest_), has_first_, std::move(first_));
  }
  int64_t cardinality() const override { return cardinality_; }
  std::string name() const override { return "ResumedPass"; }

 private:
  class It : public Iterator {
   public:
    It(std::unique_ptr<Iterator> rest, bool has_first, Element first)
        : rest_(std::move(rest)), first_(std::move(first)), given_first_(!has_first) {}
    bool next(Element& out) override {
      if (!given_first_) {
        given_first_ = true;
        out = std::move(first_);
        return true;
      }
      return rest_->next(out);
    }

   private:
    std::unique_ptr<Iterator> rest_;
    Element first_;
    bool given_first_ = false;
  };
  mutable std::unique_ptr<Iterator> rest_;
  bool has_first_;
  mutable Element first_;
  int64_t cardinality_;
};

}  // namespace

DatasetPtr resume(std::unique_ptr<Iterator> rest, bool has_first, Element first,
                  int64_t cardinality) {
  return std::make_shared<ResumeDataset>(std::move(rest), has_first, std::move(first), cardinality);
}

}  // namespace ff::data
