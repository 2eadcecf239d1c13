// ArraySource: the BatchSource over the caller's arrays (NumPy, viewed without copying): batches
// of `batch_size` rows, in `order` (a shuffled epoch, or the rows left after resuming) or in
// array order. A batch is the rows' indices into the untouched arrays; the model gathers and
// converts them (any numeric dtype) as it loads each batch, so nothing is copied whole. In a
// data-parallel run (set_replica) each batch is one worker's share of the global batch: every
// worker walks the same order and takes its own slice of each batch, so the workers together
// train on exactly the batches one process would.
#pragma once
#include <memory>
#include <vector>

#include "model/model.h"

namespace ff {

class ArraySource final : public BatchSource {
 public:
  // xs: one array per model input; ys: one per output (undefined for outputs without targets),
  // or empty (predict). order: the rows in the order to visit them (empty: 0..rows-1); every
  // index must lie in [0, rows). batch_size > 0.
  // resident: the same arrays kept on the device (Model::make_resident), or null; the order is
  // uploaded to it at the first batch, and batches name it (Batch::resident).
  ArraySource(std::vector<HostArray> xs, std::vector<HostArray> ys, std::vector<int64_t> order,
              int64_t batch_size, std::shared_ptr<ResidentArrays> resident = nullptr);
  bool next(Batch& batch) override;
  int64_t sample_index(int64_t start, int64_t row) const override;
  // Batches and rows this source gives in all.
  int64_t batches() const { return (length() + batch_size_ - 1) / batch_size_; }
  int64_t length() const { return order_.empty() ? rows_ : static_cast<int64_t>(order_.size()); }

 private:
  std::vector<HostArray> xs_, ys_;
  std::vector<int64_t> order_;
  int64_t batch_size_, rows_ = 0, next_ = 0;
  std::shared_ptr<ResidentArrays> resident_;
};

}  // namespace ff
