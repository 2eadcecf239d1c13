// CategoryEncoding layer and the shared categorical encoder (see category_encoding.h).
#include "layers/category_encoding.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/errors.h"

namespace ff {

CategoryMode category_mode(const std::string& name) {
  if (name == "one_hot") return CategoryMode::OneHot;
  if (name == "multi_hot" || name == "binary") return CategoryMode::MultiHot;
  if (name == "count") return CategoryMode::Count;
  throw ValueError("Unknown arg for output_mode: " + name +
                   ". Expected one of \"one_hot\", \"multi_hot\", \"count\"");
}

std::string category_mode_name(CategoryMode mode) {
  switch (mode) {
    case CategoryMode::OneHot:
      return "one_hot";
    case CategoryMode::MultiHot:
      return "multi_hot";
    case CategoryMode::Count:
      return "count";
  }
  return "?";
}

Shape category_output_shape(const Shape& in, int64_t num_tokens, CategoryMode mode) {
  if (in.size() < 2)
    throw ValueError("category encoding needs inputs of rank >= 2 (batch, values), found shape=" +
                     shape_str(in));
  Shape out = in;
  if (mode == CategoryMode::OneHot && in.back() != 1) {
    out.push_back(num_tokens);
  } else {
    out.back() = num_tokens;
  }
  return out;
}

void encode_categories(const float* x, const Shape& in, int64_t num_tokens, CategoryMode mode,
                       bool skip_negative, float* y, const std::string& layer) {
  const int64_t numel = shape_numel(in);
  const int64_t bad = encode_category_values(x, numel, in.empty() ? 1 : in.back(), num_tokens,
                                             mode, skip_negative, y);
  if (bad >= 0) {
    const int64_t per_sample = !in.empty() && in[0] > 0 ? numel / in[0] : 1;
    const int64_t sample = bad / (per_sample > 0 ? per_sample : 1);
    throw ValueError(category_error_message(layer, "CategoryEncoding", num_tokens, x[bad], sample));
  }
}

std::string category_error_message(const std::string& layer, const std::string& class_name,
                                   int64_t num_tokens, double value, int64_t sample) {
  const bool whole = std::isfinite(value) && value == std::floor(value);
  return "Layer \"" + layer + "\" (" + class_name + ", num_tokens=" + std::to_string(num_tokens) +
         ") received the value " +
         (whole ? std::to_string(static_cast<int64_t>(value)) : std::to_string(value)) +
         " in sample " + std::to_string(sample) + "; inputs must be whole numbers in [0, " +
         std::to_string(num_tokens) +
         "). Raise num_tokens or fix the indices (a lookup layer's vocabulary_size() is the "
         "num_tokens it needs)";
}

void encode_categories_tensor(const Tensor& x, Tensor& y, int64_t num_tokens, CategoryMode mode,
                              bool skip_negative, const StepContext& ctx) {
  const Shape& in = x.shape();
  ctx.backend->category_encode(x.data<float>(), x.numel(), in.empty() ? 1 : in.back(), num_tokens,
                               mode, skip_negative, y.data<float>(), ctx.state, ctx.node);
}

std::string CategoryEncoding::recorded_error_message(double value, int64_t index,
                                                     const Shape& input_shape) const {
  const int64_t per_sample = shape_row_size(input_shape);
  return category_error_message(name(), "CategoryEncoding", num_tokens_, value,
                                per_sample > 0 ? index / per_sample : 0);
}

CategoryEncoding::CategoryEncoding(std::string name, uint64_t seed, int64_t num_tokens,
                                   const std::string& mode)
    : Layer(std::move(name), "CategoryEncoding", seed),
      num_tokens_(num_tokens),
      mode_(category_mode(mode)) {
  if (num_tokens < 1)
    throw ValueError(
        "`num_tokens` must be >= 1. Received: num_tokens=" + std::to_string(num_tokens) + ".");
}

Shape CategoryEncoding::compute_output_shape(const Shape& in) {
  if (in.size() < 2) incompatible("min_ndim=2 (batch, values)", in);
  return category_output_shape(in, num_tokens_, mode_);
}

void CategoryEncoding::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&,
                               const StepContext& ctx) {
  encode_categories_tensor(x, y, num_tokens_, mode_, false, ctx);
}

void CategoryEncoding::backward(const Tensor&, const Tensor&, const Tensor&, Tensor* dx,
                                std::vector<Tensor>&, const StepContext& ctx) {
  if (dx) ctx.backend->fill(dx->data<float>(), dx->numel(), 0.0f);
}

}  // namespace ff
