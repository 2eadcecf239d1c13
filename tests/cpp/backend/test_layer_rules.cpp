// The shared FF_HD rules of backend/layer_rules.h on the CPU (the CUDA kernels run the same
// functions): ReLU's options at their edges and NaN/Inf; PReLU's broadcast index and member
// enumeration (every element belongs to exactly one alpha value, members in increasing order);
// UpSampling2D's bilinear taps against TensorFlow's known weights, their weights summing to 1,
// and the reader range covering every output that reads an input.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "backend/layer_rules.h"

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

ff::PReluGeometry geometry(int64_t rows, const std::vector<int64_t>& dims,
                           const std::vector<bool>& shared) {
  ff::PReluGeometry g;
  g.rows = rows;
  g.sample = 1;
  g.alpha_size = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    g.dims[i] = dims[i];
    g.shared[i] = shared[i];
    g.sample *= dims[i];
    if (!shared[i]) g.alpha_size *= dims[i];
  }
  g.rank = static_cast<int32_t>(dims.size());
  return g;
}

}  // namespace

TEST_CASE("layer rules: ReLU options at their edges", "[backend][rules]") {
  using ff::relu_rule;
  CHECK(relu_rule(2.0f, kInf, 0.0f, 0.0f) == 2.0f);
  CHECK(relu_rule(-2.0f, kInf, 0.0f, 0.0f) == 0.0f);
  CHECK(relu_rule(-kInf, kInf, 0.0f, 0.0f) == 0.0f);  // not 0 * -Inf
  CHECK(relu_rule(-kInf, kInf, 0.5f, 0.0f) == -kInf);
  CHECK(std::isnan(relu_rule(kNaN, 6.0f, 0.0f, 1.0f)));
  CHECK(relu_rule(kInf, 6.0f, 0.0f, 0.0f) == 6.0f);
  CHECK(relu_rule(7.0f, 6.0f, 0.1f, 0.5f) == 6.0f);
  CHECK(relu_rule(0.5f, 6.0f, 0.1f, 0.5f) == 0.0f);  // at the threshold
  CHECK(relu_rule(0.25f, 6.0f, 0.1f, 0.5f) == Approx(-0.025f));
  CHECK(ff::relu_grad_rule(6.0f, 6.0f, 0.1f, 0.5f, 2.0f) == 0.0f);  // clipped
  CHECK(ff::relu_grad_rule(5.9f, 6.0f, 0.1f, 0.5f, 2.0f) == 2.0f);
  CHECK(ff::relu_grad_rule(0.5f, 6.0f, 0.1f, 0.5f, 2.0f) == Approx(0.2f));
  CHECK(ff::prelu_rule(-2.0f, 0.25f) == -0.5f);
  CHECK(std::isnan(ff::prelu_rule(kNaN, 0.25f)));
  CHECK(ff::prelu_grad_rule(0.0f, 0.25f, 1.0f) == 0.0f);
  CHECK(ff::prelu_grad_rule(-1.0f, 0.25f, 2.0f) == 0.5f);
}

TEST_CASE("layer rules: PReLU members enumerate each alpha value's elements in order",
          "[backend][rules]") {
  const std::vector<ff::PReluGeometry> cases = {
      geometry(3, {4, 5}, {false, false}), geometry(2, {3, 4, 2}, {true, true, false}),
      geometry(2, {3, 4, 5}, {false, true, false}), geometry(4, {6}, {true}),
      geometry(1, {2, 3, 2, 3}, {true, false, true, false})};
  for (const ff::PReluGeometry& g : cases) {
    const int64_t n = g.rows * g.sample, members = g.rows * (g.sample / g.alpha_size);
    std::vector<int> seen(static_cast<size_t>(n), 0);
    for (int64_t a = 0; a < g.alpha_size; ++a) {
      int64_t previous = -1;
      for (int64_t m = 0; m < members; ++m) {
        const int64_t i = ff::prelu_member_index(g, m, a);
        REQUIRE(i > previous);
        REQUIRE(i < n);
        CHECK(ff::prelu_alpha_index(g, i) == a);
        ++seen[i];
        previous = i;
      }
    }
    for (int s : seen) CHECK(s == 1);
  }
}

TEST_CASE("layer rules: upsampling taps are TensorFlow's half-pixel bilinear",
          "[backend][rules]") {
  // 2 -> 4 along an axis: sources -0.25, 0.25, 0.75, 1.25 (edges clamped).
  const ff::ResizeTaps t0 = ff::upsample_taps(0, 2, 2), t1 = ff::upsample_taps(1, 2, 2);
  const ff::ResizeTaps t3 = ff::upsample_taps(3, 2, 2);
  CHECK((t0.lower == 0 && t0.upper == 0));
  CHECK((t1.lower == 0 && t1.upper == 1 && t1.lerp == 0.25f));
  CHECK((t3.lower == 1 && t3.upper == 1));
  for (int64_t in : {1, 2, 5, 9})
    for (int64_t factor : {1, 2, 3, 4, 7})
      for (int64_t o = 0; o < in * factor; ++o) {
        const ff::ResizeTaps t = ff::upsample_taps(o, in, factor);
        float total = 0.0f;
        for (int64_t i = 0; i < in; ++i) {
          const float w = ff::upsample_weight(t, i);
          total += w;
          if (w == 0.0f) continue;
          int64_t first, last;
          ff::upsample_readers(i, in, factor, &first, &last);
          CHECK(first <= o);  // the gathered adjoint visits this output
          CHECK(o <= last);
        }
        CHECK(total == Approx(1.0f));
      }
}
