// The shape rules of the op layers (layers/ops/broadcast.h): NumPy broadcasting, the refusal when
// both operands would grow (the message names both shapes and the fix), None as the batch size,
// and the merged kernel geometries.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "layers/ops/broadcast.h"
#include "op_test_util.h"

using ff::kNone;
using ff::Shape;
using fftest::ops::error_of;

TEST_CASE("broadcast: one-sided broadcasting follows NumPy", "[ops][broadcast]") {
  CHECK(ff::ops::broadcast_shapes("op", {{3, 4}, {4}}) == Shape{3, 4});
  CHECK(ff::ops::broadcast_shapes("op", {{3, 4}, {}}) == Shape{3, 4});
  CHECK(ff::ops::broadcast_shapes("op", {{}, {}}) == Shape{});
  CHECK(ff::ops::broadcast_shapes("op", {{3, 4}, {1, 4}}) == Shape{3, 4});
  CHECK(ff::ops::broadcast_shapes("op", {{4}, {1, 4}}) == Shape{1, 4});
  CHECK(ff::ops::broadcast_shapes("op", {{2, 3, 4}, {3, 1}}) == Shape{2, 3, 4});
  CHECK(ff::ops::broadcast_shapes("op", {{kNone, 3}, {3}}) == Shape{kNone, 3});
  CHECK(ff::ops::broadcast_shapes("op", {{kNone, 3}, {kNone, 3}}) == Shape{kNone, 3});
  CHECK(ff::ops::broadcast_shapes("op", {{kNone, 3}, {1, 3}}) == Shape{kNone, 3});
  CHECK(ff::ops::broadcast_shapes("op", {{kNone, 1}, {kNone, 1}}) == Shape{kNone, 1});
  // where: the result has the shape of x, though the condition and y grow
  CHECK(ff::ops::broadcast_shapes("op", {{kNone, 1}, {kNone, 3}, {3}}) == Shape{kNone, 3});
}

TEST_CASE("broadcast: both operands growing is refused with both shapes and the fix",
          "[ops][broadcast]") {
  const std::string batch = error_of([] {
    ff::ops::broadcast_shapes("ff.ops.subtract", {{kNone, 1}, {kNone}});
  });
  CHECK_THAT(batch, Catch::Contains("ff.ops.subtract"));
  CHECK_THAT(batch, Catch::Contains("(None, 1) and (None,)"));
  CHECK_THAT(batch, Catch::Contains("(None, None)"));
  CHECK_THAT(batch, Catch::Contains("x[:, 0]"));
  CHECK_THAT(batch, Catch::Contains("y[:, None]"));
  const std::string eager = error_of([] { ff::ops::broadcast_shapes("op", {{5}, {5, 1}}); });
  CHECK_THAT(eager, Catch::Contains("(5,) and (5, 1)"));
  CHECK_THAT(eager, Catch::Contains("(5, 5)"));
  CHECK_THAT(eager, Catch::Contains("y[:, 0]"));
  CHECK_THAT(eager, Catch::Contains("x[:, None]"));
  // an outer product by broadcasting: both grow, and the hint is matmul
  const std::string outer = error_of([] { ff::ops::broadcast_shapes("op", {{4, 1}, {1, 3}}); });
  CHECK_THAT(outer, Catch::Contains("ff.ops.matmul"));
  CHECK_THAT(error_of([] { ff::ops::broadcast_shapes("op", {{kNone, 1}, {1, 3}, {}}); }),
             Catch::Contains("more than one"));
}

TEST_CASE("broadcast: incompatible sizes and None against a fixed size are errors",
          "[ops][broadcast]") {
  CHECK_THAT(error_of([] { ff::ops::broadcast_shapes("op", {{3, 4}, {5}}); }),
             Catch::Contains("cannot be broadcast"));
  const std::string none = error_of([] { ff::ops::broadcast_shapes("op", {{kNone, 3}, {4, 3}}); });
  CHECK_THAT(none, Catch::Contains("None is the batch size"));
  CHECK_THAT(error_of([] { ff::ops::broadcast_shapes("op", {{kNone, 3}, {kNone}}); }),
             Catch::Contains("cannot be broadcast"));
}

TEST_CASE("broadcast: geometries merge axes every operand walks alike", "[ops][broadcast]") {
  const ff::BroadcastGeometry g = ff::ops::broadcast_geometry({2, 3, 4}, {{2, 3, 4}, {4}});
  REQUIRE(g.rank == 2);
  CHECK(g.dims[0] == 6);
  CHECK(g.dims[1] == 4);
  CHECK(g.strides[0][0] == 4);
  CHECK(g.strides[0][1] == 1);
  CHECK(g.strides[1][0] == 0);
  CHECK(g.strides[1][1] == 1);
  const ff::BroadcastGeometry same = ff::ops::broadcast_geometry({2, 3, 4}, {{2, 3, 4}, {}});
  REQUIRE(same.rank == 1);
  CHECK(same.dims[0] == 24);
  CHECK(same.strides[1][0] == 0);
  const ff::ReduceGeometry r = ff::ops::reduce_geometry({2, 3, 4}, {1});
  REQUIRE(r.kept_rank == 2);
  REQUIRE(r.red_rank == 1);
  CHECK(r.out_numel() == 8);
  CHECK(r.red_numel() == 3);
  CHECK(r.red_strides[0] == 4);
  const ff::ReduceGeometry back = ff::ops::reduce_to_operand({5, 3}, {3});
  CHECK(back.out_numel() == 3);
  CHECK(back.red_numel() == 5);
  const ff::ReduceGeometry col = ff::ops::reduce_to_operand({5, 3}, {5, 1});
  CHECK(col.out_numel() == 5);
  CHECK(col.red_numel() == 3);
  CHECK(ff::ops::normalize_axis(-1, 3, "op") == 2);
  CHECK_THAT(error_of([] { ff::ops::normalize_axis(3, 3, "ff.ops.sum"); }),
             Catch::Contains("axis 3 is out of range"));
}
