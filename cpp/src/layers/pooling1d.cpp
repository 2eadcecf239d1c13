// Pooling1D and GlobalPooling1D: argument checks, output shapes (Keras's
// compute_pooling_output_shape; TensorFlow's "SAME" padding split) and the height-1 geometry.
#include "layers/pooling1d.h"

#include "core/errors.h"

namespace ff {

Pooling1D::Pooling1D(std::string name, std::string class_name, uint64_t seed, int64_t pool_size,
                     int64_t strides, const std::string& padding)
    : Layer(std::move(name), std::move(class_name), seed),
      pool_size_(pool_size),
      strides_(strides == 0 ? pool_size : strides),
      padding_(parse_padding(padding, false)) {
  check_positive_tuple("pool_size", {pool_size_});
  check_positive_tuple("strides", {strides_});
}

Shape Pooling1D::compute_output_shape(const Shape& in) {
  if (in.size() != 3) incompatible("ndim=3 (batch, steps, channels)", in);
  for (size_t i = 1; i < 3; ++i)
    if (in[i] <= 0) incompatible("known steps and channels", in);
  const WindowAxis a = window_axis(in[1], pool_size_, strides_, 1, padding_);
  if (a.out <= 0)
    incompatible("an input at least as long as the pool (pool_size=" + std::to_string(pool_size_) +
                     ", padding=\"" + padding_name(padding_) +
                     "\"): the pool is longer than the unpadded input",
                 in);
  geom_ = Pool2DGeometry{};
  geom_.H = 1;
  geom_.W = in[1];
  geom_.C = in[2];
  geom_.KH = 1;
  geom_.KW = pool_size_;
  geom_.stride_h = 1;
  geom_.stride_w = strides_;
  geom_.pad_top = 0;
  geom_.pad_left = a.pad_before;
  geom_.OH = 1;
  geom_.OW = a.out;
  return {kNone, a.out, in[2]};
}

Pool2DGeometry Pooling1D::geometry(int64_t batch) const {
  Pool2DGeometry g = geom_;
  g.N = batch;
  return g;
}

GlobalPooling1D::GlobalPooling1D(std::string name, std::string class_name, uint64_t seed,
                                 bool keepdims)
    : Layer(std::move(name), std::move(class_name), seed), keepdims_(keepdims) {}

Shape GlobalPooling1D::compute_output_shape(const Shape& in) {
  if (in.size() != 3) incompatible("ndim=3 (batch, steps, channels)", in);
  for (size_t i = 1; i < 3; ++i)
    if (in[i] <= 0) incompatible("known steps and channels", in);
  geom_ = Pool2DGeometry{};
  geom_.H = geom_.KH = 1;
  geom_.W = geom_.KW = in[1];
  geom_.C = in[2];
  geom_.OH = geom_.OW = 1;
  return keepdims_ ? Shape{kNone, 1, in[2]} : Shape{kNone, in[2]};
}

Pool2DGeometry GlobalPooling1D::geometry(int64_t batch) const {
  Pool2DGeometry g = geom_;
  g.N = batch;
  return g;
}

}  // namespace ff
