// The shared parts of the 1-D pooling layers, which run the 2-D pooling kernels on a geometry of
// height 1 (as Conv1D runs the 2-D convolution): Pooling1D (pool_size, strides, padding on
// (N, steps, C), Keras's output-size formula; MaxPooling1D and AveragePooling1D derive from it)
// and GlobalPooling1D (all steps as one window, keepdims; the global max and average layers
// derive from it). Neither has parameters.
#pragma once
#include "backend/window_geometry.h"
#include "layers/conv_utils.h"
#include "layers/layer.h"

namespace ff {

class Pooling1D : public Layer {
 public:
  int64_t pool_size() const { return pool_size_; }
  int64_t strides() const { return strides_; }
  Padding padding() const { return padding_; }
  // The 2-D geometry (H = 1) for a batch of `batch` (valid once built).
  Pool2DGeometry geometry(int64_t batch) const;

 protected:
  // strides 0: the pool size (Keras's strides=None).
  Pooling1D(std::string name, std::string class_name, uint64_t seed, int64_t pool_size,
            int64_t strides, const std::string& padding);
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  int64_t pool_size_, strides_;
  Padding padding_;
  Pool2DGeometry geom_;
};

class GlobalPooling1D : public Layer {
 public:
  bool keepdims() const { return keepdims_; }
  Pool2DGeometry geometry(int64_t batch) const;

 protected:
  GlobalPooling1D(std::string name, std::string class_name, uint64_t seed, bool keepdims);
  Shape compute_output_shape(const Shape& input_shape) override;

 private:
  bool keepdims_;
  Pool2DGeometry geom_;
};

}  // namespace ff
