// Tests for layers/random_affine.cpp (RandomTranslation, RandomZoom, RandomRotation) and the
// affine_transform_images kernels: fill modes and interpolations on tiny images with known
// values, Keras's matrices (translation, zoom about the centre, rotation by a quarter turn),
// per-sample draws keyed by (seed, step, sample) (reproducible, batch-size independent),
// identity at inference and for zero factors, the backward pass as the exact adjoint (dot-product
// test for every mode, and the shared gradient helper) and factor/argument/shape errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/rng.h"
#include "gradient_check.h"
#include "layers/random_rotation.h"
#include "layers/random_translation.h"
#include "layers/random_zoom.h"
#include "test_util.h"

using namespace fftest;

namespace {

std::vector<float> run(ff::RandomAffineLayer& layer, const ff::Shape& shape,
                       const std::vector<float>& xv, uint64_t step = 0) {
  layer.build(ff::with_batch(shape, ff::kNone));
  std::vector<ff::Tensor> scratch;
  for (const auto& s : layer.scratch_shapes(shape[0])) scratch.push_back(ff::Tensor::zeros(fftest::device(), s));
  ff::Tensor x = make_tensor(shape, xv), y = ff::Tensor::zeros(fftest::device(), shape);
  fftest::TestContext context(true, step, 0, 0);
  layer.forward(x, y, scratch, context.ctx);
  return to_vector(y);
}

// A translation by exactly `frac` of the width (a fixed range draws the same value always).
ff::RandomTranslation shift_x(double frac, const std::string& fill, const std::string& interp,
                              float fill_value = 0.0f) {
  return ff::RandomTranslation("random_translation", 1, {0.0, 0.0}, {frac, frac}, fill, interp,
                               fill_value);
}

}  // namespace

TEST_CASE("RandomTranslation: fill modes on a 1x4 image (a b c d) = (1 2 3 4)",
          "[layers][random_affine]") {
  const std::vector<float> img{1, 2, 3, 4};
  const ff::Shape shape{1, 1, 4, 1};
  struct Case {
    double frac;
    const char* fill;
    std::vector<float> want;
  };
  // frac 0.5: shift right by 2 (output col j reads input col j - 2); -0.5: shift left by 2.
  const Case cases[] = {
      {0.5, "reflect", {2, 1, 1, 2}},   // (d c b a | a b c d): col -1 -> a, -2 -> b
      {0.5, "wrap", {3, 4, 1, 2}},      // (a b c d | a b c d)
      {0.5, "constant", {9, 9, 1, 2}},  // fill_value 9
      {0.5, "nearest", {1, 1, 1, 2}},   // (a a a a | a b c d)
      {-0.5, "reflect", {3, 4, 4, 3}},
      {-0.5, "wrap", {3, 4, 1, 2}},
      {-0.5, "constant", {3, 4, 9, 9}},
      {-0.5, "nearest", {3, 4, 4, 4}},
  };
  for (const auto& cs : cases) {
    for (const char* interp : {"bilinear", "nearest"}) {
      CAPTURE(cs.frac, cs.fill, interp);
      auto layer = shift_x(cs.frac, cs.fill, interp, 9.0f);
      CHECK(run(layer, shape, img) == cs.want);
    }
  }
}

TEST_CASE("RandomTranslation: half-pixel shifts, bilinear and nearest", "[layers][random_affine]") {
  const std::vector<float> img{1, 2, 3, 4};
  const ff::Shape shape{1, 1, 4, 1};
  // frac 0.125 of width 4: shift by 0.5 px, output col j reads input point j - 0.5.
  auto reflect = shift_x(0.125, "reflect", "bilinear");
  CHECK(run(reflect, shape, img) == std::vector<float>{1.0f, 1.5f, 2.5f, 3.5f});
  auto constant = shift_x(0.125, "constant", "bilinear", 0.0f);
  CHECK(run(constant, shape, img) == std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f});
  // Nearest rounds half-way points away from zero: -0.5 -> -1 (reflect: a), 0.5 -> 1, ...
  auto nearest = shift_x(0.125, "reflect", "nearest");
  CHECK(run(nearest, shape, img) == std::vector<float>{1, 2, 3, 4});
  auto nearest_c = shift_x(0.125, "constant", "nearest", -1.0f);
  CHECK(run(nearest_c, shape, img) == std::vector<float>{-1, 2, 3, 4});

  // Vertically, on a 4x1 image with 2 channels (each channel moves alike).
  ff::RandomTranslation down("random_translation_v", 1, {0.25, 0.25}, {0.0, 0.0}, "constant",
                             "bilinear", 0.0f);
  const std::vector<float> col{1, 10, 2, 20, 3, 30, 4, 40};
  CHECK(run(down, {1, 4, 1, 2}, col) == std::vector<float>{0, 0, 1, 10, 2, 20, 3, 30});
}

