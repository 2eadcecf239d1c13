// Format detection from the bytes (not the extension), decode_image_file, the channel
// conversions on their own, and the errors for unknown, empty and missing files.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "core/errors.h"
#include "data/image/image.h"
#include "data/image/image_encoders.h"

using namespace ff::data::image;
using fftest::img::Bytes;

TEST_CASE("image format comes from the magic bytes", "[image][decode]") {
  const Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xE0};
  const Bytes png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  const Bytes gif = {'G', 'I', 'F', '8', '9', 'a'};
  const Bytes gif87 = {'G', 'I', 'F', '8', '7', 'a'};
  const Bytes bmp = {'B', 'M', 0, 0};
  const Bytes text = {'h', 'e', 'l', 'l', 'o'};
  CHECK(detect_format(jpeg.data(), jpeg.size()) == ImageFormat::Jpeg);
  CHECK(detect_format(png.data(), png.size()) == ImageFormat::Png);
  CHECK(detect_format(gif.data(), gif.size()) == ImageFormat::Gif);
  CHECK(detect_format(gif87.data(), gif87.size()) == ImageFormat::Gif);
  CHECK(detect_format(bmp.data(), bmp.size()) == ImageFormat::Bmp);
  CHECK(detect_format(text.data(), text.size()) == ImageFormat::Unknown);
  CHECK(detect_format(png.data(), 7) == ImageFormat::Unknown);  // a cut signature
}

TEST_CASE("decode_image_file ignores the extension", "[image][decode]") {
  fftest::img::PngSpec s;
  s.width = 1;
  s.height = 1;
  fftest::img::TempDir tmp;
  const std::string path = tmp.path + "/really_a_png.jpg";
  fftest::img::write_file(path, fftest::img::encode_png(s, {1, 2, 3}));
  DecodeOptions o;
  DecodedImage img = decode_image_file(path, o);
  CHECK(img.pixels == Bytes{1, 2, 3});
}

TEST_CASE("decode errors: unknown format, empty, missing file, bad channels", "[image][decode][errors]") {
  DecodeOptions o;
  const Bytes text = {'h', 'e', 'l', 'l', 'o'};
  FF_CHECK_THROWS(decode_image(text.data(), text.size(), "notes.png", o), ff::ValueError,
                       Catch::Contains("notes.png") &&
                           Catch::Contains("not a JPEG, PNG, GIF or BMP file") &&
                           Catch::Contains("68 65 6c 6c 6f"));
  FF_CHECK_THROWS(decode_image(text.data(), 0, "empty.jpg", o), ff::ValueError,
                       Catch::Contains("empty.jpg") &&
                           Catch::Contains("empty"));
  FF_CHECK_THROWS(decode_image_file("/nonexistent/dir/x.png", o), ff::ValueError,
                       Catch::Contains("Cannot open image file /nonexistent/dir/x.png"));
  FF_CHECK_THROWS(decode_image_file("/tmp", o), ff::ValueError,
                       Catch::Contains("not a regular file"));
  o.channels = 2;
  FF_CHECK_THROWS(decode_image(text.data(), text.size(), "x", o), ff::ValueError,
                       Catch::Contains("channels must be 1 (grayscale), 3 (rgb) or 4"));
}

TEST_CASE("convert_channels between gray, gray+alpha, rgb and rgba", "[image][decode]") {
  DecodedImage img;
  img.height = 1;
  img.width = 2;
  img.channels = 4;
  img.pixels = {255, 255, 255, 0, 100, 50, 25, 200};
  DecodedImage g = img;
  convert_channels(g, 1);
  // White stays 255 exactly; (100, 50, 25): 29.9 + 29.35 + 2.85 = 62.1 -> 62.
  CHECK(g.pixels == Bytes{255, 62});
  DecodedImage rgb = img;
  convert_channels(rgb, 3);
  CHECK(rgb.pixels == Bytes{255, 255, 255, 100, 50, 25});
  DecodedImage back = g;
  convert_channels(back, 4);
  CHECK(back.pixels == Bytes{255, 255, 255, 255, 62, 62, 62, 255});
}
