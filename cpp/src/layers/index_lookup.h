// IndexLookup: the in-graph half of StringLookup / IntegerLookup. The lookup itself (token ->
// index, data/transforms/lookup.h) runs host-side at the model boundary, so this layer receives
// the indices as float32: with output_mode "int" it is the identity (a view of its input); with
// "one_hot" / "multi_hot" / "count" it encodes them like CategoryEncoding with `depth` entries
// (the vocabulary size, or max_tokens with pad_to_max_tokens), dropping the mask token (index -1).
// The depth is set once the vocabulary is known (adapt or vocabulary=), before the layer builds.
#pragma once
#include <string>

#include "layers/category_encoding.h"
#include "layers/layer.h"

namespace ff {

class IndexLookup final : public Layer {
 public:
  // class_name: "StringLookup" or "IntegerLookup"; output_mode: "int", "one_hot", "multi_hot",
  // "count". depth < 1: not known yet (set_depth before build for the encoded modes).
  IndexLookup(std::string name, uint64_t seed, std::string class_name,
              const std::string& output_mode, int64_t depth);
  bool encodes() const { return encodes_; }
  int64_t depth() const { return depth_; }
  // Sets the encoded width; changing it once built is an error (the model's shapes depend on it).
  void set_depth(int64_t depth);
  bool aliases_input(bool) const override { return !encodes_; }
  void forward(const Tensor& x, Tensor& y, std::vector<Tensor>& scratch,
               const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                std::vector<Tensor>& scratch, const StepContext& ctx) override;
  std::string recorded_error_message(double value, int64_t index,
                                     const Shape& input_shape) const override;

 protected:
  Shape compute_output_shape(const Shape& in) override;

 private:
  bool encodes_;
  CategoryMode mode_ = CategoryMode::OneHot;
  int64_t depth_;
};

}  // namespace ff
