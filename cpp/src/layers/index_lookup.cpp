// IndexLookup layer (see index_lookup.h): identity on looked-up indices, or their encoding.
#include "layers/index_lookup.h"

#include "core/errors.h"

namespace ff {

IndexLookup::IndexLookup(std::string name, uint64_t seed, std::string class_name,
                         const std::string& output_mode, int64_t depth)
    : Layer(std::move(name), std::move(class_name), seed),
      encodes_(output_mode != "int"),
      depth_(depth) {
  if (encodes_) mode_ = category_mode(output_mode);
}

void IndexLookup::set_depth(int64_t depth) {
  if (built() && encodes_ && depth != depth_)
    throw ValueError("Layer \"" + name() + "\" (" + class_name() +
                     ") was used with a vocabulary "
                     "of " +
                     std::to_string(depth_) + " indices; its vocabulary now has " +
                     std::to_string(depth) +
                     ". Build a new model after changing the vocabulary "
                     "(the encoded width is part of the model's shapes)");
  depth_ = depth;
}

Shape IndexLookup::compute_output_shape(const Shape& in) {
  if (!encodes_) return in;
  if (depth_ < 1)
    throw ValueError("Layer \"" + name() + "\" (" + class_name() + ", output_mode=\"" +
                     category_mode_name(mode_) +
                     "\") has no vocabulary yet: call adapt() or pass "
                     "vocabulary= before using it in a model (the output width is the vocabulary "
                     "size)");
  if (in.size() < 2) incompatible("min_ndim=2 (batch, values)", in);
  return category_output_shape(in, depth_, mode_);
}

void IndexLookup::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                          const StepContext& ctx) {
  if (!encodes_) return;  // a view of the input
  encode_categories_tensor(x, y, depth_, mode_, true, ctx);
}

std::string IndexLookup::recorded_error_message(double value, int64_t index,
                                                const Shape& input_shape) const {
  const int64_t per_sample = shape_row_size(input_shape);
  return category_error_message(name(), class_name(), depth_, value,
                                per_sample > 0 ? index / per_sample : 0);
}

void IndexLookup::backward(const Tensor&, const Tensor&, const Tensor&, Tensor* dx,
                           std::vector<Tensor>&, const StepContext& ctx) {
  if (dx && encodes_) ctx.backend->fill(dx->data<float>(), dx->numel(), 0.0f);
}

}  // namespace ff
