// ResidentArrays (see resident_arrays.h): the one upload, chunked conversions, the epoch's order.
#include "model/resident_arrays.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/convert.h"
#include "model/model.h"

namespace ff {
namespace {

// Conversions go through a pageable staging buffer of at most this many bytes.
constexpr int64_t kChunkBytes = int64_t{16} << 20;

// rows * row elements * size, or -1 on overflow.
int64_t array_bytes(const HostArray& a, DType to) {
  const int64_t rows = a.rows(), row = shape_row_size(a.shape);
  const int64_t size = static_cast<int64_t>(dtype_size(to));
  if (rows < 0 || row < 0) return -1;
  if (row && rows > std::numeric_limits<int64_t>::max() / row) return -1;
  const int64_t n = rows * row;
  if (n && size > std::numeric_limits<int64_t>::max() / n) return -1;
  return n * size;
}

}  // namespace

int64_t ResidentArrays::bytes_needed(const std::vector<HostArray>& xs,
                                     const std::vector<HostArray>& ys,
                                     const std::vector<DType>& target_dtypes) {
  int64_t total = 0;
  auto add = [&](const HostArray& a, DType to) {
    const int64_t b = array_bytes(a, to);
    if (b < 0 || total < 0 || b > std::numeric_limits<int64_t>::max() - total) total = -1;
    else total += b;
  };
  for (const HostArray& x : xs) add(x, DType::Float32);
  for (size_t o = 0; o < ys.size(); ++o)
    if (ys[o].data && o < target_dtypes.size()) add(ys[o], target_dtypes[o]);
  return total;
}

ResidentArrays::ResidentArrays(Device& device, const std::vector<HostArray>& xs,
                               const std::vector<HostArray>& ys,
                               const std::vector<DType>& target_dtypes)
    : device_(&device), rows_(xs.empty() ? 0 : xs[0].rows()) {
  for (const HostArray& x : xs) {
    xs_.push_back(upload(x, DType::Float32));
    host_data_.push_back(x.data);
    host_shapes_.push_back(x.shape);
    host_dtypes_.push_back(x.dtype);
  }
  for (size_t o = 0; o < ys.size(); ++o) {
    const bool present = ys[o].data && o < target_dtypes.size();
    ys_.push_back(present ? upload(ys[o], target_dtypes[o]) : Tensor());
    host_data_.push_back(ys[o].data);
    host_shapes_.push_back(ys[o].shape);
    host_dtypes_.push_back(ys[o].dtype);
  }
  stats_.uploads = 1;
}

ResidentArrays::~ResidentArrays() {
  if (!pinned_order_) return;
  try {
    if (order_copied_) device_->wait_event(order_copied_);
    device_->deallocate_pinned(pinned_order_, pinned_bytes_);
  } catch (...) {  // a destructor must not throw
  }
}

Tensor ResidentArrays::upload(const HostArray& a, DType to) {
  Shape shape = a.shape;
  if (shape.empty()) shape = {0};
  Tensor t = Tensor::empty(*device_, shape, to);
  stats_.bytes += static_cast<int64_t>(t.nbytes());
  if (a.dtype == to) {  // one copy from the caller's (pageable) memory
    device_->copy_from_host(t.raw(), a.data, t.nbytes());
    return t;
  }
  // Converted a chunk of rows at a time: the staging buffer may be reused once each
  // copy_from_host from pageable memory returns.
  const int64_t row = shape_row_size(a.shape);
  const int64_t row_bytes = row * static_cast<int64_t>(dtype_size(to));
  const int64_t chunk = row_bytes > 0 ? std::max<int64_t>(1, kChunkBytes / row_bytes) : a.rows();
  std::vector<char> staging(static_cast<size_t>(std::min(chunk, a.rows()) * row_bytes));
  const size_t src_row_bytes = static_cast<size_t>(row) * dtype_size(a.dtype);
  for (int64_t first = 0; first < a.rows(); first += chunk) {
    const int64_t n = std::min(chunk, a.rows() - first);
    convert_rows(static_cast<const char*>(a.data) + static_cast<size_t>(first) * src_row_bytes,
                 a.dtype, row, nullptr, n, staging.data(), to);
    device_->copy_from_host(static_cast<char*>(t.raw()) + first * row_bytes, staging.data(),
                            static_cast<size_t>(n * row_bytes));
  }
  return t;
}

bool ResidentArrays::matches(const std::vector<HostArray>& xs,
                             const std::vector<HostArray>& ys) const {
  if (xs.size() != xs_.size() || ys.size() != ys_.size()) return false;
  size_t i = 0;
  for (const auto* arrays : {&xs, &ys})
    for (const HostArray& a : *arrays) {
      if (a.data != host_data_[i] || a.shape != host_shapes_[i] || a.dtype != host_dtypes_[i])
        return false;
      ++i;
    }
  return true;
}

void ResidentArrays::set_order(const std::vector<int64_t>& order) {
  const size_t bytes = order.size() * sizeof(int64_t);
  if (bytes == 0) return;
  if (!order_.defined() || order_.nbytes() < bytes)
    order_ = Tensor::empty(*device_, {static_cast<int64_t>(order.size())}, DType::Int64);
  // Through pinned memory (an asynchronous copy); the last epoch's copy from it finished long
  // ago, but the host waits for its event before writing it again.
  if (order_copied_) device_->wait_event(order_copied_);
  if (pinned_bytes_ < bytes) {
    if (pinned_order_) device_->deallocate_pinned(pinned_order_, pinned_bytes_);
    pinned_order_ = nullptr;
    pinned_order_ = device_->allocate_pinned(bytes);
    pinned_bytes_ = bytes;
  }
  std::memcpy(pinned_order_, order.data(), bytes);
  device_->copy_from_host(order_.raw(), pinned_order_, bytes);
  order_copied_ = device_->record_event(0);
  ++stats_.order_uploads;
}

}  // namespace ff
