// The shape op layers (layers/ops/shape_op.h): reshape, expand_dims, squeeze, transpose,
// concatenate, stack, split pieces and one_hot, eagerly and in a model's graph (the batch axis
// kept first, every op that would move it refused); gradients by finite differences.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/ops/shape_op.h"
#include "op_test_util.h"

using ff::kNone;
using ff::OpOperand;
using ff::Shape;
using fftest::ops::eager;
using fftest::ops::error_of;
using fftest::ops::HostTensor;
using fftest::ops::require_close;

namespace {
std::vector<float> iota(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}
}  // namespace

TEST_CASE("ReshapeOp: reshape and expand_dims and squeeze", "[ops][shape]") {
  SECTION("eagerly: NumPy's rules") {
    ff::ReshapeOp r("reshape", "reshape", 1, {3, -1}, {}, false);
    const HostTensor y = eager(r, {{{2, 6}, iota(12)}});
    CHECK(y.shape == Shape{3, 4});
    require_close(y.values, std::vector<double>(y.values.begin(), y.values.end()));
    ff::ReshapeOp bad("reshape", "reshape", 1, {5, -1}, {}, false);
    CHECK_THAT(error_of([&] { eager(bad, {{{2, 6}, iota(12)}}); }),
               Catch::Contains("cannot reshape"));
    ff::ReshapeOp two("reshape", "reshape", 1, {-1, -1}, {}, false);
    CHECK_THAT(error_of([&] { eager(two, {{{2, 6}, iota(12)}}); }),
               Catch::Contains("more than one -1"));
  }
  SECTION("in a model: the first entry is the batch") {
    ff::ReshapeOp r("reshape", "reshape", 1, {-1, 2, 3}, {}, false);
    CHECK(r.build({kNone, 6}) == Shape{kNone, 2, 3});
    CHECK(r.aliases_input(true));
    ff::ReshapeOp flat("reshape", "reshape", 1, {-1, -1}, {}, false);
    CHECK(flat.build({kNone, 2, 3}) == Shape{kNone, 6});
    ff::ReshapeOp fixed("reshape", "reshape", 1, {4, 6}, {}, false);
    CHECK_THAT(error_of([&] { fixed.build({kNone, 6}); }), Catch::Contains("must start with -1"));
  }
  SECTION("expand_dims and squeeze") {
    ff::ReshapeOp e("expand_dims", "expand_dims", 1, {}, {-1}, false);
    CHECK(e.build({kNone, 3}) == Shape{kNone, 3, 1});
    ff::ReshapeOp e0("expand_dims", "expand_dims", 1, {}, {0}, false);
    CHECK_THAT(error_of([&] { e0.build({kNone, 3}); }), Catch::Contains("batch"));
    ff::ReshapeOp s("squeeze", "squeeze", 1, {}, {}, true);
    CHECK(s.build({kNone, 1, 3, 1}) == Shape{kNone, 3});
    ff::ReshapeOp s2("squeeze", "squeeze", 1, {}, {2}, false);
    CHECK_THAT(error_of([&] { s2.build({kNone, 1, 3}); }), Catch::Contains("its size is 3"));
    ff::ReshapeOp se("squeeze", "squeeze", 1, {}, {}, true);
    CHECK(eager(se, {{{1, 3, 1}, iota(3)}}).shape == Shape{3});
  }
}

TEST_CASE("TransposeOp: forward and gradient and the batch axis", "[ops][shape]") {
  ff::TransposeOp t("transpose", 1, {2, 0, 1}, false);
  const HostTensor y = eager(t, {{{2, 3, 4}, iota(24)}});
  CHECK(y.shape == Shape{4, 2, 3});
  std::vector<double> want;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) want.push_back(i * 12 + j * 4 + k);
  require_close(y.values, want);
  ff::TransposeOp rev("transpose", 1, {}, true);
  CHECK(eager(rev, {{{2, 3, 4}, iota(24)}}).shape == Shape{4, 3, 2});
  SECTION("gradient of (0, 2, 1)") {
    ff::TransposeOp g("transpose", 1, {0, 2, 1}, false);
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{2, 3, 4}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(g, spec));
  }
  SECTION("in a model the batch axis stays first") {
    ff::TransposeOp moved("transpose", 1, {1, 0, 2}, false);
    CHECK_THAT(error_of([&] { moved.build({kNone, 3, 4}); }), Catch::Contains("(0, 2, 1)"));
    ff::TransposeOp reversed("transpose", 1, {}, true);
    CHECK_THAT(error_of([&] { reversed.build({kNone, 3}); }), Catch::Contains("reverses"));
    ff::TransposeOp wrong("transpose", 1, {0, 0, 1}, false);
    CHECK_THAT(error_of([&] { wrong.build({kNone, 3, 4}); }), Catch::Contains("repeat"));
  }
}

