// The shared parts of the 2-D pooling layers: Pooling2D (window, strides, padding, the Keras
// output-size formula; MaxPooling2D and AveragePooling2D derive from it) and GlobalPooling2D
// (the whole H x W plane as one window, keepdims; the global max and average layers derive from
// it). Neither has parameters.
#pragma once
#include "backend/window_geometry.h"
#include "layers/conv_utils.h"
#include "layers/layer.h"

namespace ff {

class Pooling2D : public Layer {
 public:
  const std::vector<int64_t>& pool_size() const { return pool_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  Padding padding() const { return padding_; }
  // The geometry for a batch of `batch` (valid once built).
  Pool2DGeometry geometry(int64_t batch) const;

 protected:
  // strides empty: the pool size (Keras's strides=None).
  Pooling2D(std::string name, std::string class_name, uint64_t seed, std::vector<int64_t> pool_size,
            std::vector<int64_t> strides, const std::string& padding);
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  std::vector<int64_t> pool_size_, strides_;
  Padding padding_;
  Pool2DGeometry geom_;
};

class GlobalPooling2D : public Layer {
 public:
  bool keepdims() const { return keepdims_; }
  Pool2DGeometry geometry(int64_t batch) const;

 protected:
  GlobalPooling2D(std::string name, std::string class_name, uint64_t seed, bool keepdims);
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  bool keepdims_;
  Pool2DGeometry geom_;
};

}  // namespace ff