TEST_CASE("Random affine layers: Keras's matrices", "[layers][random_affine]") {
  SECTION("translation: [1 0 -dx; 0 1 -dy] with dy = U(height) * H, dx = U(width) * W") {
    ff::RandomTranslation layer("random_translation", 77, {-0.2, 0.3}, {-0.1, 0.1}, "reflect",
                                "bilinear", 0.0f);
    for (int64_t s = 0; s < 8; ++s) {
      const auto bits = ff::Philox::block(77, 4, s);
      const double u0 = ff::Philox::to_unit(bits[0]), u1 = ff::Philox::to_unit(bits[1]);
      const double dy = (-0.2 + 0.5 * u0) * 10, dx = (-0.1 + 0.2 * u1) * 20;
      const auto m = layer.transform_for(4, s, 10, 20);
      CHECK(m[0] == 1.0f);
      CHECK(m[1] == 0.0f);
      CHECK(m[2] == Approx(-dx));
      CHECK(m[3] == 0.0f);
      CHECK(m[4] == 1.0f);
      CHECK(m[5] == Approx(-dy));
    }
  }
  SECTION("zoom about the centre: a 5x5 image zoomed in 2x (height_factor -0.5, width None)") {
    ff::RandomZoom layer("random_zoom", 1, {-0.5, -0.5}, false, {}, "reflect", "bilinear", 0.0f);
    const auto m = layer.transform_for(0, 0, 5, 5);
    CHECK(m == std::array<float, 6>{0.5f, 0.0f, 1.0f, 0.0f, 0.5f, 1.0f});
    std::vector<float> img(25);
    for (int i = 0; i < 25; ++i) img[i] = static_cast<float>(10 * (i % 5) + 100 * (i / 5));
    const auto y = run(layer, {1, 5, 5, 1}, img);
    // Output (r, c) reads input (0.5 r + 1, 0.5 c + 1): the centre 3x3 region stretched.
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 5; ++c)
        CHECK(y[r * 5 + c] == Approx(10 * (0.5 * c + 1) + 100 * (0.5 * r + 1)));
  }
  SECTION("zoom with its own width factor") {
    ff::RandomZoom layer("random_zoom", 1, {0.5, 0.5}, true, {-0.25, -0.25}, "reflect",
                         "bilinear", 0.0f);
    const auto m = layer.transform_for(0, 0, 3, 9);
    CHECK(m[0] == 0.75f);             // zx = 1 - 0.25
    CHECK(m[2] == Approx(4 * 0.25));  // (W-1)/2 (1 - zx)
    CHECK(m[4] == 1.5f);              // zy = 1 + 0.5: zoomed out
    CHECK(m[5] == Approx(1 * -0.5));  // (H-1)/2 (1 - zy)
  }
  SECTION("rotation by a quarter turn (factor 0.25) is counter-clockwise about the centre") {
    ff::RandomRotation layer("random_rotation", 1, {0.25, 0.25}, "constant", "bilinear", 0.0f);
    std::vector<float> img(9);
    for (int i = 0; i < 9; ++i) img[i] = static_cast<float>(i);  // v[r][c] = 3r + c
    const auto y = run(layer, {1, 3, 3, 1}, img);
    // The right column (2 5 8) becomes the top row, read downwards, and so on.
    const std::vector<float> want{2, 5, 8, 1, 4, 7, 0, 3, 6};
    for (int i = 0; i < 9; ++i) CHECK(y[i] == Approx(want[i]).margin(1e-5));
  }
}

