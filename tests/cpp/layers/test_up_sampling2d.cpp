// Tests for layers/up_sampling2d.cpp and the upsample2d kernels: "nearest" repeats every pixel,
// "bilinear" equals a double-precision TensorFlow half-pixel bilinear resize (edges clamped),
// finite-difference gradients for both (shared helper), the backward kernel is the exact
// adjoint of the forward (<up(x), dy> = <x, up'(dy)>), results do not depend on the thread
// count, NaN propagates, and the argument and shape errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/up_sampling2d.h"
#include "test_util.h"

using namespace fftest;

namespace {

// TensorFlow's resize_bilinear (half_pixel_centers) in double, one axis: taps and weight.
void taps_ref(int64_t o, int64_t in, int64_t factor, int64_t* lo, int64_t* hi, double* lerp) {
  const double src = (o + 0.5) / factor - 0.5;
  const double f = std::floor(src);
  *lo = std::max<int64_t>(static_cast<int64_t>(f), 0);
  *hi = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1);
  *lerp = src - f;
}

std::vector<double> upsample_ref(const std::vector<float>& x, int64_t n, int64_t h, int64_t w,
                                 int64_t c, int64_t sh, int64_t sw, bool bilinear) {
  const int64_t oh = h * sh, ow = w * sw;
  std::vector<double> y(static_cast<size_t>(n * oh * ow * c));
  auto at = [&](int64_t s, int64_t r, int64_t col, int64_t ch) {
    return static_cast<double>(x[((s * h + r) * w + col) * c + ch]);
  };
  for (int64_t s = 0; s < n; ++s)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t col = 0; col < ow; ++col)
        for (int64_t ch = 0; ch < c; ++ch) {
          double v;
          if (!bilinear) {
            v = at(s, r / sh, col / sw, ch);
          } else {
            int64_t y0, y1, x0, x1;
            double ly, lx;
            taps_ref(r, h, sh, &y0, &y1, &ly);
            taps_ref(col, w, sw, &x0, &x1, &lx);
            const double top = at(s, y0, x0, ch) * (1 - lx) + at(s, y0, x1, ch) * lx;
            const double bottom = at(s, y1, x0, ch) * (1 - lx) + at(s, y1, x1, ch) * lx;
            v = top * (1 - ly) + bottom * ly;
          }
          y[((s * oh + r) * ow + col) * c + ch] = v;
        }
  return y;
}

}  // namespace

TEST_CASE("UpSampling2D: nearest and bilinear values and gradients",
          "[layers][up_sampling2d][gradient]") {
  const std::string interp = GENERATE(std::string("nearest"), std::string("bilinear"));
  const std::vector<int64_t> size = GENERATE(std::vector<int64_t>{2, 2},
                                             std::vector<int64_t>{3, 1},
                                             std::vector<int64_t>{1, 4});
  CAPTURE(interp, size[0], size[1]);
  ff::UpSampling2D layer("up_sampling2d", 1, size, interp);
  CHECK(layer.class_name() == "UpSampling2D");
  LayerCheckSpec spec;
  spec.input_shape = {2, 3, 4, 2};
  spec.seed = 17;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, 3 * size[0], 4 * size[1], 2});
  const auto want = upsample_ref(r.x, 2, 3, 4, 2, size[0], size[1], interp == "bilinear");
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK(r.y[i] == Approx(want[i]).margin(1e-6));
  require_gradients_match(r);
}

TEST_CASE("UpSampling2D: backward is the adjoint of forward for any thread count",
          "[layers][up_sampling2d]") {
  const bool bilinear = GENERATE(false, true);
  ff::Backend& be = backend();
  ff::Upsample2DGeometry g;
  g.N = 3;
  g.H = 13;
  g.W = 7;
  g.C = 5;
  g.size_h = 3;
  g.size_w = 2;
  g.bilinear = bilinear;
  const int64_t nx = g.N * g.H * g.W * g.C, ny = nx * g.size_h * g.size_w;
  const auto xv = uniform_values(nx, 1, -1.0f, 1.0f), dyv = uniform_values(ny, 2, -1.0f, 1.0f);
  auto run = [&] {
    ff::Tensor x = make_tensor({nx}, xv), dy = make_tensor({ny}, dyv);
    ff::Tensor y = ff::Tensor::zeros(device(), {ny}), dx = ff::Tensor::zeros(device(), {nx});
    be.upsample2d_forward(g, x.data<float>(), y.data<float>());
    be.upsample2d_backward(g, dy.data<float>(), dx.data<float>());
    auto out = to_vector(y);
    const auto d = to_vector(dx);
    out.insert(out.end(), d.begin(), d.end());
    return out;
  };
  const auto one = with_threads(1, run), many = with_threads(4, run);
  CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
  double lhs = 0, rhs = 0;
  for (int64_t i = 0; i < ny; ++i) lhs += static_cast<double>(one[i]) * dyv[i];
  for (int64_t i = 0; i < nx; ++i) rhs += static_cast<double>(xv[i]) * one[ny + i];
  CHECK(lhs == Approx(rhs).epsilon(1e-5));
}

TEST_CASE("UpSampling2D: NaN spreads to the outputs that read it", "[layers][up_sampling2d]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ff::UpSampling2D layer("up", 1, {2, 2}, "nearest");
  layer.build({ff::kNone, 2, 2, 1});
  TestContext tc(false);
  std::vector<ff::Tensor> scratch;
  ff::Tensor x = make_tensor({1, 2, 2, 1}, {nan, 1.0f, 2.0f, 3.0f});
  ff::Tensor y = ff::Tensor::zeros(device(), {1, 4, 4, 1});
  layer.forward(x, y, scratch, tc.ctx);
  const auto v = to_vector(y);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) CHECK(std::isnan(v[r * 4 + c]) == (r < 2 && c < 2));
}

TEST_CASE("UpSampling2D: errors", "[layers][up_sampling2d]") {
  CHECK_THROWS_WITH(ff::UpSampling2D("u", 1, {2, 2}, "bicubic"),
                    Catch::Contains("interpolation=\"bicubic\" is not supported") &&
                        Catch::Contains("\"nearest\" and \"bilinear\""));
  CHECK_THROWS_WITH(ff::UpSampling2D("u", 1, {2, 0}, "nearest"),
                    Catch::Contains("The `size` argument must be a tuple of 2 integers"));
  CHECK_THROWS_AS(ff::UpSampling2D("u", 1, {2}, "nearest"), ff::ValueError);
  ff::UpSampling2D layer("up", 1, {2, 2}, "nearest");
  CHECK_THROWS_WITH(layer.build({ff::kNone, 4, 4}),
                    Catch::Contains("(UpSampling2D)") && Catch::Contains("expected ndim=4"));
  ff::UpSampling2D huge("up_huge", 1, {int64_t{1} << 40, int64_t{1} << 40}, "nearest");
  CHECK_THROWS_AS(huge.build({ff::kNone, 4, 4, 1}), ff::ValueError);
}
