// Pooling2D and GlobalPooling2D: argument checks, output shapes (Keras's
// compute_pooling_output_shape; TensorFlow's "SAME" padding split) and the kernel geometry.
#include "layers/pooling2d.h"

#include "core/errors.h"

namespace ff {

Pooling2D::Pooling2D(std::string name, std::string class_name, uint64_t seed,
                     std::vector<int64_t> pool_size, std::vector<int64_t> strides,
                     const std::string& padding)
    : Layer(std::move(name), std::move(class_name), seed),
      pool_size_(std::move(pool_size)),
      strides_(strides.empty() ? pool_size_ : std::move(strides)),
      padding_(parse_padding(padding, false)) {
  if (pool_size_.size() != 2)
    throw ValueError("The `pool_size` argument must be a tuple of 2 integers. Received pool_size=" +
                     tuple_str(pool_size_));
  if (strides_.size() != 2)
    throw ValueError("The `strides` argument must be a tuple of 2 integers. Received strides=" +
                     tuple_str(strides_));
  check_positive_tuple("pool_size", pool_size_);
  check_positive_tuple("strides", strides_);
}

Shape Pooling2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  const WindowAxis ah = window_axis(in[1], pool_size_[0], strides_[0], 1, padding_);
  const WindowAxis aw = window_axis(in[2], pool_size_[1], strides_[1], 1, padding_);
  if (ah.out <= 0 || aw.out <= 0)
    incompatible("an input at least as large as the pool (pool_size=" + tuple_str(pool_size_) +
                     ", padding=\"" + padding_name(padding_) +
                     "\"): the pool is larger than the unpadded input",
                 in);
  geom_ = Pool2DGeometry{};
  geom_.H = in[1];
  geom_.W = in[2];
  geom_.C = in[3];
  geom_.KH = pool_size_[0];
  geom_.KW = pool_size_[1];
  geom_.stride_h = strides_[0];
  geom_.stride_w = strides_[1];
  geom_.pad_top = ah.pad_before;
  geom_.pad_left = aw.pad_before;
  geom_.OH = ah.out;
  geom_.OW = aw.out;
  return {kNone, ah.out, aw.out, in[3]};
}

Pool2DGeometry Pooling2D::geometry(int64_t batch) const {
  Pool2DGeometry g = geom_;
  g.N = batch;
  return g;
}

GlobalPooling2D::GlobalPooling2D(std::string name, std::string class_name, uint64_t seed,
                                 bool keepdims)
    : Layer(std::move(name), std::move(class_name), seed), keepdims_(keepdims) {}

Shape GlobalPooling2D::compute_output_shape(const Shape& in) {
  if (in.size() != 4) incompatible("ndim=4 (batch, height, width, channels)", in);
  for (size_t i = 1; i < 4; ++i)
    if (in[i] <= 0) incompatible("known height, width and channels", in);
  geom_ = Pool2DGeometry{};
  geom_.H = geom_.KH = in[1];
  geom_.W = geom_.KW = in[2];
  geom_.C = in[3];
  geom_.OH = geom_.OW = 1;
  return keepdims_ ? Shape{kNone, 1, 1, in[3]} : Shape{kNone, in[3]};
}

Pool2DGeometry GlobalPooling2D::geometry(int64_t batch) const {
  Pool2DGeometry g = geom_;
  g.N = batch;
  return g;
}

}  // namespace ff
