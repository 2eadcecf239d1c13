// MatmulOp (layers/ops/matmul_op.h): 2-D, batched 3-D, a matrix applied to every sample, 1-D
// operands, constants in a model; gradients of both operands (a shared matrix's summed over the
// batch); the shape errors.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/ops/matmul_op.h"
#include "op_test_util.h"

using ff::kNone;
using ff::OpOperand;
using ff::Shape;
using fftest::ops::eager;
using fftest::ops::error_of;
using fftest::ops::HostTensor;
using fftest::ops::require_close;

namespace {

// a (B, M, K) @ b (B, K, N) in double (b_batched false: b is (K, N) for every entry).
std::vector<double> reference(const std::vector<float>& a, const std::vector<float>& b, int B,
                              int M, int K, int N, bool a_batched, bool b_batched) {
  std::vector<double> y;
  for (int i = 0; i < B; ++i)
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        double s = 0;
        for (int k = 0; k < K; ++k)
          s += double(a[(a_batched ? i * M * K : 0) + m * K + k]) *
               b[(b_batched ? i * K * N : 0) + k * N + n];
        y.push_back(s);
      }
  return y;
}

ff::MatmulOp inputs2() { return ff::MatmulOp("matmul", 1, {OpOperand::input(), OpOperand::input()}); }

}  // namespace

TEST_CASE("MatmulOp: forward for 2-D and batched and mixed shapes", "[ops][matmul]") {
  const auto a = fftest::uniform_values(2 * 3 * 4, 1, -1, 1);
  const auto b = fftest::uniform_values(2 * 4 * 5, 2, -1, 1);
  SECTION("(3, 4) @ (4, 5)") {
    auto op = inputs2();
    const HostTensor y = eager(op, {{{3, 4}, std::vector<float>(a.begin(), a.begin() + 12)},
                                    {{4, 5}, std::vector<float>(b.begin(), b.begin() + 20)}});
    CHECK(y.shape == Shape{3, 5});
    require_close(y.values, reference(a, b, 1, 3, 4, 5, false, false), 1e-5, 1e-6);
  }
  SECTION("(2, 3, 4) @ (2, 4, 5)") {
    auto op = inputs2();
    const HostTensor y = eager(op, {{{2, 3, 4}, a}, {{2, 4, 5}, b}});
    CHECK(y.shape == Shape{2, 3, 5});
    require_close(y.values, reference(a, b, 2, 3, 4, 5, true, true), 1e-5, 1e-6);
  }
  SECTION("(2, 3, 4) @ (4, 5) and (3, 4) @ (2, 4, 5)") {
    auto op = inputs2();
    const std::vector<float> b1(b.begin(), b.begin() + 20);
    require_close(eager(op, {{{2, 3, 4}, a}, {{4, 5}, b1}}).values,
                  reference(a, b1, 2, 3, 4, 5, true, false), 1e-5, 1e-6);
    auto op2 = inputs2();
    const std::vector<float> a1(a.begin(), a.begin() + 12);
    const HostTensor y = eager(op2, {{{3, 4}, a1}, {{2, 4, 5}, b}});
    CHECK(y.shape == Shape{2, 3, 5});
    require_close(y.values, reference(a1, b, 2, 3, 4, 5, false, true), 1e-5, 1e-6);
  }
  SECTION("1-D operands") {
    auto vm = inputs2();
    CHECK(eager(vm, {{{4}, std::vector<float>(a.begin(), a.begin() + 4)},
                     {{4, 5}, std::vector<float>(b.begin(), b.begin() + 20)}}).shape == Shape{5});
    auto mv = inputs2();
    CHECK(eager(mv, {{{3, 4}, std::vector<float>(a.begin(), a.begin() + 12)},
                     {{4}, std::vector<float>(b.begin(), b.begin() + 4)}}).shape == Shape{3});
    auto vv = inputs2();
    const HostTensor dot = eager(vv, {{{3}, {1, 2, 3}}, {{3}, {4, 5, 6}}});
    CHECK(dot.shape.empty());
    require_close(dot.values, {32});
  }
  SECTION("shape errors") {
    auto op = inputs2();
    CHECK_THAT(error_of([&] {
                 eager(op, {{{3, 4}, std::vector<float>(a.begin(), a.begin() + 12)},
                            {{5, 2}, std::vector<float>(b.begin(), b.begin() + 10)}});
               }),
               Catch::Contains("inner dimensions"));
    auto batch = inputs2();
    CHECK_THAT(error_of([&] { batch.build_multi({{kNone, 3, 4}, {kNone, 2, 4, 5}}); }),
               Catch::Contains("batch dimensions"));
    auto rows = inputs2();  // (None, 4) @ (None, 4, 5): a matrix whose rows are the batch
    CHECK_THAT(error_of([&] { rows.build_multi({{kNone, 4}, {kNone, 4, 5}}); }),
               Catch::Contains("batch axis"));
  }
}

