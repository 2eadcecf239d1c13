// Tests of data/transforms/lookup.cpp against Keras's documented StringLookup/IntegerLookup
// behaviour: index layout (mask, OOV, tokens), OOV hashing buckets, num_oov_indices=0 errors,
// invert, the adapt() counter's order (count, then token, both descending) and max_tokens, and
// the map transform on a pipeline element.
#include <catch2/catch.hpp>
#include <cstring>

#include "core/errors.h"
#include "data/transforms/lookup.h"

using namespace ff::data;
using transforms::LookupSpec;
using transforms::LookupTable;
using transforms::TokenCounter;

namespace {

Component strings(const ff::Shape& shape, std::vector<std::string> v) {
  return Component::make_strings(shape, std::move(v));
}

Component ints(const ff::Shape& shape, std::vector<int64_t> v) {
  void* dst = nullptr;
  Component c = Component::make(ValueType::Int64, shape, &dst);
  std::memcpy(dst, v.data(), v.size() * sizeof(int64_t));
  return c;
}

std::vector<int64_t> as_ints(const Component& c) {
  REQUIRE(c.type == ValueType::Int64);
  const int64_t* p = static_cast<const int64_t*>(c.data());
  return std::vector<int64_t>(p, p + c.numel());
}

std::vector<std::string> as_strings(const Component& c) {
  REQUIRE(c.type == ValueType::String);
  std::vector<std::string> out;
  for (int64_t i = 0; i < c.numel(); ++i) out.push_back(c.string_at(i));
  return out;
}

LookupSpec string_spec() {
  LookupSpec s;
  s.layer_name = "string_lookup";
  return s;
}

}  // namespace

TEST_CASE("StringLookup table: Keras's documented example (OOV index 0, tokens from 1)",
          "[data][lookup]") {
  // keras.io: vocab = ["a", "b", "c", "d"]; data = [["a", "c", "d"], ["d", "z", "b"]]
  // -> [[1, 3, 4], [4, 0, 2]]
  auto t = LookupTable::from_strings(string_spec(), {"a", "b", "c", "d"});
  REQUIRE(t->vocabulary_size() == 5);
  Component out = t->lookup(strings({2, 3}, {"a", "c", "d", "d", "z", "b"}), "x");
  REQUIRE(out.shape == ff::Shape{2, 3});
  REQUIRE(as_ints(out) == std::vector<int64_t>{1, 3, 4, 4, 0, 2});
}

TEST_CASE("StringLookup table: mask token takes index 0 and OOV moves to 1", "[data][lookup]") {
  // keras.io: mask_token="" -> [[2, 4, 5], [5, 1, 0]] for [["a", "c", "d"], ["d", "z", ""]]
  LookupSpec s = string_spec();
  s.has_mask = true;
  s.mask_string = "";
  auto t = LookupTable::from_strings(s, {"a", "b", "c", "d"});
  REQUIRE(t->vocabulary_size() == 6);
  REQUIRE(as_ints(t->lookup(strings({2, 3}, {"a", "c", "d", "d", "z", ""}), "x")) ==
          std::vector<int64_t>{2, 4, 5, 5, 1, 0});
  // In the encoded modes the mask has no index: it is dropped (-1) and OOV is 0 again.
  s.mask_in_vocabulary = false;
  auto enc = LookupTable::from_strings(s, {"a", "b"});
  REQUIRE(enc->vocabulary_size() == 3);
  REQUIRE(as_ints(enc->lookup(strings({3}, {"", "b", "q"}), "x")) ==
          std::vector<int64_t>{-1, 2, 0});
  // The mask token inside the vocabulary is refused.
  REQUIRE_THROWS_WITH(LookupTable::from_strings(s, {"a", ""}), Catch::Contains("mask token"));
}

TEST_CASE("Lookup table: several OOV indices hash, none refuses unknown tokens", "[data][lookup]") {
  LookupSpec s = string_spec();
  s.num_oov_indices = 2;
  auto t = LookupTable::from_strings(s, {"a", "b"});
  REQUIRE(t->vocabulary_size() == 4);
  auto out = as_ints(t->lookup(strings({4}, {"a", "zz", "zz", "b"}), "x"));
  REQUIRE(out[0] == 2);
  REQUIRE(out[3] == 3);
  REQUIRE((out[1] == 0 || out[1] == 1));
  REQUIRE(out[1] == out[2]);  // the same token always lands in the same bucket
  // Integers: floormod (Keras's IntegerLookup default): [12, 13] with 2 OOV -> 0, 1.
  LookupSpec is;
  is.string_keys = false;
  is.num_oov_indices = 2;
  auto ti = LookupTable::from_ints(is, {7});
  REQUIRE(as_ints(ti->lookup(ints({4}, {12, 13, 7, -3}), "x")) == std::vector<int64_t>{0, 1, 2, 1});
  s.num_oov_indices = 0;
  auto strict = LookupTable::from_strings(s, {"a"});
  REQUIRE_THROWS_WITH(strict->lookup(strings({2}, {"a", "nope"}), "x['Type']", 5),
                      Catch::Contains("'nope'") && Catch::Contains("x['Type']") &&
                          Catch::Contains("element 5") && Catch::Contains("num_oov_indices=0"));
}

