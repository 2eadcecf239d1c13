// Resizing against values computed by hand from TensorFlow's conventions (half-pixel centers,
// Keys cubic with out-of-image taps dropped, ResizeArea's boxes, ScaleAndTranslate's kernels),
// and Keras's crop_to_aspect_ratio / pad_to_aspect_ratio arithmetic.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "data/image/image_encoders.h"
#include "data/image/resize.h"

using namespace ff::data::image;

namespace {

// Resizes a 1-row gray image to 1 x out_w.
std::vector<float> row_resize(const std::vector<uint8_t>& src, int64_t out_w, Interpolation m) {
  std::vector<float> out(static_cast<size_t>(out_w), -1.0f);
  resize_image(src.data(), 1, static_cast<int64_t>(src.size()), 1, out.data(), 1, out_w, m,
               AspectMode::Stretch);
  return out;
}

void check_near(const std::vector<float>& got, const std::vector<double>& want, double tol = 1e-4) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("index " << i);
    CHECK(got[i] == Approx(want[i]).margin(tol));
  }
}

double lanczos(double x, double r) {
  x = std::fabs(x);
  if (x > r) return 0;
  if (x < 1e-9) return 1;
  const double pi = 3.14159265358979323846;
  return r * std::sin(pi * x) * std::sin(pi * x / r) / (pi * pi * x * x);
}

}  // namespace

TEST_CASE("resize bilinear uses half-pixel centers", "[image][resize]") {
  // Downscale 4 -> 2: centers at 0.5 and 2.5 in the source.
  check_near(row_resize({0, 10, 20, 30}, 2, Interpolation::Bilinear), {5, 25});
  // Upscale 2 -> 4: positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  check_near(row_resize({0, 100}, 4, Interpolation::Bilinear), {0, 25, 75, 100});
  // Same size is the identity.
  check_near(row_resize({3, 1, 4, 1, 5}, 5, Interpolation::Bilinear), {3, 1, 4, 1, 5});
}

TEST_CASE("resize bilinear in 2-D averages the four neighbours per channel", "[image][resize]") {
  // 2x2 RGB -> 1x1: position (0.5, 0.5) is the mean of the four pixels.
  std::vector<uint8_t> src = {0, 10, 200, 100, 20, 0, 50, 30, 100, 250, 40, 0};
  std::vector<float> out(3);
  resize_image(src.data(), 2, 2, 3, out.data(), 1, 1, Interpolation::Bilinear, AspectMode::Stretch);
  check_near(out, {100, 25, 75});
}

TEST_CASE("resize nearest uses floor((i + 0.5) * scale)", "[image][resize]") {
  check_near(row_resize({0, 10, 20, 30}, 2, Interpolation::Nearest), {10, 30});
  check_near(row_resize({0, 100}, 4, Interpolation::Nearest), {0, 0, 100, 100});
  check_near(row_resize({0, 10, 20}, 2, Interpolation::Nearest), {0, 20});  // 0.75, 2.25
}

TEST_CASE("resize area averages boxes weighted by overlap", "[image][resize]") {
  check_near(row_resize({0, 10, 20, 30}, 2, Interpolation::Area), {5, 25});
  // 3 -> 2: boxes [0, 1.5) and [1.5, 3).
  check_near(row_resize({0, 30, 60}, 2, Interpolation::Area), {10, 50});
  // Upscale 2 -> 4: every box inside one source pixel.
  check_near(row_resize({0, 100}, 4, Interpolation::Area), {0, 0, 100, 100});
}

TEST_CASE("resize bicubic: Keys a=-0.5, out-of-image taps dropped and renormalised",
          "[image][resize]") {
  // Output 0 sits at 0.5: taps at -1 (dropped), 0, 1, 2 with weights w(1.5), w(0.5), w(0.5),
  // w(1.5) = -0.0625, 0.5625, 0.5625, -0.0625; the kept ones sum to 1.0625.
  const double o0 = (0 * 0.5625 + 10 * 0.5625 + 20 * -0.0625) / 1.0625;
  // Output 1 sits at 2.5: taps 1, 2, 3, 4 (dropped).
  const double o1 = (10 * -0.0625 + 20 * 0.5625 + 30 * 0.5625) / 1.0625;
  check_near(row_resize({0, 10, 20, 30}, 2, Interpolation::Bicubic), {o0, o1});
  // Same size is the identity.
  check_near(row_resize({9, 200, 3, 77}, 4, Interpolation::Bicubic), {9, 200, 3, 77});
}

TEST_CASE("resize lanczos3/lanczos5 follow ScaleAndTranslate's spans", "[image][resize]") {
  const std::vector<uint8_t> src = {0, 10, 20, 30};
  for (double r : {3.0, 5.0}) {
    // Sample positions (i + 0.5) * 2 = 1 and 3; every source pixel is within the radius.
    std::vector<double> want;
    for (double s : {1.0, 3.0}) {
      double acc = 0, sum = 0;
      for (int k = 0; k < 4; ++k) {
        double w = lanczos(k + 0.5 - s, r);
        acc += w * src[k];
        sum += w;
      }
      want.push_back(acc / sum);
    }
    check_near(row_resize(src, 2, r == 3.0 ? Interpolation::Lanczos3 : Interpolation::Lanczos5),
               want, 1e-3);
  }
}

