// Tests for layers/max_pooling2d.cpp and the CPU max-pool kernels: values against a naive
// reference and finite-difference gradients (shared helper) for valid/same padding, overlapping
// and non-square windows, several channels and batch > 1; NaN propagation wherever it sits in a
// window (forward) and through backward; the gradient going to the first of tied maxima; Keras's
// output-shape formulas; errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/max_pooling2d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct PoolCase {
  ff::Shape input;
  std::vector<int64_t> pool, strides;
  std::string padding;
};

RefPool ref_geometry(const PoolCase& c) {
  return {c.input[0], c.input[1], c.input[2], c.input[3], c.pool[0], c.pool[1], c.strides[0],
          c.strides[1], c.padding};
}

// Runs forward (and backward with dy) of a built MaxPooling2D on host vectors.
struct Run {
  std::vector<float> y, dx;
};
Run run(ff::MaxPooling2D& layer, const ff::Shape& in, const std::vector<float>& x,
        const std::vector<float>& dy) {
  ff::Backend& be = fftest::backend();
  layer.build(in);
  const ff::Shape out = ff::with_batch(layer.output_shape(), in[0]);
  ff::Tensor xt = make_tensor(in, x), y = ff::Tensor::zeros(be.device(), out);
  std::vector<ff::Tensor> scratch;
  fftest::TestContext test_context(true, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  layer.forward(xt, y, scratch, ctx);
  Run r{to_vector(y), {}};
  if (!dy.empty()) {
    ff::Tensor dyt = make_tensor(out, dy), dx = ff::Tensor::zeros(be.device(), in);
    layer.backward(xt, y, dyt, &dx, scratch, ctx);
    r.dx = to_vector(dx);
  }
  return r;
}

}  // namespace

TEST_CASE("MaxPooling2D: forward matches the reference and gradients match finite differences",
          "[layers][max_pooling2d][gradient]") {
  const std::vector<PoolCase> cases = {
      {{2, 4, 6, 3}, {2, 2}, {2, 2}, "valid"},
      {{2, 5, 5, 2}, {2, 2}, {2, 2}, "same"},    // odd size: the last window is cut
      {{1, 7, 6, 2}, {3, 3}, {2, 2}, "valid"},   // overlapping windows add up in backward
      {{2, 6, 7, 1}, {3, 2}, {1, 2}, "same"},
      {{3, 5, 4, 2}, {2, 3}, {3, 1}, "valid"},
      {{2, 4, 5, 20}, {2, 2}, {2, 2}, "same"},   // 16 channels as one vector + 4 one by one
      {{1, 5, 5, 33}, {3, 3}, {2, 2}, "valid"},
  };
  const size_t idx = GENERATE(range<size_t>(0, 7));
  const PoolCase& c = cases[idx];
  CAPTURE(idx, c.input, c.pool, c.strides, c.padding);
  ff::MaxPooling2D layer("max_pooling2d", 1, c.pool, c.strides, c.padding);
  LayerCheckSpec spec;
  spec.input_shape = c.input;
  spec.seed = 60 + idx;
  // The output is exactly one of the inputs, so a small step costs no precision and keeps the
  // required gap between a window's two largest values small.
  spec.options.step = 1e-4;
  spec.accept = [&](const ff::Tensor& x, const std::vector<ff::Tensor>&, double h) {
    return max_windows_separated(ref_geometry(c), to_vector(x), h);
  };
  const auto r = check_layer_gradients(layer, spec);
  CHECK(layer.param_specs().empty());
  const RefPool g = ref_geometry(c);
  CHECK(r.output_shape == ff::Shape{c.input[0], g.ah().out, g.aw().out, c.input[3]});
  const auto want = ref_pool(g, r.x, true);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) REQUIRE(r.y[i] == static_cast<float>(want[i]));
  require_gradients_match(r);
}

