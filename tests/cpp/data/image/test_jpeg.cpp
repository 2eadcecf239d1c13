// JPEG decoding: color, grayscale and CMYK files, the rgb/rgba/grayscale outputs, DCT scaling
// (which reduced size is chosen, and that it keeps the colors), and the error paths (truncated,
// corrupt header, oversized header, pixel limit).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>

#include "core/errors.h"
#include "data/image/image.h"
#include "data/image/image_encoders.h"

using namespace ff::data::image;
using fftest::img::Bytes;
using fftest::img::encode_jpeg;

namespace {

DecodedImage dec(const Bytes& b, int channels, DecodeOptions o = {}) {
  o.channels = channels;
  return decode_image(b.data(), b.size(), "photo.jpg", o);
}

Bytes solid(int w, int h, int comps, std::initializer_list<uint8_t> color) {
  Bytes px;
  for (int i = 0; i < w * h; ++i) px.insert(px.end(), color);
  (void)comps;
  return px;
}

// Every pixel within `tol` of `want` (JPEG is lossy, even at quality 100).
void check_all_near(const DecodedImage& img, std::initializer_list<int> want, int tol) {
  REQUIRE(img.channels == static_cast<int>(want.size()));
  for (size_t i = 0; i < img.pixels.size(); i += want.size()) {
    size_t c = 0;
    for (int v : want) {
      INFO("pixel " << i / want.size() << " channel " << c);
      CHECK(std::abs(static_cast<int>(img.pixels[i + c]) - v) <= tol);
      ++c;
    }
  }
}

}  // namespace

TEST_CASE("jpeg decodes a solid color as rgb, rgba and grayscale", "[image][jpeg]") {
  Bytes file = encode_jpeg(16, 16, JCS_RGB, 3, solid(16, 16, 3, {200, 100, 50}));
  REQUIRE(detect_format(file.data(), file.size()) == ImageFormat::Jpeg);
  DecodedImage rgb = dec(file, 3);
  CHECK(rgb.width == 16);
  CHECK(rgb.height == 16);
  check_all_near(rgb, {200, 100, 50}, 2);
  check_all_near(dec(file, 4), {200, 100, 50, 255}, 2);
  // Luma 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2
  check_all_near(dec(file, 1), {124}, 2);
}

TEST_CASE("jpeg keeps a left/right edge in place", "[image][jpeg]") {
  // 16x8: left half black, right half white (8x8 blocks, so quality 100 keeps it nearly exact).
  Bytes px(16 * 8, 0);
  for (int y = 0; y < 8; ++y)
    for (int x = 8; x < 16; ++x) px[y * 16 + x] = 255;
  DecodedImage g = dec(encode_jpeg(16, 8, JCS_GRAYSCALE, 1, px), 1);
  for (int y = 0; y < 8; ++y) {
    CHECK(g.pixels[y * 16 + 2] <= 3);
    CHECK(g.pixels[y * 16 + 13] >= 252);
  }
}

TEST_CASE("jpeg grayscale file to rgb replicates the gray value", "[image][jpeg]") {
  Bytes file = encode_jpeg(8, 8, JCS_GRAYSCALE, 1, Bytes(64, 77));
  DecodedImage rgb = dec(file, 3);
  check_all_near(rgb, {77, 77, 77}, 1);
  for (size_t i = 0; i < rgb.pixels.size(); i += 3) {
    CHECK(rgb.pixels[i] == rgb.pixels[i + 1]);
    CHECK(rgb.pixels[i] == rgb.pixels[i + 2]);
  }
}

TEST_CASE("jpeg progressive decodes like baseline", "[image][jpeg]") {
  Bytes file = encode_jpeg(24, 16, JCS_RGB, 3, solid(24, 16, 3, {30, 140, 220}), 95, true);
  check_all_near(dec(file, 3), {30, 140, 220}, 3);
}

