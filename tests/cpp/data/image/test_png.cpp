// PNG decoding: every color type and bit depth the decoder converts (8/16-bit, palette with tRNS,
// 1-bit gray, gray + alpha, interlaced), the channel conversions, and the error paths
// (truncated file, bad CRC, oversized header, pixel limit).
#include <catch2/catch.hpp>

#include <cmath>

#include "core/errors.h"
#include "data/image/image.h"
#include "data/image/image_encoders.h"

using namespace ff::data::image;
using fftest::img::Bytes;
using fftest::img::encode_png;
using fftest::img::PngSpec;

namespace {

DecodedImage dec(const Bytes& b, int channels, int64_t max_pixels = kDefaultMaxPixels) {
  DecodeOptions o;
  o.channels = channels;
  o.max_pixels = max_pixels;
  return decode_image(b.data(), b.size(), "t.png", o);
}

// 3x2 RGB: distinct values per pixel and channel.
const Bytes kRgb = {10, 20, 30, 40, 50, 60, 70, 80, 90, 255, 0, 128, 1, 2, 3, 200, 100, 50};

Bytes rgb_png(bool interlace = false) {
  PngSpec s;
  s.width = 3;
  s.height = 2;
  s.interlace = interlace;
  return encode_png(s, kRgb);
}

uint8_t luma(int r, int g, int b) {  // PIL's convert("L"), computed independently in double
  return static_cast<uint8_t>(std::floor(r * 0.299 + g * 0.587 + b * 0.114 + 0.5));
}

}  // namespace

TEST_CASE("png decodes 8-bit RGB exactly, as rgb, rgba and grayscale", "[image][png]") {
  Bytes file = rgb_png();
  REQUIRE(detect_format(file.data(), file.size()) == ImageFormat::Png);
  DecodedImage rgb = dec(file, 3);
  CHECK(rgb.height == 2);
  CHECK(rgb.width == 3);
  CHECK(rgb.channels == 3);
  CHECK(rgb.pixels == kRgb);

  DecodedImage rgba = dec(file, 4);
  REQUIRE(rgba.pixels.size() == 24);
  for (int i = 0; i < 6; ++i) {
    for (int c = 0; c < 3; ++c) CHECK(rgba.pixels[i * 4 + c] == kRgb[i * 3 + c]);
    CHECK(rgba.pixels[i * 4 + 3] == 255);
  }

  DecodedImage gray = dec(file, 1);
  REQUIRE(gray.pixels.size() == 6);
  for (int i = 0; i < 6; ++i)
    CHECK(gray.pixels[i] == luma(kRgb[i * 3], kRgb[i * 3 + 1], kRgb[i * 3 + 2]));
}

TEST_CASE("png interlaced (Adam7) gives the same pixels", "[image][png]") {
  // 9x9 so that every Adam7 pass has pixels.
  PngSpec s;
  s.width = 9;
  s.height = 9;
  s.interlace = true;
  Bytes px(9 * 9 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7 % 256);
  DecodedImage img = dec(encode_png(s, px), 3);
  CHECK(img.pixels == px);
}

TEST_CASE("png 8-bit gray replicates to rgb, gray+alpha keeps alpha in rgba", "[image][png]") {
  PngSpec s;
  s.width = 2;
  s.height = 1;
  s.color_type = PNG_COLOR_TYPE_GRAY;
  DecodedImage rgb = dec(encode_png(s, {7, 250}), 3);
  CHECK(rgb.pixels == Bytes{7, 7, 7, 250, 250, 250});
  DecodedImage g = dec(encode_png(s, {7, 250}), 1);
  CHECK(g.pixels == Bytes{7, 250});

  s.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  Bytes ga = {9, 100, 200, 0};
  CHECK(dec(encode_png(s, ga), 4).pixels == Bytes{9, 9, 9, 100, 200, 200, 200, 0});
  CHECK(dec(encode_png(s, ga), 1).pixels == Bytes{9, 200});  // alpha dropped, not composited
}

TEST_CASE("png 1-bit gray expands to 0 and 255", "[image][png]") {
  PngSpec s;
  s.width = 8;
  s.height = 1;
  s.color_type = PNG_COLOR_TYPE_GRAY;
  s.bit_depth = 1;
  DecodedImage g = dec(encode_png(s, {0xA5}), 1);  // 1010 0101
  CHECK(g.pixels == Bytes{255, 0, 255, 0, 0, 255, 0, 255});
}

TEST_CASE("png 16-bit samples scale to 8 bits", "[image][png]") {
  PngSpec s;
  s.width = 3;
  s.height = 1;
  s.color_type = PNG_COLOR_TYPE_GRAY;
  s.bit_depth = 16;
  // 0xFFFF -> 255, 0x8080 -> 128 (exactly 0x8080 * 255 / 65535), 0x0000 -> 0.
  DecodedImage g = dec(encode_png(s, {0xFF, 0xFF, 0x80, 0x80, 0x00, 0x00}), 1);
  CHECK(g.pixels == Bytes{255, 128, 0});
}

TEST_CASE("png palette with tRNS: colors, and alpha only when asked for", "[image][png]") {
  PngSpec s;
  s.width = 4;
  s.height = 1;
  s.color_type = PNG_COLOR_TYPE_PALETTE;
  s.bit_depth = 2;
  s.palette = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 8, 7}};
  s.trns = {0, 128};  // index 0 transparent, index 1 half
  Bytes file = encode_png(s, {0x1B});  // indices 0 1 2 3
  CHECK(dec(file, 3).pixels == Bytes{255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 8, 7});
  CHECK(dec(file, 4).pixels ==
        Bytes{255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 9, 8, 7, 255});
}

TEST_CASE("png errors name the file and the problem", "[image][png][errors]") {
  Bytes file = rgb_png();
  SECTION("truncated") {
    Bytes cut(file.begin(), file.begin() + static_cast<long>(file.size() / 2));
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError,
                         Catch::Contains("t.png as PNG"));
  }
  SECTION("only the signature") {
    Bytes cut(file.begin(), file.begin() + 8);
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError, Catch::Contains("truncated"));
  }
  SECTION("bad IHDR CRC") {
    Bytes bad = file;
    bad[8 + 4 + 4 + 13] ^= 0xFF;  // first byte of IHDR's CRC
    FF_CHECK_THROWS(dec(bad, 3), ff::ValueError, Catch::Contains("CRC"));
  }
  SECTION("corrupt image data") {
    Bytes bad = file;
    for (size_t i = 45; i < bad.size() - 12; ++i) bad[i] ^= 0x5A;
    CHECK_THROWS_AS(dec(bad, 3), ff::ValueError);
  }
  SECTION("a 60000x60000 header is refused before allocating") {
    PngSpec s;
    s.width = 60000;
    s.height = 60000;
    s.header_only = true;
    FF_CHECK_THROWS(dec(encode_png(s, {}), 3), ff::ValueError,
                         Catch::Contains("60000x60000") &&
                             Catch::Contains("over the limit of 178956970 pixels"));
  }
  SECTION("the pixel limit is configurable") {
    FF_CHECK_THROWS(dec(file, 3, 5), ff::ValueError,
                         Catch::Contains("limit of 5 pixels"));
    CHECK(dec(file, 3, 6).pixels == kRgb);
  }
}