TEST_CASE("MaxPooling2D: a NaN anywhere in a window gives NaN, other windows unaffected",
          "[layers][max_pooling2d][numerics]") {
  // One 4x4 channel, 2x2 windows. A NaN in each window position in turn (first, second, third,
  // last): `a > b ? a : b` keeps a NaN only when it comes first; here every position propagates.
  for (int pos = 0; pos < 4; ++pos) {
    CAPTURE(pos);
    std::vector<float> x(16);
    for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i % 7) - 2.0f;
    const int ih = pos / 2, iw = pos % 2;        // inside the top-left window
    x[ih * 4 + iw] = kNaN;
    x[(2 + ih) * 4 + (2 + iw)] = kNaN;            // and the bottom-right one
    ff::MaxPooling2D layer("max_pooling2d", 1, {2, 2}, {2, 2}, "valid");
    const auto r = run(layer, {1, 4, 4, 1}, x, {1.0f, 2.0f, 3.0f, 4.0f});
    REQUIRE(r.y.size() == 4);
    CHECK(std::isnan(r.y[0]));
    CHECK_FALSE(std::isnan(r.y[1]));
    CHECK_FALSE(std::isnan(r.y[2]));
    CHECK(std::isnan(r.y[3]));
    const auto want = ref_pool({1, 4, 4, 1, 2, 2, 2, 2, "valid"}, x, true);
    CHECK(r.y[1] == static_cast<float>(want[1]));
    CHECK(r.y[2] == static_cast<float>(want[2]));
    // Backward: the NaN position is the window's maximum, so it receives the gradient.
    CHECK(r.dx[ih * 4 + iw] == 1.0f);
    CHECK(r.dx[(2 + ih) * 4 + (2 + iw)] == 4.0f);
  }
  // A NaN next to +inf in the same window is still NaN; -inf alone is a valid maximum.
  ff::MaxPooling2D inf_layer("max_pooling2d_1", 1, {2, 2}, {2, 2}, "valid");
  const float inf = std::numeric_limits<float>::infinity();
  const auto r = run(inf_layer, {1, 2, 4, 1}, {inf, kNaN, -inf, -inf, 1, 2, -inf, -inf}, {});
  CHECK(std::isnan(r.y[0]));
  CHECK(r.y[1] == -inf);
}

TEST_CASE("MaxPooling2D: NaN and ties in every channel lane, vector and scalar channels alike",
          "[layers][max_pooling2d][numerics]") {
  // 35 channels: two 16-wide vector blocks and 3 channels one by one. Values on a coarse grid so
  // that ties are frequent; NaNs sprinkled over pixels and channels (first, middle, last lanes).
  const ff::Shape in{2, 5, 6, 35};
  const std::string padding = GENERATE(std::string("valid"), std::string("same"));
  const int64_t stride = GENERATE(1, 2);
  CAPTURE(padding, stride);
  const RefPool g{in[0], in[1], in[2], in[3], 3, 2, stride, stride, padding};
  std::vector<float> x = uniform_values(ff::shape_numel(in), 90, 0, 4);
  for (float& v : x) v = std::floor(v);
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); i += 37) x[i] = kNaN;
  ff::MaxPooling2D layer("max_pooling2d", 1, {3, 2}, {stride, stride}, padding);
  layer.build(in);
  const ff::Shape out = ff::with_batch(layer.output_shape(), in[0]);
  const auto dy = uniform_values(ff::shape_numel(out), 91, -1, 1);
  const auto r = run(layer, in, x, dy);
  const auto want = ref_pool(g, x, true);
  REQUIRE(r.y.size() == want.size());
  int64_t nan_outputs = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    if (std::isnan(want[i])) {
      ++nan_outputs;
      REQUIRE(std::isnan(r.y[i]));
    } else {
      REQUIRE(r.y[i] == static_cast<float>(want[i]));
    }
  }
  CHECK(nan_outputs > 0);
  const auto want_dx = ref_max_pool_backward(g, x, dy);
  REQUIRE(r.dx.size() == want_dx.size());
  for (size_t i = 0; i < want_dx.size(); ++i) {
    CAPTURE(i);
    REQUIRE(r.dx[i] == Approx(want_dx[i]).margin(1e-6));
  }
}

