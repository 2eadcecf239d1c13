// Vocabulary lookup tables for StringLookup / IntegerLookup (Keras's IndexLookup), run host-side:
// at the model boundary (a string or int64 column becomes integer indices before the C++ step)
// and as a built-in map transform on a pipeline's worker threads (no GIL). Also the token
// counter behind adapt(), which streams batches and orders the vocabulary as Keras does.
//
// Index layout (Keras): [mask token (output_mode "int" only)] [num_oov_indices OOV indices]
// [vocabulary tokens]. The mask token maps to 0 in "int" mode and is dropped (index -1) in the
// encoded modes; an unknown token maps to the OOV index (several OOV indices: a hash of the token
// picks one, floormod for integers as Keras's IntegerLookup does; strings use FNV-1a, not TF's
// FarmHash, so the bucket of a given string differs from TensorFlow's); with no OOV index an
// unknown token is an error naming it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/element.h"
#include "data/ops.h"

namespace ff::data::transforms {

struct LookupSpec {
  std::string layer_name = "lookup";  // for messages
  bool string_keys = true;            // StringLookup (true) or IntegerLookup (false)
  int64_t num_oov_indices = 1;
  bool has_mask = false;
  std::string mask_string;           // the mask token (string_keys)
  int64_t mask_int = 0;              // the mask token (integer keys)
  std::string oov_string = "[UNK]";  // returned for OOV indices by invert()
  int64_t oov_int = -1;
  bool mask_in_vocabulary = true;  // output_mode "int": the mask takes index 0
};

class LookupTable {
 public:
  // The vocabulary tokens (without the mask and OOV tokens), in index order. Duplicates, and the
  // mask token among them, are errors naming the token.
  static std::shared_ptr<LookupTable> from_strings(LookupSpec spec,
                                                   std::vector<std::string> tokens);
  static std::shared_ptr<LookupTable> from_ints(LookupSpec spec, std::vector<int64_t> tokens);

  const LookupSpec& spec() const { return spec_; }
  int64_t oov_start() const { return spec_.has_mask && spec_.mask_in_vocabulary ? 1 : 0; }
  int64_t token_start() const { return oov_start() + spec_.num_oov_indices; }
  // Indices in use: special ones plus the tokens.
  int64_t vocabulary_size() const { return token_start() + num_tokens(); }
  int64_t num_tokens() const {
    return static_cast<int64_t>(spec_.string_keys ? strings_.size() : ints_.size());
  }
  const std::vector<std::string>& string_tokens() const { return strings_; }
  const std::vector<int64_t>& int_tokens() const { return ints_; }

  // Tokens (strings, or any integer type for integer keys) to int64 indices of the same shape.
  // `what` names the input in messages ("x['Type']"); `element` is its position (-1: unknown).
  Component lookup(const Component& in, const std::string& what, int64_t element = -1) const;
  // Indices (any integer type) back to tokens: the mask index to the mask token, OOV and unknown
  // indices to the OOV token.
  Component invert(const Component& in, const std::string& what) const;

 private:
  explicit LookupTable(LookupSpec spec) : spec_(std::move(spec)) {}
  int64_t oov_index_string(const std::string& token, const std::string& what, int64_t element,
                           int64_t i) const;
  int64_t oov_index_int(int64_t token, const std::string& what, int64_t element, int64_t i) const;

  LookupSpec spec_;
  std::vector<std::string> strings_;
  std::vector<int64_t> ints_;
  std::unordered_map<std::string, int64_t> string_index_;
  std::unordered_map<int64_t, int64_t> int_index_;
};

// Counts tokens for adapt(), batch by batch (strings or integers, whichever it sees first; a
// batch of the other kind, or of floats, is an error).
class TokenCounter {
 public:
  TokenCounter(std::string layer_name, bool string_keys)
      : layer_name_(std::move(layer_name)), string_keys_(string_keys) {}
  void add(const Component& batch);
  int64_t distinct() const {
    return static_cast<int64_t>(string_keys_ ? strings_.size() : ints_.size());
  }
  // The vocabulary: tokens by count, highest first, ties broken by the token itself, highest
  // first (Keras: np.lexsort((tokens, counts))[::-1]), the mask/OOV tokens of `spec` left out,
  // at most `max_tokens` (< 0: all).
  std::vector<std::string> top_strings(const LookupSpec& spec, int64_t max_tokens) const;
  std::vector<int64_t> top_ints(const LookupSpec& spec, int64_t max_tokens) const;

 private:
  std::string layer_name_;
  bool string_keys_;
  std::unordered_map<std::string, int64_t> strings_;
  std::unordered_map<int64_t, int64_t> ints_;
};

// The map transform: component `component` of each element looked up in `table` (int64
// indices of the same shape); `what` names it in messages.
MapFn lookup(size_t component, std::shared_ptr<const LookupTable> table, std::string what);

}  // namespace ff::data::transforms
