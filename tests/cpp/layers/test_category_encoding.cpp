// Tests for layers/category_encoding.cpp and layers/index_lookup.cpp: Keras's documented
// CategoryEncoding examples (one_hot, multi_hot, count), output shapes, out-of-range and
// non-integer values named in the error, no gradient to the indices, and the lookup's in-graph
// half (identity view for "int", mask indices dropped when encoding, depth fixed once built).
#include <catch2/catch.hpp>
#include <vector>

#include "core/errors.h"
#include "layers/category_encoding.h"
#include "layers/index_lookup.h"
#include "test_util.h"

using namespace fftest;

namespace {

// Runs the layer on x; a value the kernel recorded as bad in the step state raises the error the
// model would raise for it (the layer's recorded_error_message).
std::vector<float> run(ff::Layer& layer, const ff::Shape& in, const std::vector<float>& x) {
  ff::Shape out = layer.output_shape();
  out[0] = in[0];
  ff::Tensor xt = make_tensor(in, x), yt = ff::Tensor::zeros(fftest::device(), out);
  std::vector<ff::Tensor> scratch;
  TestContext context(false);
  layer.forward(xt, yt, scratch, context.ctx);
  const ff::StepState h = context.block.read();
  if (h.halted) {
    REQUIRE(h.error == static_cast<int32_t>(ff::StepError::BadCategory));
    REQUIRE(h.error_where == context.ctx.node);
    throw ff::ValueError(layer.recorded_error_message(h.error_value, h.error_index, in));
  }
  return to_vector(yt);
}

}  // namespace

TEST_CASE("CategoryEncoding: one_hot on a column", "[layers][category_encoding]") {
  // keras.io: CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1])
  ff::CategoryEncoding layer("category_encoding", 1, 4, "one_hot");
  REQUIRE(layer.build({ff::kNone, 1}) == ff::Shape{ff::kNone, 4});
  REQUIRE(run(layer, {4, 1}, {3, 2, 0, 1}) ==
          std::vector<float>{0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0});
  ff::CategoryEncoding wide("category_encoding_1", 1, 3, "one_hot");
  REQUIRE(wide.build({ff::kNone, 2}) == ff::Shape{ff::kNone, 2, 3});
}

TEST_CASE("CategoryEncoding: multi_hot and count", "[layers][category_encoding]") {
  // keras.io: multi_hot of [[0, 1], [0, 0], [1, 2], [3, 1]] with num_tokens=4
  ff::CategoryEncoding multi("category_encoding", 1, 4, "multi_hot");
  REQUIRE(multi.build({ff::kNone, 2}) == ff::Shape{ff::kNone, 4});
  REQUIRE(run(multi, {4, 2}, {0, 1, 0, 0, 1, 2, 3, 1}) ==
          std::vector<float>{1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1});
  ff::CategoryEncoding count("category_encoding_1", 1, 4, "count");
  count.build({ff::kNone, 2});
  REQUIRE(run(count, {4, 2}, {0, 1, 0, 0, 1, 2, 3, 1}) ==
          std::vector<float>{1, 1, 0, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1});
}

TEST_CASE("CategoryEncoding: errors name the layer and the value", "[layers][category_encoding]") {
  ff::CategoryEncoding layer("enc", 1, 3, "multi_hot");
  layer.build({ff::kNone, 1});
  REQUIRE_THROWS_WITH(run(layer, {2, 1}, {1, 3}),
                      Catch::Contains("\"enc\"") && Catch::Contains("value 3") &&
                          Catch::Contains("sample 1") && Catch::Contains("[0, 3)"));
  REQUIRE_THROWS_WITH(run(layer, {1, 1}, {-1}), Catch::Contains("value -1"));
  REQUIRE_THROWS_WITH(run(layer, {1, 1}, {1.5f}), Catch::Contains("1.5"));
  REQUIRE_THROWS_AS(ff::CategoryEncoding("e", 1, 0, "one_hot"), ff::ValueError);
  REQUIRE_THROWS_WITH(ff::CategoryEncoding("e", 1, 3, "tf_idf"), Catch::Contains("output_mode"));
  ff::CategoryEncoding flat("e2", 1, 3, "one_hot");
  REQUIRE_THROWS_AS(flat.build({ff::kNone}), ff::ValueError);
}

TEST_CASE("CategoryEncoding: the indices get a zero gradient", "[layers][category_encoding]") {
  ff::CategoryEncoding layer("enc", 1, 3, "one_hot");
  layer.build({ff::kNone, 1});
  ff::Tensor x = make_tensor({2, 1}, {0, 2}), y = ff::Tensor::zeros(fftest::device(), {2, 3});
  ff::Tensor dy = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6}), dx = make_tensor({2, 1}, {7, 7});
  std::vector<ff::Tensor> scratch;
  TestContext context(true);
  layer.backward(x, y, dy, &dx, scratch, context.ctx);
  REQUIRE(to_vector(dx) == std::vector<float>{0, 0});
}

TEST_CASE("IndexLookup: int mode is a view, encoded modes drop the mask",
          "[layers][category_encoding]") {
  ff::IndexLookup ints("string_lookup", 1, "StringLookup", "int", -1);
  REQUIRE(ints.aliases_input(true));
  REQUIRE(ints.build({ff::kNone, 1}) == ff::Shape{ff::kNone, 1});
  ff::IndexLookup unset("string_lookup_1", 1, "StringLookup", "one_hot", -1);
  REQUIRE_THROWS_WITH(unset.build({ff::kNone, 1}), Catch::Contains("adapt()"));
  ff::IndexLookup multi("string_lookup_2", 1, "StringLookup", "multi_hot", -1);
  multi.set_depth(4);
  REQUIRE(multi.build({ff::kNone, 3}) == ff::Shape{ff::kNone, 4});
  REQUIRE(run(multi, {1, 3}, {-1, 2, 3}) == std::vector<float>{0, 0, 1, 1});
  REQUIRE_THROWS_WITH(multi.set_depth(5), Catch::Contains("Build a new model"));
}

TEST_CASE("CategoryEncoding: an output past the per-sample limit fails at build",
          "[layers][category_encoding][limits]") {
  // num_tokens = 2^31 - 1 one-hot encoding 2 values: 2 * (2^31 - 1) elements per sample.
  ff::CategoryEncoding wide("category_encoding", 1, 2147483647, "one_hot");
  CHECK_THROWS_WITH(wide.build({ff::kNone, 2}),
                    Catch::Contains("Layer \"category_encoding\" (CategoryEncoding) on input "
                                    "shape=(None, 2): the output shape=(None, 2, 2147483647) has "
                                    "4294967294 elements per sample"));
  // One value per sample stays within the limit (whether it fits memory is the model's check).
  ff::CategoryEncoding column("category_encoding_1", 1, 2147483647, "multi_hot");
  CHECK(column.build({ff::kNone, 3}) == ff::Shape{ff::kNone, 2147483647});
}