TEST_CASE("resize gaussian and mitchellcubic follow their kernels", "[image][resize]") {
  const std::vector<uint8_t> src = {0, 10, 20, 30};
  // Gaussian sigma 0.5, radius 1.5, around sample 1: taps 0 (d=0.5), 1 (d=0.5), 2 (d=1.5 -> 0).
  {
    double g = std::exp(-0.25 / 0.5);
    double o0 = (0 * g + 10 * g) / (2 * g);
    // Around 3: taps 2 and 3 at distance 0.5 (tap 1 at 1.5 is 0 weight).
    double o1 = (20 * g + 30 * g) / (2 * g);
    check_near(row_resize(src, 2, Interpolation::Gaussian), {o0, o1}, 1e-3);
  }
  // Mitchell-Netravali (B = C = 1/3): w(0.5) = 0.5347..., w(1.5) = 0.0208...
  {
    auto m = [](double x) {
      x = std::fabs(x);
      if (x >= 2) return 0.0;
      if (x >= 1) return ((-7.0 / 18 * x + 2) * x - 10.0 / 3) * x + 16.0 / 9;
      return ((7.0 / 6 * x - 2) * x) * x + 8.0 / 9;
    };
    double num = 0, den = 0;
    for (int k = 0; k < 3; ++k) {  // sample 1: taps 0..2 (tap at distance 2.5 outside)
      num += m(k + 0.5 - 1) * src[k];
      den += m(k + 0.5 - 1);
    }
    double o0 = num / den;
    num = den = 0;
    for (int k = 1; k < 4; ++k) {
      num += m(k + 0.5 - 3) * src[k];
      den += m(k + 0.5 - 3);
    }
    check_near(row_resize(src, 2, Interpolation::MitchellCubic), {o0, num / den}, 1e-3);
  }
}

TEST_CASE("crop_to_aspect_ratio: smart_resize's centered crop", "[image][resize]") {
  ResizePlan p = plan_resize(100, 200, 50, 50, AspectMode::Crop);
  CHECK(p.crop_height == 100);
  CHECK(p.crop_width == 100);
  CHECK(p.crop_top == 0);
  CHECK(p.crop_left == 50);
  CHECK(p.content_height == 50);
  CHECK(p.content_width == 50);
  // Keras's docstring example: (340, 500) to (200, 200) takes a (340, 340) crop.
  ResizePlan q = plan_resize(340, 500, 200, 200, AspectMode::Crop);
  CHECK(q.crop_height == 340);
  CHECK(q.crop_width == 340);
  CHECK(q.crop_left == 80);
  // A 2x4 image cropped to 2x2 copies the middle columns.
  std::vector<uint8_t> src = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> out(4);
  resize_image(src.data(), 2, 4, 1, out.data(), 2, 2, Interpolation::Bilinear, AspectMode::Crop);
  check_near(out, {2, 3, 6, 7});
}

TEST_CASE("pad_to_aspect_ratio: resize_with_pad's content box and zero padding", "[image][resize]") {
  ResizePlan p = plan_resize(100, 200, 50, 50, AspectMode::Pad);
  CHECK(p.content_height == 25);
  CHECK(p.content_width == 50);
  CHECK(p.pad_top == 12);  // floor((50 - 25) / 2)
  CHECK(p.pad_left == 0);
  CHECK(p.crop_height == 100);
  CHECK(p.crop_width == 200);
  // 1x2 image into 2x2: content 1x2 at row 0 (floor(0.5) = 0), row 1 zeros.
  std::vector<uint8_t> src = {50, 150};
  std::vector<float> out(4, -1.0f);
  resize_image(src.data(), 1, 2, 1, out.data(), 2, 2, Interpolation::Bilinear, AspectMode::Pad);
  check_near(out, {50, 150, 0, 0});
  // 2x1 into 4x4: ratio max(1/4, 2/4) = 0.5 -> content 4x2, pad_left floor((4 - 2) / 2) = 1.
  std::vector<uint8_t> tall = {10, 20};
  std::vector<float> out4(16, -1.0f);
  resize_image(tall.data(), 2, 1, 1, out4.data(), 4, 4, Interpolation::Nearest, AspectMode::Pad);
  // nearest rows 2 -> 4: floor((i + 0.5) / 2) = 0, 0, 1, 1
  check_near(out4, {0, 10, 10, 0, 0, 10, 10, 0, 0, 20, 20, 0, 0, 20, 20, 0});
}

TEST_CASE("interpolation names: Keras's list, case-insensitive, clear error", "[image][resize][errors]") {
  CHECK(parse_interpolation("bilinear") == Interpolation::Bilinear);
  CHECK(parse_interpolation("BICUBIC") == Interpolation::Bicubic);
  CHECK(parse_interpolation("mitchellcubic") == Interpolation::MitchellCubic);
  CHECK(interpolation_name(Interpolation::Lanczos5) == "lanczos5");
  FF_CHECK_THROWS(parse_interpolation("cubic"), ff::ValueError,
                       Catch::Contains("\"bilinear\", \"nearest\", \"bicubic\", \"area\", "
                                                 "\"lanczos3\", \"lanczos5\", \"gaussian\", "
                                                 "\"mitchellcubic\"") &&
                           Catch::Contains("Received: interpolation=cubic"));
  CHECK_THROWS_AS(plan_resize(0, 5, 2, 2, AspectMode::Stretch), ff::ValueError);
}
