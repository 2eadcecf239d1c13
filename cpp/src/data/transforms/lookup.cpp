// Vocabulary lookup tables, the adapt() token counter and the lookup map transform (lookup.h).
#include "data/transforms/lookup.h"

#include <algorithm>

#include "core/errors.h"

namespace ff::data::transforms {
namespace {

bool is_integer_type(ValueType t) {
  return t == ValueType::Int32 || t == ValueType::Int64 || t == ValueType::UInt8;
}

int64_t int_at(const Component& c, int64_t i) {
  const void* p = c.data();
  switch (c.type) {
    case ValueType::Int32:
      return static_cast<const int32_t*>(p)[i];
    case ValueType::Int64:
      return static_cast<const int64_t*>(p)[i];
    case ValueType::UInt8:
      return static_cast<const uint8_t*>(p)[i];
    default:
      break;
  }
  throw TypeError("internal: int_at on " + c.describe());
}

std::string quoted(const std::string& s) {
  constexpr size_t kShown = 60;
  return "'" + (s.size() > kShown ? s.substr(0, kShown) + "..." : s) + "'";
}

std::string where(const std::string& what, int64_t element, int64_t i) {
  std::string out = "at position " + std::to_string(i) + " of " + what;
  if (element >= 0) out += " (element " + std::to_string(element) + ")";
  return out;
}

// The key type a table or counter takes, checked against a component.
void check_keys(const Component& c, bool string_keys, const std::string& layer,
                const std::string& what) {
  if (string_keys && c.type != ValueType::String)
    throw TypeError("StringLookup \"" + layer + "\" takes strings; " + what + " is " +
                    c.describe() +
                    ". Use IntegerLookup for integer categories (nothing is "
                    "converted to text silently).");
  if (!string_keys && !is_integer_type(c.type))
    throw TypeError("IntegerLookup \"" + layer + "\" takes integers; " + what + " is " +
                    c.describe() +
                    (c.type == ValueType::String
                         ? ". Use StringLookup for string categories."
                         : ". Floats are not truncated silently: cast whole-number columns to "
                           "int64 first."));
}

// FNV-1a, 64 bit: a stable hash (the same bucket on every platform and run).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

template <typename Token>
std::vector<Token> top(const std::unordered_map<Token, int64_t>& counts, bool has_mask,
                       const Token& mask, bool drop_oov, const Token& oov, int64_t max_tokens) {
  std::vector<std::pair<int64_t, const Token*>> order;
  order.reserve(counts.size());
  for (const auto& [token, count] : counts) {
    if (has_mask && token == mask) continue;
    if (drop_oov && token == oov) continue;
    order.emplace_back(count, &token);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return *a.second > *b.second;
  });
  if (max_tokens >= 0 && static_cast<int64_t>(order.size()) > max_tokens)
    order.resize(static_cast<size_t>(max_tokens));
  std::vector<Token> out;
  out.reserve(order.size());
  for (const auto& o : order) out.push_back(*o.second);
  return out;
}

}  // namespace

std::shared_ptr<LookupTable> LookupTable::from_strings(LookupSpec spec,
                                                       std::vector<std::string> tokens) {
  if (!spec.string_keys) throw ValueError("internal: from_strings on an integer lookup spec");
  if (spec.num_oov_indices < 0)
    throw ValueError("\"" + spec.layer_name + "\": num_oov_indices must be >= 0, received " +
                     std::to_string(spec.num_oov_indices));
  std::shared_ptr<LookupTable> t(new LookupTable(std::move(spec)));
  t->string_index_.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (t->spec_.has_mask && tokens[i] == t->spec_.mask_string)
      throw ValueError("\"" + t->spec_.layer_name + "\": the vocabulary holds the mask token " +
                       quoted(tokens[i]) + " at position " + std::to_string(i) +
                       "; leave it out (the layer reserves its index) or put the special tokens "
                       "only at the start, in the order mask, OOV");
    if (!t->string_index_.emplace(tokens[i], t->token_start() + static_cast<int64_t>(i)).second)
      throw ValueError("\"" + t->spec_.layer_name + "\": the vocabulary has the repeated term " +
                       quoted(tokens[i]) + " (position " + std::to_string(i) +
                       "); each term must appear once");
  }
  t->strings_ = std::move(tokens);
  return t;
}

std::shared_ptr<LookupTable> LookupTable::from_ints(LookupSpec spec, std::vector<int64_t> tokens) {
  if (spec.string_keys) throw ValueError("internal: from_ints on a string lookup spec");
  if (spec.num_oov_indices < 0)
    throw ValueError("\"" + spec.layer_name + "\": num_oov_indices must be >= 0, received " +
                     std::to_string(spec.num_oov_indices));
  std::shared_ptr<LookupTable> t(new LookupTable(std::move(spec)));
  t->int_index_.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (t->spec_.has_mask && tokens[i] == t->spec_.mask_int)
      throw ValueError("\"" + t->spec_.layer_name + "\": the vocabulary holds the mask token " +
                       std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                       "; leave it out (the layer reserves its index)");
    if (!t->int_index_.emplace(tokens[i], t->token_start() + static_cast<int64_t>(i)).second)
      throw ValueError("\"" + t->spec_.layer_name + "\": the vocabulary has the repeated term " +
                       std::to_string(tokens[i]) + " (position " + std::to_string(i) +
                       "); each term must appear once");
  }
  t->ints_ = std::move(tokens);
  return t;
}