TEST_CASE("Random affine layers: draws keyed by (seed, step, sample)", "[layers][random_affine]") {
  ff::RandomRotation layer("random_rotation", 123, {-0.1, 0.1}, "reflect", "bilinear", 0.0f);
  const auto xv = uniform_values(4 * 5 * 6 * 2, 3, -1.0f, 1.0f);
  const auto a = run(layer, {4, 5, 6, 2}, xv, 9);
  CHECK(run(layer, {4, 5, 6, 2}, xv, 9) == a);
  CHECK(run(layer, {4, 5, 6, 2}, xv, 10) != a);
  // Sample i's transform does not depend on the batch it is in.
  ff::RandomRotation same("random_rotation_1", 123, {-0.1, 0.1}, "reflect", "bilinear", 0.0f);
  const std::vector<float> first2(xv.begin(), xv.begin() + 2 * 60);
  const auto b = run(same, {2, 5, 6, 2}, first2, 9);
  CHECK(b == std::vector<float>(a.begin(), a.begin() + 2 * 60));
  // Another seed, other transforms; samples differ from each other.
  ff::RandomRotation other("random_rotation_2", 124, {-0.1, 0.1}, "reflect", "bilinear", 0.0f);
  CHECK(run(other, {4, 5, 6, 2}, xv, 9) != a);
  CHECK(layer.transform_for(9, 0, 5, 6) != layer.transform_for(9, 1, 5, 6));
}

TEST_CASE("Random affine layers: identity at inference and for zero factors",
          "[layers][random_affine]") {
  ff::RandomTranslation t("random_translation", 1, {-0.2, 0.2}, {0.0, 0.0}, "reflect",
                          "bilinear", 0.0f);
  CHECK(t.aliases_input(false));
  CHECK_FALSE(t.aliases_input(true));
  ff::RandomTranslation t0("random_translation_1", 1, {0.0, 0.0}, {0.0, 0.0}, "reflect",
                           "bilinear", 0.0f);
  CHECK(t0.aliases_input(true));
  ff::RandomZoom z0("random_zoom", 1, {0.0, 0.0}, false, {}, "reflect", "bilinear", 0.0f);
  CHECK(z0.aliases_input(true));
  ff::RandomZoom z1("random_zoom_1", 1, {0.0, 0.0}, true, {0.1, 0.2}, "reflect", "bilinear", 0.0f);
  CHECK_FALSE(z1.aliases_input(true));
  ff::RandomRotation r0("random_rotation", 1, {0.0, 0.0}, "reflect", "bilinear", 0.0f);
  CHECK(r0.aliases_input(true));
}

TEST_CASE("affine_transform_images_backward is the adjoint, for every fill mode and interpolation",
          "[layers][random_affine][backend]") {
  ff::Backend& be = fftest::backend();
  const int64_t n = 3, h = 7, w = 5, c = 2, size = n * h * w * c;
  // Three different maps: a rotation with zoom, a translation past the border, a shear.
  const std::vector<float> m{0.8f, -0.5f, 2.0f, 0.45f, 0.9f, -1.3f,   //
                             1.0f, 0.0f, -6.5f, 0.0f, 1.0f, 4.25f,    //
                             1.2f, 0.3f, -0.4f, -0.2f, 1.1f, 0.7f};
  const auto x = uniform_values(size, 1, -1.0f, 1.0f), dy = uniform_values(size, 2, -1.0f, 1.0f);
  for (auto mode : {ff::FillMode::Reflect, ff::FillMode::Wrap, ff::FillMode::Constant,
                    ff::FillMode::Nearest})
    for (auto interp : {ff::Interpolation::Bilinear, ff::Interpolation::Nearest}) {
      CAPTURE(static_cast<int>(mode), static_cast<int>(interp));
      // Through device memory, so the test runs on any backend.
      ff::Tensor xt = make_tensor({size}, x), dyt = make_tensor({size}, dy);
      ff::Tensor mt = make_tensor({static_cast<int64_t>(m.size())}, m);
      ff::Tensor yt = ff::Tensor::zeros(fftest::device(), {size});
      ff::Tensor dxt = make_tensor({size}, std::vector<float>(size, 123.0f));  // overwritten
      be.affine_transform_images(xt.data<float>(), yt.data<float>(), n, h, w, c,
                                 mt.data<float>(), interp, mode, 0.0f);
      be.affine_transform_images_backward(dyt.data<float>(), dxt.data<float>(), n, h, w, c,
                                          mt.data<float>(), interp, mode);
      const std::vector<float> y = to_vector(yt), dx = to_vector(dxt);
      double lhs = 0.0, rhs = 0.0;  // <A x, dy> == <x, A^T dy>
      for (int64_t i = 0; i < size; ++i) {
        lhs += static_cast<double>(y[i]) * dy[i];
        rhs += static_cast<double>(x[i]) * dx[i];
      }
      CHECK(lhs == Approx(rhs).epsilon(1e-5));
      CHECK(std::fabs(lhs) > 1e-3);
    }
}

