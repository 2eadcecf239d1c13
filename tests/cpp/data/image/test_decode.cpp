// Format detection from the bytes (not the extension), decode_image_file, the channel
// conversions on their own, the errors for unknown, empty and missing files and for FIFOs and
// devices named like images (never blocking), printable names for non-UTF-8 paths, and each
// decoder's memory reservation (DecodeOptions::reserve) before it allocates.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <thread>

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

TEST_CASE("decode_image_file refuses a FIFO named like an image without blocking", "[image][decode][errors]") {
  fftest::img::TempDir tmp;
  const std::string fifo = tmp.path + "/x.png";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // A watchdog: should the decode block in open() (waiting for a writer, as fopen did), a
  // writer opened after a long grace period releases it and the test fails instead of hanging.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> watchdog_fired{false};
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (cv.wait_for(lock, std::chrono::seconds(60), [&] { return done; })) return;
    watchdog_fired = true;
    for (;;) {  // O_NONBLOCK: succeeds once a reader is waiting in open()
      int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) {
        ::close(fd);
        return;
      }
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      lock.lock();
      if (done) return;
    }
  });
  std::string message;
  try {
    decode_image_file(fifo, DecodeOptions{});
  } catch (const ff::ValueError& e) {
    message = e.what();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  CHECK_FALSE(watchdog_fired.load());
  CHECK_THAT(message, Catch::Contains("Cannot read image file " + fifo) &&
                          Catch::Contains("it is a FIFO (named pipe), not a regular file"));
}

TEST_CASE("decode_image_file refuses devices and directories by their kind", "[image][decode][errors]") {
  FF_CHECK_THROWS(decode_image_file("/dev/null", DecodeOptions{}), ff::ValueError,
                  Catch::Contains("/dev/null: it is a character device, not a regular file"));
  fftest::img::TempDir tmp;
  const std::string dir = tmp.path + "/folder.png";
  REQUIRE(mkdir(dir.c_str(), 0700) == 0);
  FF_CHECK_THROWS(decode_image_file(dir, DecodeOptions{}), ff::ValueError,
                  Catch::Contains("folder.png: it is a directory, not a regular file"));
}