TEST_CASE("MatmulOp: gradients match finite differences", "[ops][matmul][gradient]") {
  SECTION("batched inputs on both sides") {
    auto op = inputs2();
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{2, 3, 4}, {2, 4, 5}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
  }
  SECTION("an input times a constant matrix (a model's x @ W)") {
    ff::MatmulOp op("matmul", 1,
                    {OpOperand::input(), OpOperand::constant({4, 3}, fftest::uniform_values(12, 4, -1, 1))});
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{5, 4}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
    spec.input_shapes = {{2, 5, 4}};
    ff::MatmulOp op3("matmul", 1,
                     {OpOperand::input(), OpOperand::constant({4, 3}, fftest::uniform_values(12, 4, -1, 1))});
    fftest::require_gradients_match(fftest::check_multi_input_gradients(op3, spec));
  }
  SECTION("a constant matrix times a batched input") {
    ff::MatmulOp op("matmul", 1,
                    {OpOperand::constant({2, 3}, fftest::uniform_values(6, 5, -1, 1)), OpOperand::input()});
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{4, 3, 2}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
  }
  SECTION("batched input times a vector") {
    auto op = inputs2();
    fftest::MultiCheckSpec spec;
    spec.input_shapes = {{3, 2, 4}, {3, 4, 1}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
  }
}

TEST_CASE("MatmulOp: batch axes broadcast as NumPy's", "[ops][matmul]") {
  SECTION("forward: (2, 1, 3, 4) @ (3, 4, 5) gives (2, 3, 3, 5)") {
    auto op = inputs2();
    const auto a = fftest::uniform_values(24, 7, -1, 1);
    const auto b = fftest::uniform_values(60, 8, -1, 1);
    const HostTensor y = eager(op, {{{2, 1, 3, 4}, a}, {{3, 4, 5}, b}});
    CHECK(y.shape == Shape{2, 3, 3, 5});
    std::vector<double> want;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        for (int m = 0; m < 3; ++m)
          for (int n = 0; n < 5; ++n) {
            double s = 0;
            for (int k = 0; k < 4; ++k) s += double(a[i * 12 + m * 4 + k]) * b[j * 20 + k * 5 + n];
            want.push_back(s);
          }
    require_close(y.values, want);
  }
  SECTION("in a model: (None, 2, 3, 4) @ (2, 4, 5) constant; None meets only None or 1") {
    ff::MatmulOp op("matmul", 1,
                    {OpOperand::input(), OpOperand::constant({2, 4, 5}, fftest::uniform_values(40, 9, -1, 1))});
    CHECK(op.build({kNone, 2, 3, 4}) == Shape{kNone, 2, 3, 5});
    ff::MatmulOp bad("matmul", 1,
                     {OpOperand::input(), OpOperand::constant({3, 4, 5}, fftest::uniform_values(60, 9, -1, 1))});
    CHECK_THAT(error_of([&] { bad.build({kNone, 3, 4}); }), Catch::Contains("do not broadcast"));
  }
  SECTION("gradients: broadcast operands sum their entries' gradients") {
    auto op = inputs2();
    fftest::MultiCheckSpec spec;
    spec.eager = true;
    spec.input_shapes = {{2, 1, 3, 4}, {3, 4, 5}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(op, spec));
    ff::MatmulOp c("matmul", 1,
                   {OpOperand::input(), OpOperand::constant({2, 4, 5}, fftest::uniform_values(40, 9, -1, 1))});
    fftest::MultiCheckSpec s2;
    s2.input_shapes = {{3, 2, 3, 4}};
    fftest::require_gradients_match(fftest::check_multi_input_gradients(c, s2));
  }
}