TEST_CASE("Random affine layers: gradient checks at a fixed step",
          "[layers][random_affine][gradient]") {
  LayerCheckSpec spec;
  spec.input_shape = {2, 4, 5, 2};
  spec.training = true;
  spec.step = 3;
  SECTION("translation, bilinear, reflect") {
    ff::RandomTranslation layer("random_translation", 11, {-0.3, 0.3}, {-0.3, 0.3}, "reflect",
                                "bilinear", 0.0f);
    const auto r = check_layer_gradients(layer, spec);
    require_gradients_match(r);
    CHECK(r.y != r.x);
  }
  SECTION("zoom, nearest, constant with a non-zero fill value") {
    ff::RandomZoom layer("random_zoom", 12, {-0.4, 0.4}, true, {-0.4, 0.4}, "constant", "nearest",
                         2.5f);
    require_gradients_match(check_layer_gradients(layer, spec));
  }
  SECTION("rotation, bilinear, wrap and nearest fill") {
    for (const char* fill : {"wrap", "nearest"}) {
      ff::RandomRotation layer(std::string("random_rotation_") + fill, 13, {-0.2, 0.2}, fill,
                               "bilinear", 0.0f);
      CAPTURE(fill);
      require_gradients_match(check_layer_gradients(layer, spec));
    }
  }
}

TEST_CASE("Random affine layers: factor, argument and shape errors", "[layers][random_affine]") {
  CHECK_THROWS_WITH(ff::RandomTranslation("t", 1, {-1.5, 1.5}, {0.0, 0.0}, "reflect", "bilinear",
                                          0.0f),
                    Catch::Contains("`height_factor`") && Catch::Contains("-1.5"));
  CHECK_THROWS_WITH(ff::RandomZoom("z", 1, {0.1, 0.1}, true, {0.5, 2.0}, "reflect", "bilinear",
                                   0.0f),
                    Catch::Contains("`width_factor`") && Catch::Contains("2"));
  CHECK_THROWS_WITH(ff::RandomRotation("r", 1, {0.3, 0.1}, "reflect", "bilinear", 0.0f),
                    Catch::Contains("`factor`"));
  CHECK_THROWS_WITH(ff::RandomRotation("r", 1, {0.1, 0.1}, "mirror", "bilinear", 0.0f),
                    Catch::Contains("Unknown `fill_mode` mirror"));
  CHECK_THROWS_WITH(ff::RandomRotation("r", 1, {0.1, 0.1}, "reflect", "bicubic", 0.0f),
                    Catch::Contains("Unknown `interpolation` bicubic"));
  ff::RandomZoom z("random_zoom", 1, {0.1, 0.1}, false, {}, "reflect", "bilinear", 0.0f);
  CHECK_THROWS_WITH(z.build({ff::kNone, 32, 32}),
                    Catch::Contains("random_zoom") && Catch::Contains("rank 4"));
}
