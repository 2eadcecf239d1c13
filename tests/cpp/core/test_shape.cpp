// Tests for core/shape.cpp: Keras-style formatting, element counts, batch replacement and
// compatibility against a spec with None dimensions.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "core/shape.h"

TEST_CASE("shape_str formats like Keras / Python tuples", "[core][shape]") {
  CHECK(ff::shape_str({ff::kNone, 28, 28, 1}) == "(None, 28, 28, 1)");
  CHECK(ff::shape_str({32, 10}) == "(32, 10)");
  CHECK(ff::shape_str({ff::kNone}) == "(None,)");
  CHECK(ff::shape_str({5}) == "(5,)");
  CHECK(ff::shape_str({}) == "()");
}

TEST_CASE("shape_numel and shape_row_size", "[core][shape]") {
  CHECK(ff::shape_numel({2, 3, 4}) == 24);
  CHECK(ff::shape_numel({}) == 1);
  CHECK(ff::shape_numel({3, 0}) == 0);
  CHECK_THROWS_AS(ff::shape_numel({ff::kNone, 3}), ff::ValueError);
  CHECK(ff::shape_row_size({ff::kNone, 28, 28, 1}) == 784);
  CHECK(ff::shape_row_size({7}) == 1);
  CHECK_THROWS_WITH(ff::shape_row_size({4, ff::kNone}), Catch::Contains("(4, None)"));
}

TEST_CASE("with_batch replaces the first dimension", "[core][shape]") {
  CHECK(ff::with_batch({ff::kNone, 3}, 8) == ff::Shape{8, 3});
  CHECK(ff::with_batch({32, 3, 2}, ff::kNone) == ff::Shape{ff::kNone, 3, 2});
  CHECK(ff::with_batch({}, 4).empty());
}

TEST_CASE("shape_compatible: None matches anything, nothing else is relaxed", "[core][shape]") {
  CHECK(ff::shape_compatible({ff::kNone, 28, 28, 1}, {32, 28, 28, 1}));
  CHECK(ff::shape_compatible({ff::kNone, 4}, {ff::kNone, 4}));
  CHECK(ff::shape_compatible({3, 4}, {3, 4}));
  CHECK_FALSE(ff::shape_compatible({ff::kNone, 28, 28, 1}, {32, 28, 28}));  // rank differs
  CHECK_FALSE(ff::shape_compatible({ff::kNone, 4}, {32, 5}));
  CHECK_FALSE(ff::shape_compatible({3, 4}, {2, 4}));
  CHECK_FALSE(ff::shape_compatible({ff::kNone, 1}, {32}));  // no implicit column
  CHECK(ff::shape_compatible({}, {}));
}

TEST_CASE("size_mul and size_add refuse results past int64", "[core][shape][limits]") {
  const int64_t big = int64_t{1} << 62;
  CHECK(ff::size_mul(3, 4, "x") == 12);
  CHECK(ff::size_add(3, 4, "x") == 7);
  CHECK_THROWS_AS(ff::size_mul(big, 2, "the product"), ff::SizeOverflowError);
  CHECK_THROWS_WITH(ff::size_mul(big, 4, "the product"),
                    Catch::Contains("the product overflows") && Catch::Contains("4611686018427387904 * 4"));
  CHECK_THROWS_WITH(ff::size_add(INT64_MAX, 1, "the padded height"),
                    Catch::Contains("the padded height overflows"));
  int64_t out = -7;
  CHECK_FALSE(ff::checked_product({big, 4}, 0, &out));
  CHECK(out == -7);  // untouched
  CHECK(ff::checked_product({big, 4}, 1, &out));
  CHECK(out == 4);
}

TEST_CASE("shape_numel and shape_row_size raise instead of wrapping", "[core][shape][limits]") {
  // 2^30 * 2^30 * 2^4 = 2^64 wrapped to 0 before: a 1-byte buffer for a "huge" tensor.
  const ff::Shape wraps{int64_t{1} << 30, int64_t{1} << 30, 16};
  CHECK_THROWS_AS(ff::shape_numel(wraps), ff::SizeOverflowError);
  CHECK_THROWS_WITH(ff::shape_numel(wraps), Catch::Contains("(1073741824, 1073741824, 16)"));
  CHECK_THROWS_AS(ff::shape_row_size({ff::kNone, int64_t{1} << 32, int64_t{1} << 32}),
                  ff::SizeOverflowError);
  // The product 989540 * 1539092 * 48448661 = 4 * 2^64 + 16 wrapped to exactly 16.
  CHECK_THROWS_AS(ff::shape_row_size({ff::kNone, 989540, 1539092, 48448661}),
                  ff::SizeOverflowError);
  CHECK(ff::shape_numel({int64_t{1} << 31, int64_t{1} << 31}) == int64_t{1} << 62);
}

TEST_CASE("check_sample_elements and check_param_elements enforce the documented limits",
          "[core][shape][limits]") {
  CHECK(ff::kMaxSampleElements == 2147483647);
  CHECK(ff::kMaxParamElements == 2147483647);
  CHECK_NOTHROW(ff::check_sample_elements({ff::kNone, 2147483647}, "out"));
  CHECK_NOTHROW(ff::check_sample_elements({ff::kNone, ff::kNone, 46340, 46340}, "out"));
  CHECK_THROWS_WITH(ff::check_sample_elements({ff::kNone, 65536, 32768}, "Layer \"x\" output"),
                    Catch::Contains("Layer \"x\" output shape=(None, 65536, 32768) has "
                                    "2147483648 elements per sample; the limit is 2147483647 "
                                    "(2^31 - 1) elements per sample"));
  CHECK_THROWS_WITH(
      ff::check_sample_elements({ff::kNone, int64_t{1} << 32, int64_t{1} << 32}, "out"),
      Catch::Contains("more than 2^63 - 1 elements per sample"));
  // The batch dimension does not count, whatever it is.
  CHECK_NOTHROW(ff::check_sample_elements({int64_t{1} << 40, 4}, "out"));
  CHECK_NOTHROW(ff::check_param_elements({46340, 46340}, "w"));
  CHECK_THROWS_WITH(ff::check_param_elements({65536, 65536}, "weight \"kernel\""),
                    Catch::Contains("weight \"kernel\" shape=(65536, 65536) has 4294967296 "
                                    "elements; the limit is 2147483647"));
}

TEST_CASE("bytes_str", "[core][shape]") {
  CHECK(ff::bytes_str(0) == "0 bytes");
  CHECK(ff::bytes_str(1023) == "1023 bytes");
  CHECK(ff::bytes_str(1536) == "1.5 KiB");
  CHECK(ff::bytes_str(8.0 * 1024 * 1024 * 1024) == "8.0 GiB");
}
