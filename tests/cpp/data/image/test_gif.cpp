// GIF decoding: palette colors, transparency, a frame smaller than the screen, interlacing, only
// the first frame of an animation, local color tables, and the error paths.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "data/image/image.h"
#include "data/image/image_encoders.h"

using namespace ff::data::image;
using fftest::img::Bytes;
using fftest::img::encode_gif;
using fftest::img::GifFrame;

namespace {

DecodedImage dec(const Bytes& b, int channels, int64_t max_pixels = kDefaultMaxPixels) {
  DecodeOptions o;
  o.channels = channels;
  o.max_pixels = max_pixels;
  return decode_image(b.data(), b.size(), "anim.gif", o);
}

const std::vector<GifColorType> kPalette = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};

GifFrame frame(int w, int h, Bytes idx, int left = 0, int top = 0) {
  GifFrame f;
  f.width = w;
  f.height = h;
  f.left = left;
  f.top = top;
  f.indices = std::move(idx);
  return f;
}

}  // namespace

TEST_CASE("gif decodes palette indices to colors", "[image][gif]") {
  Bytes file = encode_gif(2, 2, kPalette, {frame(2, 2, {0, 1, 2, 3})});
  REQUIRE(detect_format(file.data(), file.size()) == ImageFormat::Gif);
  DecodedImage rgb = dec(file, 3);
  CHECK(rgb.width == 2);
  CHECK(rgb.height == 2);
  CHECK(rgb.pixels == Bytes{255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30});
  CHECK(dec(file, 4).pixels ==
        Bytes{255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255});
  // Luma: 76, 150, 29, 18.
  CHECK(dec(file, 1).pixels == Bytes{76, 150, 29, 18});
}

TEST_CASE("gif transparent index is transparent black", "[image][gif]") {
  GifFrame f = frame(2, 1, {1, 3});
  f.transparent = 3;
  Bytes file = encode_gif(2, 1, kPalette, {f});
  CHECK(dec(file, 4).pixels == Bytes{0, 255, 0, 255, 0, 0, 0, 0});
  CHECK(dec(file, 3).pixels == Bytes{0, 255, 0, 0, 0, 0});
}

TEST_CASE("gif frame smaller than the screen lands at its offset", "[image][gif]") {
  Bytes file = encode_gif(3, 2, kPalette, {frame(1, 1, {2}, 1, 1)});
  DecodedImage img = dec(file, 4);
  CHECK(img.width == 3);
  CHECK(img.height == 2);
  Bytes want(3 * 2 * 4, 0);
  want[(1 * 3 + 1) * 4 + 2] = 255;
  want[(1 * 3 + 1) * 4 + 3] = 255;
  CHECK(img.pixels == want);
}

TEST_CASE("gif interlaced rows are put back in order", "[image][gif]") {
  Bytes idx(3 * 9);
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 3; ++x) idx[y * 3 + x] = static_cast<uint8_t>((y + x) % 4);
  GifFrame f = frame(3, 9, idx);
  f.interlace = true;
  DecodedImage img = dec(encode_gif(3, 9, kPalette, {f}), 3);
  for (int i = 0; i < 27; ++i) {
    const GifColorType& c = kPalette[idx[i]];
    CHECK(img.pixels[i * 3] == c.Red);
    CHECK(img.pixels[i * 3 + 1] == c.Green);
    CHECK(img.pixels[i * 3 + 2] == c.Blue);
  }
}

TEST_CASE("gif animation: only the first frame", "[image][gif]") {
  Bytes file = encode_gif(1, 1, kPalette, {frame(1, 1, {0}), frame(1, 1, {1}), frame(1, 1, {2})});
  CHECK(dec(file, 3).pixels == Bytes{255, 0, 0});
}

TEST_CASE("gif with a local color table only", "[image][gif]") {
  Bytes file = encode_gif(2, 1, kPalette, {frame(2, 1, {3, 0})}, /*global_palette=*/false);
  CHECK(dec(file, 3).pixels == Bytes{10, 20, 30, 255, 0, 0});
}

TEST_CASE("gif errors name the file and the problem", "[image][gif][errors]") {
  Bytes file = encode_gif(4, 4, kPalette, {frame(4, 4, Bytes(16, 1))});
  SECTION("truncated pixel data") {
    Bytes cut(file.begin(), file.end() - 6);
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError,
                         Catch::Contains("anim.gif as GIF"));
  }
  SECTION("header only") {
    Bytes cut(file.begin(), file.begin() + 8);
    FF_CHECK_THROWS(dec(cut, 3), ff::ValueError, Catch::Contains("anim.gif"));
  }
  SECTION("no frame before the terminator") {
    Bytes empty = encode_gif(4, 4, kPalette, {});
    FF_CHECK_THROWS(dec(empty, 3), ff::ValueError,
                         Catch::Contains("holds no image"));
  }
  SECTION("no color table") {
    Bytes none = file;
    none[10] &= 0x7F;  // clear the global color table flag: the table bytes become garbage
    CHECK_THROWS_AS(dec(none, 3), ff::ValueError);
  }
  SECTION("pixel limit") {
    FF_CHECK_THROWS(dec(file, 3, 15), ff::ValueError,
                         Catch::Contains("limit of 15 pixels"));
  }
  SECTION("a 60000x60000 screen is refused before allocating") {
    Bytes big = encode_gif(60000, 60000, kPalette, {frame(1, 1, {0})});
    FF_CHECK_THROWS(dec(big, 3), ff::ValueError,
                         Catch::Contains("60000x60000") &&
                             Catch::Contains("limit"));
  }
}
