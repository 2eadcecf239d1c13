// Tests for backend/image_taps.h, the resampling rule the CPU and CUDA affine_transform_images
// kernels share: the fill modes' index maps (Keras's reflect, wrap, constant, nearest), the tap
// index clamp (NaN and far points), and the taps of a pixel (identity, half-pixel bilinear
// weights summing to 1, nearest rounding half away from zero, constant taps reading fill_value).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "backend/image_taps.h"

using ff::FillMode;
using ff::Interpolation;

TEST_CASE("image_map_index follows Keras's fill modes", "[backend][image]") {
  // (d c b a | a b c d | d c b a) for reflect, (a b c d | a b c d) for wrap, on len 4.
  const std::vector<int64_t> i = {-5, -4, -1, 0, 3, 4, 7, 8};
  const std::vector<int64_t> reflect = {3, 3, 0, 0, 3, 3, 0, 0};
  const std::vector<int64_t> wrap = {3, 0, 3, 0, 3, 0, 3, 0};
  const std::vector<int64_t> nearest = {0, 0, 0, 0, 3, 3, 3, 3};
  const std::vector<int64_t> constant = {-1, -1, -1, 0, 3, -1, -1, -1};
  for (size_t k = 0; k < i.size(); ++k) {
    INFO("i " << i[k]);
    CHECK(ff::image_map_index(i[k], 4, FillMode::Reflect) == reflect[k]);
    CHECK(ff::image_map_index(i[k], 4, FillMode::Wrap) == wrap[k]);
    CHECK(ff::image_map_index(i[k], 4, FillMode::Nearest) == nearest[k]);
    CHECK(ff::image_map_index(i[k], 4, FillMode::Constant) == constant[k]);
  }
  CHECK(ff::image_map_index(-3, 1, FillMode::Reflect) == 0);
  CHECK(ff::image_map_index(5, 1, FillMode::Wrap) == 0);
}

TEST_CASE("image_tap_index clamps far and NaN coordinates", "[backend][image]") {
  CHECK(ff::image_tap_index(2.0f) == 2);
  CHECK(ff::image_tap_index(-3.0f) == -3);
  CHECK(ff::image_tap_index(std::numeric_limits<float>::quiet_NaN()) == -1000000000);
  CHECK(ff::image_tap_index(std::numeric_limits<float>::infinity()) == 1000000000);
  CHECK(ff::image_tap_index(-std::numeric_limits<float>::infinity()) == -1000000000);
}

TEST_CASE("image_taps gives the taps and weights of a pixel", "[backend][image]") {
  const float identity[6] = {1, 0, 0, 0, 1, 0};
  for (Interpolation interp : {Interpolation::Bilinear, Interpolation::Nearest}) {
    const ff::ImageTaps t = ff::image_taps(identity, 2, 3, 5, 7, interp, FillMode::Reflect);
    REQUIRE(t.count == 1);  // zero-weight taps are left out
    CHECK(t.offset[0] == 2 * 7 + 3);
    CHECK(t.weight[0] == 1.0f);
  }
  // Half a pixel right and a quarter down: four taps in (top-left, top-right, bottom-left,
  // bottom-right) order, weights summing to 1.
  const float shift[6] = {1, 0, 0.5f, 0, 1, 0.25f};
  const ff::ImageTaps b = ff::image_taps(shift, 1, 1, 5, 7, Interpolation::Bilinear,
                                         FillMode::Constant);
  REQUIRE(b.count == 4);
  CHECK(b.offset[0] == 1 * 7 + 1);
  CHECK(b.offset[1] == 1 * 7 + 2);
  CHECK(b.offset[2] == 2 * 7 + 1);
  CHECK(b.offset[3] == 2 * 7 + 2);
  CHECK(b.weight[0] == 0.375f);
  CHECK(b.weight[1] == 0.375f);
  CHECK(b.weight[2] == 0.125f);
  CHECK(b.weight[3] == 0.125f);
  // Nearest rounds half away from zero: x = 1.5 -> 2.
  const ff::ImageTaps n = ff::image_taps(shift, 1, 1, 5, 7, Interpolation::Nearest,
                                         FillMode::Constant);
  REQUIRE(n.count == 1);
  CHECK(n.offset[0] == 1 * 7 + 2);
  // Past the right edge: constant reads fill_value (-1), wrap comes back to column 0.
  const float right[6] = {1, 0, 6.5f, 0, 1, 0};
  const ff::ImageTaps c = ff::image_taps(right, 0, 0, 5, 7, Interpolation::Bilinear,
                                         FillMode::Constant);
  REQUIRE(c.count == 2);
  CHECK(c.offset[0] == 6);
  CHECK(c.offset[1] == -1);
  const ff::ImageTaps w = ff::image_taps(right, 0, 0, 5, 7, Interpolation::Bilinear,
                                         FillMode::Wrap);
  REQUIRE(w.count == 2);
  CHECK(w.offset[0] == 6);
  CHECK(w.offset[1] == 0);
}