TEST_CASE("printable_path escapes bytes that are not UTF-8", "[image][decode]") {
  CHECK(printable_path("/data/plain.png") == "/data/plain.png");
  CHECK(printable_path("/data/caf\xc3\xa9.png") == "/data/caf\xc3\xa9.png");  // UTF-8 kept
  CHECK(printable_path("/data/caf\xe9.png") == "/data/caf\\xe9.png");          // Latin-1 byte
  CHECK(printable_path("a\xff\xfe" "b") == "a\\xff\\xfeb");
  CHECK(printable_path("cut\xe2\x82") == "cut\\xe2\\x82");                     // truncated
  CHECK(printable_path("\xed\xa0\x80") == "\\xed\\xa0\\x80");                  // a surrogate
  CHECK(printable_path("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");             // 4 bytes
  CHECK(printable_path("new\nline") == "new\\x0aline");
}

TEST_CASE("a file whose name is not UTF-8 decodes, and errors show its name escaped", "[image][decode][errors]") {
  fftest::img::TempDir tmp;
  fftest::img::PngSpec s;
  s.width = 1;
  s.height = 1;
  const std::string good = tmp.path + "/img\xff.png";
  fftest::img::write_file(good, fftest::img::encode_png(s, {1, 2, 3}));
  CHECK(decode_image_file(good, DecodeOptions{}).pixels == Bytes{1, 2, 3});
  const std::string bad = tmp.path + "/bad\xe9.png";
  fftest::img::write_file(bad, Bytes{'n', 'o'});
  FF_CHECK_THROWS(decode_image_file(bad, DecodeOptions{}), ff::ValueError,
                  Catch::Contains(tmp.path + "/bad\\xe9.png") &&
                      Catch::Contains("not a JPEG, PNG, GIF or BMP"));
  FF_CHECK_THROWS(decode_image_file(tmp.path + "/gone\xfe.png", DecodeOptions{}), ff::ValueError,
                  Catch::Contains("Cannot open image file " + tmp.path + "/gone\\xfe.png"));
}

namespace {

// Decodes `file` asking for `channels` and records what the decoder reserved.
struct Reserved {
  int calls = 0;
  int64_t height = 0, width = 0, bytes = 0;
};

DecodedImage decode_recording(const Bytes& file, int channels, Reserved& r, bool refuse = false) {
  DecodeOptions o;
  o.channels = channels;
  o.reserve = [&r, refuse](int64_t h, int64_t w, int64_t bytes) {
    ++r.calls;
    r.height = h;
    r.width = w;
    r.bytes = bytes;
    return !refuse;
  };
  return decode_image(file.data(), file.size(), "file", o);
}

}  // namespace

TEST_CASE("every decoder reserves at least the pixels it allocates, before allocating", "[image][decode][budget]") {
  const int W = 40, H = 30;
  Bytes rgb(W * H * 3), gray(W * H), cmyk(W * H * 4);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < cmyk.size(); ++i) cmyk[i] = static_cast<uint8_t>(i * 3);
  fftest::img::PngSpec gray_spec;
  gray_spec.width = W;
  gray_spec.height = H;
  gray_spec.color_type = PNG_COLOR_TYPE_GRAY;
  std::vector<fftest::img::GifFrame> frames(1);
  frames[0].width = W;
  frames[0].height = H;
  frames[0].indices.assign(W * H, 1);
  struct Case {
    const char* name;
    Bytes file;
    int native;  // channels the decoder produces before decode_image converts them
    int64_t extra;  // whole-image library buffers the decode holds too
  };
  const std::vector<Case> cases = {
      {"png gray", fftest::img::encode_png(gray_spec, gray), 1, 0},
      {"jpeg rgb", fftest::img::encode_jpeg(W, H, JCS_RGB, 3, rgb), 3, 0},
      // A progressive JPEG buffers every DCT coefficient: 2 bytes per sample at least.
      {"jpeg progressive", fftest::img::encode_jpeg(W, H, JCS_RGB, 3, rgb, 90, true), 3, 2 * W * H},
      {"jpeg cmyk", fftest::img::encode_jpeg(W, H, JCS_CMYK, 4, cmyk), 4, 0},
      {"gif", fftest::img::encode_gif(W, H, {{0, 0, 0}, {9, 9, 9}}, frames), 4, 0},
      {"bmp", fftest::img::encode_bmp24(W, H, rgb), 3, W * H * 3},  // stb's buffer + our copy
  };
  for (const Case& c : cases) {
    for (int channels : {1, 3, 4}) {
      INFO(c.name << ", channels " << channels);
      Reserved r;
      DecodedImage img = decode_recording(c.file, channels, r);
      CHECK(r.calls == 1);
      CHECK(r.height == img.height);
      CHECK(r.width == img.width);
      // The decoder's own buffer (JPEG: it decodes to the wanted channels itself, CMYK
      // excepted), the converted copy, and the library's whole-image buffers.
      const int64_t n = img.height * img.width;
      const bool jpeg_direct = std::string(c.name).rfind("jpeg", 0) == 0 && c.native != 4;
      const int native = jpeg_direct ? channels : c.native;
      const int64_t expected = n * native + (native != channels ? n * channels : 0) + c.extra;
      CHECK(r.bytes >= expected);
      CHECK(static_cast<int64_t>(img.pixels.size()) == n * channels);
    }
    Reserved refused;
    CHECK_THROWS_AS(decode_recording(c.file, 3, refused, true), DecodeDeferred);
    CHECK(refused.calls == 1);
  }
  // A JPEG decoded at 1/8 of its size (DCT scaling) reserves for the reduced size.
  const Bytes jpeg = fftest::img::encode_jpeg(W, H, JCS_RGB, 3, rgb);
  DecodeOptions o;
  Reserved r;
  o.large_enough = [](int64_t, int64_t) { return true; };
  o.reserve = [&r](int64_t h, int64_t w, int64_t bytes) {
    r.height = h;
    r.width = w;
    r.bytes = bytes;
    return true;
  };
  DecodedImage small = decode_image(jpeg.data(), jpeg.size(), "photo", o);
  CHECK(small.height == 4);  // ceil(30 / 8)
  CHECK(small.width == 5);
  CHECK(r.height == 4);
  CHECK(r.width == 5);
  CHECK(r.bytes >= 4 * 5 * 3);
}
