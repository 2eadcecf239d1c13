// ArraySource: the BatchSource over the caller's arrays (NumPy, viewed without copying): batches
// of `batch_size` rows, in `order` (a shuffled epoch, or the rows left after resuming) or in
// array order. A batch is the rows' indices into the untouched arrays; the model gathers and
// converts them (any numeric dtype) as it loads each batch, so nothing is copied whole.
#pragma once
#include <vector>

#include "model/model.h"

namespace ff {

class ArraySource final : public BatchSource {
 public:
  // xs: one array per model input; ys: one per output (undefined for outputs without targets),
  // or empty (predict). order: the rows in the order to visit them (empty: 0..rows-1); every
  // index must lie in [0, rows). batch_size > 0.
  ArraySource(std::vector<HostArray> xs, std::vector<HostArray> ys, std::vector<int64_t> order,
              int64_t batch_size);
  bool next(Batch& batch) override;
  int64_t sample_index(int64_t start, int64_t row) const override;
  // Batches and rows this source gives in all.
  int64_t batches() const { return (length() + batch_size_ - 1) / batch_size_; }
  int64_t length() const { return order_.empty() ? rows_ : static_cast<int64_t>(order_.size()); }

 private:
  std::vector<HostArray> xs_, ys_;
  std::vector<int64_t> order_;
  int64_t batch_size_, rows_ = 0, next_ = 0;
};

}  // namespace ff