TEST_CASE("ConcatOp: concatenate and stack", "[ops][shape]") {
  const OpOperand in = OpOperand::input();
  ff::ConcatOp cat("concatenate", "concatenate", 1, {in, in}, -1);
  const HostTensor y = eager(cat, {{{2, 2}, {1, 2, 3, 4}}, {{2, 1}, {5, 6}}});
  CHECK(y.shape == Shape{2, 3});
  require_close(y.values, {1, 2, 5, 3, 4, 6});
  ff::ConcatOp st("stack", "stack", 1, {in, in}, 1);
  const HostTensor s = eager(st, {{{2, 2}, {1, 2, 3, 4}}, {{2, 2}, {5, 6, 7, 8}}});
  CHECK(s.shape == Shape{2, 2, 2});
  require_close(s.values, {1, 2, 5, 6, 3, 4, 7, 8});
  ff::ConcatOp st0("stack", "stack", 1, {in, in}, 0);
  CHECK(eager(st0, {{{2}, {1, 2}}, {{2}, {3, 4}}}).shape == Shape{2, 2});
  SECTION("gradients of three inputs, and a constant") {
    ff::ConcatOp c3("concatenate", "concatenate", 1, {in, in, in}, 1);
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{2, 2, 3}, {2, 1, 3}, {2, 3, 3}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(c3, spec));
    ff::ConcatOp s3("stack", "stack", 1, {in, in}, -1);
    spec.input_shapes = {{2, 3}, {2, 3}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(s3, spec));
  }
  SECTION("errors") {
    ff::ConcatOp c0("concatenate", "concatenate", 1, {in, in}, 0);
    CHECK_THAT(error_of([&] { c0.build_multi({{kNone, 2}, {kNone, 2}}); }),
               Catch::Contains("batch axis"));
    ff::ConcatOp mismatch("concatenate", "concatenate", 1, {in, in}, 1);
    CHECK_THAT(error_of([&] { mismatch.build_multi({{kNone, 2, 3}, {kNone, 2, 4}}); }),
               Catch::Contains("match except along axis 1"));
    ff::ConcatOp s0("stack", "stack", 1, {in, in}, 0);
    CHECK_THAT(error_of([&] { s0.build_multi({{kNone, 2}, {kNone, 2}}); }),
               Catch::Contains("axis=1"));
  }
}

TEST_CASE("SliceOp: a piece of split", "[ops][shape]") {
  ff::SliceOp s("split", 1, 1, 1, 3);
  const HostTensor y = eager(s, {{{2, 4}, iota(8)}});
  CHECK(y.shape == Shape{2, 2});
  require_close(y.values, {1, 2, 5, 6});
  fftest::MultiCheckSpec spec;
  spec.input_shapes = {{3, 4, 2}};
  ff::SliceOp g("split", 1, -2, 1, 3);
  fftest::require_gradients_match(fftest::check_multi_input_gradients(g, spec));
  ff::SliceOp batch("split", 1, 0, 0, 1);
  CHECK_THAT(error_of([&] { batch.build({kNone, 4}); }), Catch::Contains("axis=1"));
  ff::SliceOp outside("split", 1, 1, 2, 5);
  CHECK_THAT(error_of([&] { outside.build({kNone, 4}); }), Catch::Contains("outside axis 1"));
}

TEST_CASE("OneHotOp: rows of class indicators - a bad index is an error", "[ops][shape]") {
  ff::OneHotOp op("one_hot", 1, 3);
  const HostTensor y = eager(op, {{{2, 2}, {0, 2, 1, 1}}});
  CHECK(y.shape == Shape{2, 2, 3});
  require_close(y.values, {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0});
  ff::OneHotOp bad("one_hot", 1, 3);
  const std::string msg = error_of([&] { eager(bad, {{{3}, {0, 3, 1}}}); });
  CHECK_THAT(msg, Catch::Contains("ff.ops.one_hot"));
  CHECK_THAT(msg, Catch::Contains("[0, 3)"));
  ff::OneHotOp half("one_hot", 1, 3);
  CHECK_THAT(error_of([&] { eager(half, {{{1}, {0.5f}}}); }), Catch::Contains("whole number"));
}
