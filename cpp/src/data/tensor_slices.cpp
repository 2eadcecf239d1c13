// from_tensor_slices: element i is row i of every component (views, no copy).
#include "core/errors.h"
#include "data/ops.h"

namespace ff::data {
namespace {

class TensorSlicesDataset : public Dataset {
 public:
  explicit TensorSlicesDataset(Element components) : components_(std::move(components)) {
    if (components_.empty()) throw ValueError("from_tensor_slices needs at least one array");
    for (size_t c = 0; c < components_.size(); ++c) {
      const Component& x = components_[c];
      if (x.shape.empty())
        throw ValueError("from_tensor_slices slices along the first axis, but component " +
                         std::to_string(c) + " is a scalar (" + x.describe() + ")");
      if (x.shape[0] != components_[0].shape[0])
        throw ValueError("from_tensor_slices needs arrays with the same first dimension: "
                         "component 0 has " + std::to_string(components_[0].shape[0]) +
                         " rows, component " + std::to_string(c) + " has " +
                         std::to_string(x.shape[0]) + " (" + x.describe() + ")");
    }
  }
  std::unique_ptr<Iterator> make_iterator() const override {
    return std::make_unique<It>(components_);
  }
  int64_t cardinality() const override { return components_[0].shape[0]; }
  std::string name() const override { return "TensorSliceDataset"; }

 private:
  class It : public Iterator {
   public:
    explicit It(Element c) : components_(std::move(c)) {}
    bool next(Element& out) override {
      if (i_ >= components_[0].shape[0]) return false;
      out.clear();
      for (const Component& c : components_) out.push_back(c.row(i_));
      ++i_;
      return true;
    }

   private:
    Element components_;  // shares the dataset's storage, so it outlives the dataset
    int64_t i_ = 0;
  };
  Element components_;
};

}  // namespace

DatasetPtr from_tensor_slices(Element components) {
  return std::make_shared<TensorSlicesDataset>(std::move(components));
}

}  // namespace ff::data
