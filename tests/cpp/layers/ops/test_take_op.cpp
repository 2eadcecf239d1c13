// TakeOp (layers/ops/take_op.h): ff.ops.take eagerly against NumPy's results (an axis, axis
// None, negative and repeated indices, scalar indices), the out-of-range errors naming the index
// and the axis size (constant indices at build, computed ones from the step state), the batch
// rule in a model, and gradients (the scatter-add) by finite differences.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/ops/take_op.h"
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
const OpOperand in = OpOperand::input();
}  // namespace

TEST_CASE("TakeOp: NumPy's take along an axis and flattened", "[ops][take]") {
  SECTION("axis 1, negative and repeated indices") {
    ff::TakeOp t("take", 1, {in, in}, 1, false);
    // np.take(np.arange(12).reshape(2, 3, 2), [[2, -3], [0, 2]], axis=1)
    const HostTensor y = eager(t, {{{2, 3, 2}, iota(12)}, {{2, 2}, {2, -3, 0, 2}}});
    CHECK(y.shape == Shape{2, 2, 2, 2});
    require_close(y.values, {4, 5, 0, 1, 0, 1, 4, 5, 10, 11, 6, 7, 6, 7, 10, 11});
  }
  SECTION("axis None takes from x flattened; a scalar index drops the axis") {
    ff::TakeOp flat("take", 1, {in, in}, 0, true);
    const HostTensor y = eager(flat, {{{2, 3}, iota(6)}, {{3}, {5, -1, 0}}});
    CHECK(y.shape == Shape{3});
    require_close(y.values, {5, 5, 0});
    ff::TakeOp scalar("take", 1, {in, in}, -1, false);
    const HostTensor s = eager(scalar, {{{2, 3}, iota(6)}, {{}, {1}}});
    CHECK(s.shape == Shape{2});
    require_close(s.values, {1, 4});
  }
  SECTION("constant indices") {
    ff::TakeOp c("take", 1, {in, OpOperand::constant({2}, {1, 1})}, 0, false);
    const HostTensor y = eager(c, {{{3, 2}, iota(6)}});
    CHECK(y.shape == Shape{2, 2});
    require_close(y.values, {2, 3, 2, 3});
  }
}

TEST_CASE("TakeOp: an index out of range names it and the axis size", "[ops][take]") {
  ff::TakeOp t("take", 1, {in, in}, 1, false);
  std::string msg = error_of([&] { eager(t, {{{2, 3}, iota(6)}, {{3}, {0, 3, 1}}}); });
  CHECK_THAT(msg, Catch::Contains("index 3 at position 1"));
  CHECK_THAT(msg, Catch::Contains("axis 1 with size 3"));
  ff::TakeOp neg("take", 1, {in, in}, 1, false);
  msg = error_of([&] { eager(neg, {{{2, 3}, iota(6)}, {{2}, {-4, 0}}}); });
  CHECK_THAT(msg, Catch::Contains("index -4 at position 0"));
  ff::TakeOp half("take", 1, {in, in}, 0, true);
  CHECK_THAT(error_of([&] { eager(half, {{{2}, {1, 2}}, {{1}, {0.5f}}}); }),
             Catch::Contains("not a whole number"));
  SECTION("constant indices: at build") {
    ff::TakeOp c("take", 1, {in, OpOperand::constant({2}, {0, 4})}, 1, false);
    msg = error_of([&] { c.build({kNone, 4}); });
    CHECK_THAT(msg, Catch::Contains("index 4 at position 1"));
    CHECK_THAT(msg, Catch::Contains("axis 1 with size 4"));
  }
}

TEST_CASE("TakeOp: in a model the batch axis stays first", "[ops][take]") {
  ff::TakeOp c("take", 1, {in, OpOperand::constant({2}, {2, 0})}, -1, false);
  CHECK(c.build({kNone, 3, 4}) == Shape{kNone, 3, 2});
  ff::TakeOp b0("take", 1, {in, OpOperand::constant({1}, {0})}, 0, false);
  CHECK_THAT(error_of([&] { b0.build({kNone, 4}); }), Catch::Contains("axis=1 or later"));
  ff::TakeOp flat("take", 1, {in, OpOperand::constant({1}, {0})}, 0, true);
  CHECK_THAT(error_of([&] { flat.build({kNone, 4}); }), Catch::Contains("flatten"));
  SECTION("batched indices take rows of a table without a batch axis (the embedding lookup)") {
    ff::TakeOp lookup("take", 1, {OpOperand::constant({5, 3}, iota(15)), in}, 0, false);
    CHECK(lookup.build({kNone, 7}) == Shape{kNone, 7, 3});
    ff::TakeOp inner("take", 1, {OpOperand::constant({5, 3}, iota(15)), in}, 1, false);
    CHECK_THAT(error_of([&] { inner.build({kNone, 7}); }), Catch::Contains("embedding"));
    ff::TakeOp both("take", 1, {in, in}, 1, false);
    CHECK_THAT(error_of([&] { both.build_multi({{kNone, 4}, {kNone, 2}}); }),
               Catch::Contains("twice"));
  }
}

TEST_CASE("TakeOp: the gradient is the scatter-add of dy", "[ops][take]") {
  SECTION("repeated and negative indices add up") {
    ff::TakeOp t("take", 1, {in, OpOperand::constant({4}, {1, -1, 1, 0})}, 1, false);
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{2, 3, 2}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(t, spec));
  }
  SECTION("axis None, and indices as an input (their gradient is zero)") {
    ff::TakeOp t("take", 1, {in, in}, 0, true);
    fftest::MultiCheckSpec spec;
    spec.eager = true;
    spec.input_shapes = {{2, 3}, {2, 2}};
    spec.inputs = {{}, {5, 0, -6, 5}};
    spec.skip = {false, true};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(t, spec));
  }
}