TEST_CASE("Lookup table: duplicates, wrong key types and floats are errors", "[data][lookup]") {
  REQUIRE_THROWS_WITH(LookupTable::from_strings(string_spec(), {"a", "b", "a"}),
                      Catch::Contains("repeated term 'a'"));
  auto t = LookupTable::from_strings(string_spec(), {"a"});
  REQUIRE_THROWS_AS(t->lookup(ints({1}, {1}), "x"), ff::TypeError);
  LookupSpec is;
  is.string_keys = false;
  auto ti = LookupTable::from_ints(is, {1, 2});
  void* dst = nullptr;
  Component f = Component::make(ValueType::Float32, {1}, &dst);
  *static_cast<float*>(dst) = 1.0f;
  REQUIRE_THROWS_WITH(ti->lookup(f, "x['Age']"),
                      Catch::Contains("IntegerLookup") && Catch::Contains("float32"));
  REQUIRE_THROWS_WITH(ti->lookup(strings({1}, {"1"}), "x"), Catch::Contains("StringLookup"));
}

TEST_CASE("Lookup table: invert maps indices back, OOV and unknown to the OOV token",
          "[data][lookup]") {
  // keras.io invert example: [[1, 3, 4], [4, 0, 2]] -> [["a","c","d"], ["d","[UNK]","b"]]
  auto t = LookupTable::from_strings(string_spec(), {"a", "b", "c", "d"});
  REQUIRE(as_strings(t->invert(ints({2, 3}, {1, 3, 4, 4, 0, 2}), "x")) ==
          std::vector<std::string>{"a", "c", "d", "d", "[UNK]", "b"});
  REQUIRE(as_strings(t->invert(ints({1}, {99}), "x")) == std::vector<std::string>{"[UNK]"});
  LookupSpec is;
  is.string_keys = false;
  is.has_mask = true;
  is.mask_int = 0;
  auto ti = LookupTable::from_ints(is, {12, 36});
  // layout [0 (mask), -1 (OOV), 12, 36]
  REQUIRE(as_ints(ti->invert(ints({4}, {0, 1, 2, 3}), "x")) == std::vector<int64_t>{0, -1, 12, 36});
}

TEST_CASE("TokenCounter: order by count then token, descending, special tokens left out",
          "[data][lookup]") {
  TokenCounter c("string_lookup", true);
  c.add(strings({6}, {"b", "a", "c", "a", "b", "d"}));
  c.add(strings({3}, {"[UNK]", "e", "c"}));
  // counts: a2 b2 c2 d1 e1 [UNK]1 -> ties by token descending: c b a, then e d
  REQUIRE(c.top_strings(string_spec(), -1) == std::vector<std::string>{"c", "b", "a", "e", "d"});
  REQUIRE(c.top_strings(string_spec(), 2) == std::vector<std::string>{"c", "b"});
  LookupSpec masked = string_spec();
  masked.has_mask = true;
  masked.mask_string = "c";
  REQUIRE(c.top_strings(masked, -1) == std::vector<std::string>{"b", "a", "e", "d"});
  TokenCounter ic("integer_lookup", false);
  ic.add(ints({5}, {3, 3, 7, 7, 1}));
  LookupSpec is;
  is.string_keys = false;
  REQUIRE(ic.top_ints(is, -1) == std::vector<int64_t>{7, 3, 1});
  REQUIRE_THROWS_AS(ic.add(strings({1}, {"x"})), ff::TypeError);
}

TEST_CASE("Lookup transform rewrites one component of each element", "[data][lookup]") {
  auto t = LookupTable::from_strings(string_spec(), {"cat", "dog"});
  Element e{strings({2, 1}, {"dog", "bird"}), ints({2}, {1, 0})};
  Element out = transforms::lookup(0, t, "x['Type']")(e, 3, 0);
  REQUIRE(as_ints(out[0]) == std::vector<int64_t>{2, 0});
  REQUIRE(out[0].shape == ff::Shape{2, 1});
  REQUIRE(out[1].bytes == e[1].bytes);
  REQUIRE_THROWS_WITH(transforms::lookup(4, t, "x")(e, 0, 0), Catch::Contains("no component 4"));
}
