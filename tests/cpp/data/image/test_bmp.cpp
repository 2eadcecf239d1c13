// BMP decoding (stb_image): a 24-bit bottom-up file with row padding, the channel conversions,
// and the error paths (truncated, oversized header, pixel limit).
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "data/image/image.h"
#include "data/image/image_encoders.h"

using namespace ff::data::image;
using fftest::img::Bytes;
using fftest::img::encode_bmp24;

namespace {

DecodedImage dec(const Bytes& b, int channels, int64_t max_pixels = kDefaultMaxPixels) {
  DecodeOptions o;
  o.channels = channels;
  o.max_pixels = max_pixels;
  return decode_image(b.data(), b.size(), "scan.bmp", o);
}

// 3x2 (row stride 9 -> padded to 12 bytes).
const Bytes kRgb = {10, 20, 30, 40, 50, 60, 70, 80, 90, 255, 0, 128, 1, 2, 3, 200, 100, 50};

}  // namespace

TEST_CASE("bmp 24-bit bottom-up with padding decodes exactly", "[image][bmp]") {
  Bytes file = encode_bmp24(3, 2, kRgb);
  REQUIRE(detect_format(file.data(), file.size()) == ImageFormat::Bmp);
  DecodedImage rgb = dec(file, 3);
  CHECK(rgb.width == 3);
  CHECK(rgb.height == 2);
  CHECK(rgb.pixels == kRgb);
  DecodedImage rgba = dec(file, 4);
  for (int i = 0; i < 6; ++i) CHECK(rgba.pixels[i * 4 + 3] == 255);
  CHECK(dec(file, 1).pixels[0] == 18);  // luma of (10, 20, 30) = 18.65, PIL rounds to 18
}

TEST_CASE("bmp errors name the file and the problem", "[image][bmp][errors]") {
  Bytes file = encode_bmp24(3, 2, kRgb);
  SECTION("truncated pixels") {
    Bytes cut(file.begin(), file.end() - 10);
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError, Catch::Contains("scan.bmp as BMP"));
  }
  SECTION("truncated header") {
    Bytes cut(file.begin(), file.begin() + 20);
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError, Catch::Contains("scan.bmp"));
  }
  SECTION("a 60000x60000 header is refused before allocating") {
    Bytes big = encode_bmp24(3, 2, kRgb, 60000, 60000);
    FF_CHECK_THROWS(dec(big, 3), ff::ValueError,
                         Catch::Contains("60000x60000") &&
                             Catch::Contains("limit"));
  }
  SECTION("pixel limit") {
    FF_CHECK_THROWS(dec(file, 3, 5), ff::ValueError,
                         Catch::Contains("limit of 5 pixels"));
  }
}
