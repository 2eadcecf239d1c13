// CategoryEncoding (Keras 3): integer category indices to one-hot, multi-hot or count vectors of
// num_tokens entries. Also the encoder that StringLookup/IntegerLookup's in-graph half
// (index_lookup.h) shares. Indices arrive as float32 (the model's compute type) and must be whole
// numbers in [0, num_tokens): anything else is an error naming the layer and the value, as Keras
// raises. No gradient flows to the input (indices are not differentiable).
//
// Shapes (Keras's compute_output_shape): "one_hot" encodes each value, replacing a last axis of
// size 1 ((N, 1) -> (N, K)) or appending one ((N, d) -> (N, d, K)); "multi_hot" and "count"
// treat the last axis as the sample's values ((N, d) -> (N, K)).
#pragma once
#include <string>

#include "layers/layer.h"

namespace ff {

// "one_hot", "multi_hot" (or Keras's old name "binary"), "count"; anything else is a ValueError.
CategoryMode category_mode(const std::string& name);
std::string category_mode_name(CategoryMode mode);
// Output shape for `in` (the batch dimension may be kNone); needs rank >= 2.
Shape category_output_shape(const Shape& in, int64_t num_tokens, CategoryMode mode);

// Host-side encoding of `x` (values of shape `in`, all dimensions known) into `y` (the output
// shape's values), for the input pipeline. skip_negative: negative indices (a lookup's dropped
// mask token) add nothing instead of raising. `layer` names the layer in messages.
void encode_categories(const float* x, const Shape& in, int64_t num_tokens, CategoryMode mode,
                       bool skip_negative, float* y, const std::string& layer);
// The error for a value outside [0, num_tokens) or not whole, found in sample `sample`.
std::string category_error_message(const std::string& layer, const std::string& class_name,
                                   int64_t num_tokens, double value, int64_t sample);

class CategoryEncoding final : public Layer {
 public:
  CategoryEncoding(std::string name, uint64_t seed, int64_t num_tokens, const std::string& mode);
  int64_t num_tokens() const { return num_tokens_; }
  CategoryMode mode() const { return mode_; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  // dx = 0: the indices get no gradient.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
  std::string recorded_error_message(double value, int64_t index,
                                     const Shape& input_shape) const override;

 protected:
  Shape compute_output_shape(const Shape& in) override;

 private:
  int64_t num_tokens_;
  CategoryMode mode_;
};

// Encodes a batch in backend memory through the backend's category_encode kernel; a bad value is
// recorded in the step state (node ctx.node), which the model reports with
// recorded_error_message.
void encode_categories_tensor(const Tensor& x, Tensor& y, int64_t num_tokens, CategoryMode mode,
                              bool skip_negative, const StepContext& ctx);

}  // namespace ff
