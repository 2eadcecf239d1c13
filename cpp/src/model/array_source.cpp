// ArraySource (see array_source.h).
#include "model/array_source.h"

#include <algorithm>
#include <string>

#include "core/errors.h"
#include "distribute/collective.h"
#include "model/resident_arrays.h"

namespace ff {

ArraySource::ArraySource(std::vector<HostArray> xs, std::vector<HostArray> ys,
                         std::vector<int64_t> order, int64_t batch_size,
                         std::shared_ptr<ResidentArrays> resident)
    : xs_(std::move(xs)), ys_(std::move(ys)), order_(std::move(order)), batch_size_(batch_size),
      resident_(std::move(resident)) {
  if (batch_size <= 0)
    throw ValueError("batch_size must be a positive integer; received batch_size=" +
                     std::to_string(batch_size));
  rows_ = xs_.empty() ? 0 : xs_[0].rows();
  for (int64_t i : order_)
    if (i < 0 || i >= rows_)
      throw ValueError("sample order index " + std::to_string(i) + " is out of range for " +
                       std::to_string(rows_) + " samples");
  if (resident_ && !resident_->matches(xs_, ys_))
    throw ValueError("internal: the device-resident arrays are not copies of this source's arrays");
}

bool ArraySource::next(Batch& batch) {
  const int64_t n = length();
  if (next_ >= n) return false;
  if (resident_ && next_ == 0 && !order_.empty()) resident_->set_order(order_);
  const int64_t global = std::min(batch_size_, n - next_);
  const Chunk share = replicas() > 1 ? chunk_of(global, replicas(), replica()) : Chunk{0, global};
  const int64_t first = next_ + share.begin;
  batch.global_count = replicas() > 1 ? global : -1;
  batch.resident = resident_.get();
  batch.position = first;
  batch.xs = xs_;
  batch.ys = ys_;
  batch.count = share.count;
  if (order_.empty()) {
    // Contiguous rows: the arrays advanced to the batch's first row.
    for (auto* arrays : {&batch.xs, &batch.ys})
      for (auto& a : *arrays)
        if (a.data)
          a.data = static_cast<const char*>(a.data) + first * static_cast<int64_t>(a.row_bytes());
    batch.rows = nullptr;
  } else {
    batch.rows = order_.data() + first;
  }
  next_ += global;
  return true;
}

int64_t ArraySource::sample_index(int64_t start, int64_t row) const {
  const int64_t position = start + row;
  if (order_.empty() || position < 0 || position >= static_cast<int64_t>(order_.size()))
    return position;
  return order_[static_cast<size_t>(position)];
}

}  // namespace ff
