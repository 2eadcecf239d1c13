// Tests for core/tensor.cpp: zero-filled allocation, views sharing storage with bounds checks,
// reshape requiring equal element counts, first_rows, and dtype-checked data access.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "core/tensor.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Tensor: zeros, views and reshape share storage", "[core][tensor]") {
  ff::Tensor t = ff::Tensor::zeros(fftest::device(), {4, 3});
  CHECK(t.defined());
  CHECK(t.numel() == 12);
  CHECK(t.rows() == 4);
  CHECK(t.row_size() == 3);
  CHECK(t.nbytes() == 48);
  for (float v : to_vector(t)) REQUIRE(v == 0.0f);
  ff::Tensor v = t.view(3, {2, 2});
  const float five = 5.0f;  // written through the device: the host may not address its memory
  fftest::device().copy_from_host(v.raw(), &five, sizeof five);
  CHECK(to_vector(t)[3] == 5.0f);
  ff::Tensor r = t.reshape({2, 6});
  CHECK(r.shape() == ff::Shape{2, 6});
  CHECK(r.data<float>() == t.data<float>());
  ff::Tensor f = t.first_rows(2);
  CHECK(f.shape() == ff::Shape{2, 3});
  CHECK(f.data<float>() == t.data<float>());
  ff::Tensor labels = ff::Tensor::zeros(fftest::device(), {3}, ff::DType::Int64);
  CHECK(labels.nbytes() == 24);
  int64_t third = -1;
  fftest::device().copy_to_host(&third, labels.data<int64_t>() + 2, sizeof third);
  CHECK(third == 0);
}

TEST_CASE("Tensor: out-of-bounds views, bad reshapes and wrong dtypes raise", "[core][tensor]") {
  ff::Tensor t = ff::Tensor::zeros(fftest::device(), {4, 3});
  CHECK_THROWS_AS(t.view(10, {3}), ff::ValueError);
  CHECK_THROWS_AS(t.view(-1, {2}), ff::ValueError);
  CHECK_THROWS_AS(t.first_rows(5), ff::ValueError);
  CHECK_THROWS_WITH(t.reshape({5, 3}), Catch::Contains("(4, 3)") && Catch::Contains("(5, 3)"));
  CHECK_THROWS_AS(t.data<int64_t>(), ff::TypeError);
  CHECK_THROWS_AS(ff::Tensor::zeros(fftest::device(), {ff::kNone, 3}), ff::ValueError);
  ff::Tensor empty;
  CHECK_FALSE(empty.defined());
  CHECK_THROWS_AS(empty.device(), ff::ValueError);
}

TEST_CASE("Tensor: sizes that overflow raise before allocating", "[core][tensor][limits]") {
  // 2^62 * 4 elements wrapped to 0 before: a 1-byte buffer standing for 2^64 elements.
  CHECK_THROWS_AS(ff::Tensor::empty(fftest::device(), {int64_t{1} << 62, 4}), ff::SizeOverflowError);
  // 2^61 float32 elements count fine but need 2^63 bytes.
  CHECK_THROWS_WITH(ff::Tensor::empty(fftest::device(), {int64_t{1} << 61}),
                    Catch::Contains("(2305843009213693952,)") &&
                        Catch::Contains("more than 2^63 - 1 bytes"));
  // A view whose end (offset + size) wraps past int64 was accepted before.
  ff::Tensor t = ff::Tensor::zeros(fftest::device(), {4});
  CHECK_THROWS_AS(t.view(INT64_MAX, {2}), ff::ValueError);
  CHECK_THROWS_AS(t.view(INT64_MAX - 1, {int64_t{1} << 62, 4}), ff::ValueError);
  CHECK_NOTHROW(t.view(4, {0}));
}
