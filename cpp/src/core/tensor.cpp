// Tensor and Storage (see tensor.h).
#include "core/tensor.h"

#include <algorithm>

namespace ff {

Storage::Storage(Device& device, size_t bytes)
    : device_(&device), ptr_(device.allocate(bytes)), bytes_(bytes) {}

Storage::~Storage() { device_->deallocate(ptr_, bytes_); }

Tensor Tensor::empty(Device& device, const Shape& shape, DType dtype) {
  Tensor t;
  t.numel_ = shape_numel(shape);
  // The byte count must fit a signed 64-bit offset (raw() and every kernel index with int64).
  int64_t bytes;
  if (__builtin_mul_overflow(t.numel_, static_cast<int64_t>(dtype_size(dtype)), &bytes))
    throw SizeOverflowError("a tensor of shape " + shape_str(shape) + " and dtype " +
                            dtype_name(dtype) + " needs more than 2^63 - 1 bytes");
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.storage_ = std::make_shared<Storage>(device, std::max<size_t>(t.nbytes(), 1));
  return t;
}

Tensor Tensor::zeros(Device& device, const Shape& shape, DType dtype) {
  Tensor t = empty(device, shape, dtype);
  device.zero(t.raw(), t.nbytes());
  return t;
}

Device& Tensor::device() const {
  if (!storage_) throw ValueError("tensor has no storage");
  return storage_->device();
}

Tensor Tensor::view(int64_t offset, const Shape& shape) const {
  Tensor t;
  t.storage_ = storage_;
  t.offset_ = offset_ + offset;
  t.shape_ = shape;
  t.numel_ = shape_numel(shape);
  t.dtype_ = dtype_;
  if (offset < 0 || offset > numel_ || t.numel_ > numel_ - offset)
    throw ValueError("view " + shape_str(shape) + " at offset " + std::to_string(offset) +
                     " exceeds a tensor of " + std::to_string(numel_) + " elements");
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (shape_numel(shape) != numel_)
    throw ValueError("cannot reshape a tensor of shape " + shape_str(shape_) + " to " +
                     shape_str(shape));
  return view(0, shape);
}

Tensor Tensor::first_rows(int64_t n) const { return view(0, with_batch(shape_, n)); }

Tensor Tensor::reinterpret(DType dtype, const Shape& shape) const {
  const int64_t old_size = static_cast<int64_t>(dtype_size(dtype_));
  const int64_t new_size = static_cast<int64_t>(dtype_size(dtype));
  const int64_t start = offset_ * old_size;  // bytes into the storage
  Tensor t;
  t.storage_ = storage_;
  t.shape_ = shape;
  t.numel_ = shape_numel(shape);
  t.dtype_ = dtype;
  t.offset_ = start / new_size;
  if (start % new_size != 0 || t.numel_ * new_size > numel_ * old_size)
    throw ValueError("reinterpret: " + shape_str(shape) + " of " + dtype_name(dtype) +
                     " does not fit (aligned) in a tensor of " + std::to_string(numel_) + " " +
                     dtype_name(dtype_) + " values");
  return t;
}

}  // namespace ff