TEST_CASE("jpeg CMYK (Adobe, inverted) converts to RGB as PIL does", "[image][jpeg]") {
  // Stored values c=255 m=128 y=0 k=255 are inverted CMYK: R = c*k/255 = 255, G = 128, B = 0.
  Bytes file = encode_jpeg(8, 8, JCS_CMYK, 4, solid(8, 8, 4, {255, 128, 0, 255}));
  check_all_near(dec(file, 3), {255, 128, 0}, 3);
  check_all_near(dec(file, 1), {151}, 3);  // luma of (255, 128, 0) = 151.4
}

TEST_CASE("jpeg DCT scaling picks the smallest reduced size that is still large enough",
          "[image][jpeg]") {
  Bytes file = encode_jpeg(64, 48, JCS_RGB, 3, solid(64, 48, 3, {90, 180, 30}), 95);
  DecodeOptions o;
  SECTION("no hint: full size") {
    DecodedImage img = dec(file, 3, o);
    CHECK(img.width == 64);
    CHECK(img.height == 48);
  }
  SECTION("target 12x16 allows 1/4") {
    o.large_enough = [](int64_t h, int64_t w) { return h >= 12 && w >= 16; };
    DecodedImage img = dec(file, 3, o);
    CHECK(img.height == 12);
    CHECK(img.width == 16);
    check_all_near(img, {90, 180, 30}, 3);
  }
  SECTION("target 13x16 needs 1/2") {
    o.large_enough = [](int64_t h, int64_t w) { return h >= 13 && w >= 16; };
    DecodedImage img = dec(file, 3, o);
    CHECK(img.height == 24);
    CHECK(img.width == 32);
  }
  SECTION("target 6x8 allows 1/8; sizes round up") {
    Bytes odd = encode_jpeg(65, 49, JCS_RGB, 3, solid(65, 49, 3, {90, 180, 30}), 95);
    o.large_enough = [](int64_t h, int64_t w) { return h >= 6 && w >= 8; };
    DecodedImage img = dec(odd, 3, o);
    CHECK(img.height == 7);  // ceil(49 / 8)
    CHECK(img.width == 9);   // ceil(65 / 8)
  }
  SECTION("target larger than the image: full size") {
    o.large_enough = [](int64_t h, int64_t w) { return h >= 100 && w >= 100; };
    DecodedImage img = dec(file, 3, o);
    CHECK(img.height == 48);
    CHECK(img.width == 64);
  }
}

TEST_CASE("jpeg errors name the file and the problem", "[image][jpeg][errors]") {
  Bytes file = encode_jpeg(32, 32, JCS_RGB, 3, solid(32, 32, 3, {1, 2, 3}), 90);
  SECTION("truncated in the scan data") {
    Bytes cut(file.begin(), file.end() - static_cast<long>(file.size() / 3));
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError,
                         Catch::Contains("photo.jpg as JPEG") &&
                             Catch::Contains("truncated"));
  }
  SECTION("only the SOI marker") {
    Bytes cut = {0xFF, 0xD8, 0xFF};
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError, Catch::Contains("photo.jpg"));
  }
  SECTION("garbage after the magic") {
    Bytes bad = {0xFF, 0xD8, 0xFF, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC};
    CHECK_THROWS_AS(dec(bad, 3), ff::ValueError);
  }
  SECTION("a 60000x60000 header is refused before allocating") {
    Bytes big = file;
    // SOF0 marker FF C0: length(2) precision(1) height(2) width(2).
    size_t i = 2;
    while (i + 1 < big.size() && !(big[i] == 0xFF && big[i + 1] == 0xC0)) ++i;
    REQUIRE(i + 9 < big.size());
    big[i + 5] = 0xEA;  // 60000 = 0xEA60
    big[i + 6] = 0x60;
    big[i + 7] = 0xEA;
    big[i + 8] = 0x60;
    FF_CHECK_THROWS(dec(big, 3), ff::ValueError,
                         Catch::Contains("60000x60000") &&
                             Catch::Contains("limit"));
  }
  SECTION("the pixel limit is configurable") {
    DecodeOptions o;
    o.max_pixels = 1023;
    FF_CHECK_THROWS(dec(file, 3, o), ff::ValueError,
                         Catch::Contains("limit of 1023 pixels"));
  }
}