int64_t LookupTable::oov_index_string(const std::string& token, const std::string& what,
                                      int64_t element, int64_t i) const {
  const int64_t n = spec_.num_oov_indices;
  if (n == 0)
    throw ValueError("\"" + spec_.layer_name + "\": " + quoted(token) + " " +
                     where(what, element, i) +
                     " is not in the vocabulary, and num_oov_indices=0 "
                     "requires every input to be; set num_oov_indices=1 to map unknown values to "
                     "an OOV index");
  if (n == 1) return oov_start();
  return oov_start() + static_cast<int64_t>(fnv1a(token) % static_cast<uint64_t>(n));
}

int64_t LookupTable::oov_index_int(int64_t token, const std::string& what, int64_t element,
                                   int64_t i) const {
  const int64_t n = spec_.num_oov_indices;
  if (n == 0)
    throw ValueError("\"" + spec_.layer_name + "\": " + std::to_string(token) + " " +
                     where(what, element, i) +
                     " is not in the vocabulary, and num_oov_indices=0 "
                     "requires every input to be; set num_oov_indices=1 to map unknown values to "
                     "an OOV index");
  if (n == 1) return oov_start();
  const int64_t m = ((token % n) + n) % n;  // floormod, as Keras
  return oov_start() + m;
}

Component LookupTable::lookup(const Component& in, const std::string& what, int64_t element) const {
  check_keys(in, spec_.string_keys, spec_.layer_name, what);
  void* dst = nullptr;
  Component out = Component::make(ValueType::Int64, in.shape, &dst);
  int64_t* d = static_cast<int64_t*>(dst);
  const int64_t n = in.numel();
  const int64_t mask_value = spec_.mask_in_vocabulary ? 0 : -1;
  if (spec_.string_keys) {
    for (int64_t i = 0; i < n; ++i) {
      const std::string& s = in.string_at(i);
      if (spec_.has_mask && s == spec_.mask_string) {
        d[i] = mask_value;
        continue;
      }
      auto it = string_index_.find(s);
      d[i] = it != string_index_.end() ? it->second : oov_index_string(s, what, element, i);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = int_at(in, i);
      if (spec_.has_mask && v == spec_.mask_int) {
        d[i] = mask_value;
        continue;
      }
      auto it = int_index_.find(v);
      d[i] = it != int_index_.end() ? it->second : oov_index_int(v, what, element, i);
    }
  }
  return out;
}

Component LookupTable::invert(const Component& in, const std::string& what) const {
  if (!is_integer_type(in.type))
    throw TypeError("\"" + spec_.layer_name + "\" (invert=True) takes integer indices; " + what +
                    " is " + in.describe());
  const int64_t n = in.numel();
  const int64_t start = token_start(), size = vocabulary_size();
  const bool mask0 = spec_.has_mask && spec_.mask_in_vocabulary;
  if (spec_.string_keys) {
    std::vector<std::string> values;
    values.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = int_at(in, i);
      if (mask0 && k == 0)
        values.push_back(spec_.mask_string);
      else if (k >= start && k < size)
        values.push_back(strings_[static_cast<size_t>(k - start)]);
      else
        values.push_back(spec_.oov_string);
    }
    return Component::make_strings(in.shape, std::move(values));
  }
  void* dst = nullptr;
  Component out = Component::make(ValueType::Int64, in.shape, &dst);
  int64_t* d = static_cast<int64_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = int_at(in, i);
    if (mask0 && k == 0)
      d[i] = spec_.mask_int;
    else if (k >= start && k < size)
      d[i] = ints_[static_cast<size_t>(k - start)];
    else
      d[i] = spec_.oov_int;
  }
  return out;
}

void TokenCounter::add(const Component& batch) {
  check_keys(batch, string_keys_, layer_name_, "the adapt() data");
  const int64_t n = batch.numel();
  if (string_keys_) {
    for (int64_t i = 0; i < n; ++i) ++strings_[batch.string_at(i)];
  } else {
    for (int64_t i = 0; i < n; ++i) ++ints_[int_at(batch, i)];
  }
}

std::vector<std::string> TokenCounter::top_strings(const LookupSpec& spec,
                                                   int64_t max_tokens) const {
  return top(strings_, spec.has_mask, spec.mask_string, true, spec.oov_string, max_tokens);
}

std::vector<int64_t> TokenCounter::top_ints(const LookupSpec& spec, int64_t max_tokens) const {
  return top(ints_, spec.has_mask, spec.mask_int, true, spec.oov_int, max_tokens);
}

MapFn lookup(size_t component, std::shared_ptr<const LookupTable> table, std::string what) {
  if (!table) throw ValueError("internal: lookup transform without a table");
  return [component, table = std::move(table), what = std::move(what)](const Element& in,
                                                                       int64_t index, uint64_t) {
    if (component >= in.size())
      throw ValueError("Lookup: the element has " + std::to_string(in.size()) +
                       " components; there is no component " + std::to_string(component));
    Element out = in;
    out[component] = table->lookup(in[component], what, index);
    return out;
  };
}

}  // namespace ff::data::transforms
