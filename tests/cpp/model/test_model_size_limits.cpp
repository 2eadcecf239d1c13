// Tests of the size limits at the model level (model/model.cpp, core/shape.h): model inputs past
// the per-sample limit, a merge whose output passes it, and the memory checks made before any
// allocation: the per-batch buffer plan (with overflow of batch * per-sample size), the weights,
// and predict's output arrays. Errors name the batch, the sizes, the largest buffer and the
// backend's memory.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "core/errors.h"
#include "layers/category_encoding.h"
#include "layers/dense.h"
#include "layers/merge.h"
#include "layers/zero_padding2d.h"
#include "model/model.h"
#include "test_util.h"

namespace {


// A model input column of `rows` samples whose data is never read: the checks run first.
ff::HostArray unread_rows(int64_t rows, ff::Shape row_shape) {
  static const float dummy = 0.0f;
  ff::Shape shape{rows};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  return ff::HostArray{&dummy, shape, ff::DType::Float32};
}

// Input (None, 1) -> CategoryEncoding(num_tokens=2^31 - 1, multi_hot): 8 GiB per sample.
std::unique_ptr<ff::Model> wide_model() {
  auto m = std::make_unique<ff::Model>(fftest::backend());
  const int x = m->add_input({ff::kNone, 1});
  const int y = m->add_node(
      std::make_shared<ff::CategoryEncoding>("category_encoding", 1, 2147483647, "multi_hot"), {x});
  m->set_outputs({y});
  m->finalize();
  return m;
}

}  // namespace

TEST_CASE("Model: an input past the per-sample limit is refused", "[model][limits]") {
  ff::Model m(fftest::backend());
  CHECK_THROWS_WITH(m.add_input({ff::kNone, 65536, 65536}),
                    Catch::Contains("Model input 0 shape=(None, 65536, 65536) has 4294967296 "
                                    "elements per sample; the limit is 2147483647"));
  CHECK_THROWS_WITH(m.add_input({ff::kNone, int64_t{1} << 32, int64_t{1} << 32}),
                    Catch::Contains("more than 2^63 - 1 elements per sample"));
  CHECK(m.add_input({ff::kNone, 46340, 46340}) == 0);
}

TEST_CASE("Model: a merge whose output passes the limit fails when called", "[model][limits]") {
  ff::Model m(fftest::backend());
  const int a = m.add_input({ff::kNone, int64_t{1} << 30});
  const int b = m.add_input({ff::kNone, int64_t{1} << 30});
  auto concat = std::make_shared<ff::Concatenate>("concatenate", 1, -1);
  CHECK_THROWS_WITH(m.add_node(concat, {a, b}),
                    Catch::Contains("Layer \"concatenate\" (Concatenate) on input "
                                    "shapes=(None, 1073741824), (None, 1073741824): the output "
                                    "shape=(None, 2147483648)") &&
                        Catch::Contains("the limit is 2147483647"));
  CHECK_FALSE(concat->built());
}

TEST_CASE("Model: a batch plan larger than memory fails before allocating", "[model][limits]") {
  auto m = wide_model();
  float out = 0.0f;
  // 4096 samples of 8 GiB: 32 TiB. It used to be requested from the allocator.
  const auto call = [&](int64_t rows) {
    m->call({unread_rows(rows, {1})}, false, {&out});
  };
  CHECK_THROWS_WITH(call(4096),
                    Catch::StartsWith("A batch of 4096 samples needs 32.0 TiB of buffers for the "
                                      "model's values (8.0 GiB per sample; the largest is the "
                                      "output of layer \"category_encoding\" (CategoryEncoding), "
                                      "shape=(None, 2147483647), 8.0 GiB per sample), more than "
                                      "the ") &&
                        Catch::Contains("of memory of the " + fftest::backend().name() +
                                        " backend"));
  // batch * per-sample bytes past 2^63: the shape of the plan itself wrapped before.
  CHECK_THROWS_WITH(call(int64_t{1} << 40),
                    Catch::Contains("A batch of 1099511627776 samples needs more than 2^63 - 1 "
                                    "bytes"));
  // The same checks guard predict.
  ff::LoopOptions opts;
  opts.batch_size = int64_t{1} << 40;
  CHECK_THROWS_WITH(m->predict({unread_rows(int64_t{1} << 40, {1})}, {&out}, opts),
                    Catch::Contains("needs more than 2^63 - 1 bytes"));
}

TEST_CASE("Model: the largest batch that fits is suggested", "[model][limits]") {
  // Input (None, 1, 1, 1) padded by 20000 on every side: 40001^2 floats = 6.0 GiB per sample,
  // within the element limit; the buffers of a large batch are not.
  auto m = std::make_unique<ff::Model>(fftest::backend());
  const int x = m->add_input({ff::kNone, 1, 1, 1});
  const int y = m->add_node(
      std::make_shared<ff::ZeroPadding2D>("zero_padding2d", 1,
                                          std::vector<int64_t>{20000, 20000, 20000, 20000}),
      {x});
  m->set_outputs({y});
  m->finalize();
  const int64_t memory = fftest::device().memory_capacity();
  const int64_t per_sample = 4 + int64_t{40001} * 40001 * 4;
  const int64_t rows = memory / per_sample + 1;
  float out = 0.0f;
  CHECK_THROWS_WITH(m->call({unread_rows(rows, {1, 1, 1})}, false, {&out}),
                    Catch::Contains("Use a batch_size of at most " +
                                    std::to_string(memory / per_sample) + "."));
}

TEST_CASE("Model: weights larger than memory fail before allocating", "[model][limits]") {
  // 256 pairs Dense(2^31 - 1) -> Dense(1): each pair 3 * 2^31 float32 parameters with their
  // gradients, 6 TiB in all; each weight within the per-weight limit.
  ff::Model m(fftest::backend());
  int v = m.add_input({ff::kNone, 1});
  for (int i = 0; i < 256; ++i) {
    v = m.add_node(std::make_shared<ff::Dense>("wide_" + std::to_string(i), 1, 2147483647,
                                               "linear", true, "zeros", "zeros"),
                   {v});
    v = m.add_node(std::make_shared<ff::Dense>("narrow_" + std::to_string(i), 1, 1, "linear",
                                               true, "zeros", "zeros"),
                   {v});
  }
  m.set_outputs({v});
  CHECK_THROWS_WITH(m.finalize(),
                    Catch::StartsWith("The model's weights need ") &&
                        Catch::Contains("of memory of the " + fftest::backend().name() +
                                        " backend; the largest weight is "
                                        "\"kernel\" of layer \"wide_0\" (Dense), "
                                        "shape=(1, 2147483647)"));
  CHECK_FALSE(m.built());
}

TEST_CASE("Model: predict's output arrays are checked before they are allocated",
          "[model][limits]") {
  auto m = wide_model();
  CHECK_NOTHROW(m->check_output_size(0));
  CHECK_THROWS_WITH(m->check_output_size(4096),
                    Catch::StartsWith("The outputs for 4096 samples need 32.0 TiB (8.0 GiB per "
                                      "sample for output shape (None, 2147483647)), more than "));
  CHECK_THROWS_WITH(m->check_output_size(int64_t{1} << 40),
                    Catch::Contains("need more than 2^63 - 1 bytes"));
}