TEST_CASE("MaxPooling2D: NaN in the gradient flows back to the window's maximum",
          "[layers][max_pooling2d][numerics]") {
  ff::MaxPooling2D layer("max_pooling2d", 1, {2, 2}, {2, 2}, "valid");
  const std::vector<float> x = {1, 5, 2, 0, 3, 4, 8, 7};  // (1, 2, 4, 1): windows {1,5,3,4}, {2,0,8,7}
  const auto r = run(layer, {1, 2, 4, 1}, x, {kNaN, 2.0f});
  CHECK(r.y == std::vector<float>{5, 8});
  CHECK(std::isnan(r.dx[1]));  // the 5
  for (int i : {0, 2, 3, 4, 5, 7}) CHECK(r.dx[i] == 0.0f);
  CHECK(r.dx[6] == 2.0f);  // the 8
}

TEST_CASE("MaxPooling2D: tied maxima send the gradient to the first one, per channel",
          "[layers][max_pooling2d]") {
  // (1, 2, 2, 2), one 2x2 window: channel 0 all equal, channel 1 tie between positions 1 and 3.
  ff::MaxPooling2D layer("max_pooling2d", 1, {2, 2}, {}, "valid");
  const std::vector<float> x = {3, 0, 3, 9, 3, 1, 3, 9};
  const auto r = run(layer, {1, 2, 2, 2}, x, {10.0f, 20.0f});
  CHECK(r.y == std::vector<float>{3, 9});
  CHECK(r.dx == std::vector<float>{10, 0, 0, 20, 0, 0, 0, 0});
  // Overlapping windows (3x3, stride 1) sharing one maximum add their gradients there.
  ff::MaxPooling2D overlap("max_pooling2d_1", 1, {3, 3}, {1, 1}, "valid");
  std::vector<float> xo(16, 0.0f);
  xo[1 * 4 + 2] = 5.0f;  // inside all four 3x3 windows of a 4x4 input
  const auto ro = run(overlap, {1, 4, 4, 1}, xo, {1.0f, 2.0f, 3.0f, 4.0f});
  CHECK(ro.y == std::vector<float>{5, 5, 5, 5});
  CHECK(ro.dx[1 * 4 + 2] == 10.0f);
}

TEST_CASE("MaxPooling2D: output shapes follow Keras's formulas", "[layers][max_pooling2d]") {
  struct Row {
    int64_t h, w, ph, pw, sh, sw;
    const char* padding;
    int64_t oh, ow, pad_top, pad_left;
  };
  for (const Row& r : std::vector<Row>{{26, 26, 2, 2, 2, 2, "valid", 13, 13, 0, 0},
                                       {11, 11, 2, 2, 2, 2, "valid", 5, 5, 0, 0},
                                       {11, 11, 2, 2, 2, 2, "same", 6, 6, 0, 0},
                                       {7, 9, 3, 3, 2, 2, "same", 4, 5, 1, 1},
                                       {7, 9, 3, 2, 1, 3, "valid", 5, 3, 0, 0},
                                       {5, 5, 4, 4, 1, 1, "same", 5, 5, 1, 1}}) {
    CAPTURE(r.h, r.w, r.ph, r.pw, r.sh, r.sw, r.padding);
    ff::MaxPooling2D layer("p", 1, {r.ph, r.pw}, {r.sh, r.sw}, r.padding);
    CHECK(layer.build({ff::kNone, r.h, r.w, 3}) == ff::Shape{ff::kNone, r.oh, r.ow, 3});
    CHECK(layer.geometry(2).pad_top == r.pad_top);
    CHECK(layer.geometry(2).pad_left == r.pad_left);
  }
  ff::MaxPooling2D defaults("p", 1, {3, 3}, {}, "valid");  // strides=None: the pool size
  CHECK(defaults.strides() == std::vector<int64_t>{3, 3});
  CHECK(defaults.build({ff::kNone, 9, 10, 1}) == ff::Shape{ff::kNone, 3, 3, 1});
}

