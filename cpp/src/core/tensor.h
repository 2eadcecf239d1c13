// Tensor: a typed, shaped, contiguous view into device memory. Views share storage (the model's
// parameter buffer is one storage, each layer's kernel and bias are views of it). A tensor knows
// its device, not the kernels (those are the backend's, one level up).
#pragma once
#include <memory>

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "core/shape.h"

namespace ff {

class Storage {
 public:
  Storage(Device& device, size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* ptr() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  Device& device() const { return *device_; }

 private:
  Device* device_;
  void* ptr_;
  size_t bytes_;
};

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised tensor of the given shape (all dimensions known).
  static Tensor empty(Device& device, const Shape& shape, DType dtype = DType::Float32);
  static Tensor zeros(Device& device, const Shape& shape, DType dtype = DType::Float32);

  bool defined() const { return static_cast<bool>(storage_); }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int64_t numel() const { return numel_; }
  int64_t rows() const { return shape_.empty() ? 1 : shape_[0]; }
  int64_t row_size() const { return shape_.empty() || shape_[0] == 0 ? 0 : numel_ / shape_[0]; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  Device& device() const;

  // A view of `shape` starting `offset` elements into this tensor's data.
  Tensor view(int64_t offset, const Shape& shape) const;
  // The same data with another shape of equal element count.
  Tensor reshape(const Shape& shape) const;
  // The first `n` rows (a smaller batch inside a buffer sized for a bigger one).
  Tensor first_rows(int64_t n) const;
  // The same bytes read as `shape` values of `dtype` (e.g. a float32 scratch buffer used for
  // 16-bit values); they must fit inside this tensor's bytes, aligned to the new dtype.
  Tensor reinterpret(DType dtype, const Shape& shape) const;

  template <typename T>
  T* data() const {
    if (dtype_of<T>::value != dtype_)
      throw TypeError("tensor of dtype " + dtype_name(dtype_) + " accessed as " +
                      dtype_name(dtype_of<T>::value));
    return reinterpret_cast<T*>(raw());
  }
  void* raw() const {
    return static_cast<char*>(storage_->ptr()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
  }

 private:
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
};

}  // namespace ff