TEST_CASE("MaxPooling2D: shape and argument errors", "[layers][max_pooling2d]") {
  ff::MaxPooling2D rank("max_pooling2d", 1, {2, 2}, {}, "valid");
  CHECK_THROWS_WITH(rank.build({ff::kNone, 28, 28}),
                    Catch::Contains("Input 0 of layer \"max_pooling2d\" (MaxPooling2D)") &&
                        Catch::Contains("expected ndim=4") &&
                        Catch::Contains("found shape=(None, 28, 28)"));
  ff::MaxPooling2D big("max_pooling2d_1", 1, {3, 3}, {}, "valid");
  CHECK_THROWS_WITH(big.build({ff::kNone, 2, 5, 4}),
                    Catch::Contains("pool is larger than the unpadded input") &&
                        Catch::Contains("pool_size=(3, 3)"));
  ff::MaxPooling2D same("max_pooling2d_2", 1, {3, 3}, {}, "same");
  CHECK(same.build({ff::kNone, 2, 5, 4}) == ff::Shape{ff::kNone, 1, 2, 4});
  CHECK_THROWS_WITH(ff::MaxPooling2D("p", 1, {2, 0}, {}, "valid"),
                    Catch::Contains("`pool_size`") && Catch::Contains("value > 0"));
  CHECK_THROWS_WITH(ff::MaxPooling2D("p", 1, {2, 2}, {1, 0}, "valid"), Catch::Contains("`strides`"));
  CHECK_THROWS_WITH(ff::MaxPooling2D("p", 1, {2, 2}, {}, "full"), Catch::Contains("`padding`"));
}

TEST_CASE("MaxPooling2D: huge strides and pools compute without overflow",
          "[layers][max_pooling2d][limits]") {
  // ceil(5 / (2^63 - 1)) = 1: computed as in + stride - 1 it overflowed and the layer refused.
  ff::MaxPooling2D same("max_pooling2d", 1, {2, 2}, {INT64_MAX, 1}, "same");
  CHECK(same.build({ff::kNone, 5, 5, 1}) == ff::Shape{ff::kNone, 1, 5, 1});
  ff::MaxPooling2D pool("max_pooling2d_1", 1, {INT64_MAX, 1}, {}, "same");
  CHECK(pool.build({ff::kNone, 5, 5, 1}) == ff::Shape{ff::kNone, 1, 5, 1});
  ff::MaxPooling2D valid("max_pooling2d_2", 1, {INT64_MAX, 1}, {}, "valid");
  CHECK_THROWS_WITH(valid.build({ff::kNone, 5, 5, 1}), Catch::Contains("pool is larger"));
}

TEST_CASE("MaxPooling2D: a pool far larger than the input runs as a clipped window",
          "[layers][max_pooling2d][limits]") {
  // pool_size (2^31 - 1, 2^31 - 1) is what a saved config may hold: the kernel sized a buffer of
  // KH * KW positions (2^62) before and aborted; the window is clipped to the 4 x 3 input.
  ff::MaxPooling2D layer("max_pooling2d", 1, {2147483647, 2147483647}, {1, 1}, "same");
  const ff::Shape in{2, 4, 3, 1};
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7) % 24);
  const Run r = run(layer, in, x, std::vector<float>(24, 1.0f));
  REQUIRE(layer.output_shape() == ff::Shape{ff::kNone, 4, 3, 1});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 12; ++i) {
      CAPTURE(n, i);
      CHECK(r.y[n * 12 + i] == *std::max_element(x.begin() + n * 12, x.begin() + n * 12 + 12));
    }
  // Every window's gradient (12 windows per sample) goes to the sample's maximum: 22 at
  // position 10 of sample 0, 23 at position 5 of sample 1.
  for (size_t i = 0; i < 24; ++i) {
    CAPTURE(i);
    CHECK(r.dx[i] == (i == 10 || i == 17 ? 12.0f : 0.0f));
  }
}
