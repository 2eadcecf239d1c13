// Test helpers: small in-memory image files written with the encoders of the same libraries the
// decoders use (libpng, libjpeg-turbo, giflib) and a hand-written 24-bit BMP, so every decode
// test states its pixels explicitly instead of relying on fixture files.
#pragma once
#include <gif_lib.h>
#include <png.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <jpeglib.h>

// Checks both the exception type and its message, evaluating `expr` once (Catch2 v2's
// CHECK_THROWS_MATCHES needs an exception matcher; this takes a string matcher).
#define FF_CHECK_THROWS(expr, type, matcher)                                 \
  do {                                                                       \
    try {                                                                    \
      (void)(expr);                                                          \
      FAIL_CHECK("expected " #type " from " #expr ", nothing was thrown");   \
    } catch (const type& ff_thrown_) {                                       \
      CHECK_THAT(std::string(ff_thrown_.what()), matcher);                   \
    }                                                                        \
  } while (0)

namespace fftest::img {

using Bytes = std::vector<uint8_t>;

inline void png_append(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
inline void png_flush_noop(png_structp) {}

struct PngSpec {
  uint32_t width = 0, height = 0;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlace = false;
  std::vector<png_color> palette;  // PNG_COLOR_TYPE_PALETTE
  std::vector<uint8_t> trns;       // palette alpha values (tRNS)
  bool header_only = false;        // stop after IHDR (for size-limit tests)
};

// `rows`: packed row bytes exactly as PNG stores them (16-bit samples big-endian, low bit
// depths packed MSB first), height * rowbytes.
inline Bytes encode_png(const PngSpec& s, const Bytes& rows) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("encode_png failed");
  }
  png_set_write_fn(png, &out, png_append, png_flush_noop);
  png_set_IHDR(png, info, s.width, s.height, s.bit_depth, s.color_type,
               s.interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!s.palette.empty())
    png_set_PLTE(png, info, s.palette.data(), static_cast<int>(s.palette.size()));
  if (!s.trns.empty())
    png_set_tRNS(png, info, s.trns.data(), static_cast<int>(s.trns.size()), nullptr);
  png_write_info(png, info);
  if (!s.header_only) {
    const size_t rowbytes = png_get_rowbytes(png, info);
    std::vector<png_bytep> ptrs(s.height);
    for (uint32_t y = 0; y < s.height; ++y)
      ptrs[y] = const_cast<png_bytep>(rows.data() + y * rowbytes);
    png_write_image(png, ptrs.data());
    png_write_end(png, info);
  }
  png_destroy_write_struct(&png, &info);
  return out;
}

// `pixels`: height * width * components bytes in `space` (JCS_RGB, JCS_GRAYSCALE, JCS_CMYK).
inline Bytes encode_jpeg(int width, int height, J_COLOR_SPACE space, int components,
                         const Bytes& pixels, int quality = 100, bool progressive = false) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = width;
  c.image_height = height;
  c.input_components = components;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + c.next_scanline * width * components);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  Bytes out(buf, buf + size);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return out;
}

inline int gif_append(GifFileType* gif, const GifByteType* data, int n) {
  auto* out = static_cast<Bytes*>(gif->UserData);
  out->insert(out->end(), data, data + n);
  return n;
}

struct GifFrame {
  int left = 0, top = 0, width = 0, height = 0;
  bool interlace = false;
  int transparent = -1;  // GCE transparent index
  Bytes indices;         // height * width, rows top to bottom
};

// One global palette of `colors` (RGB triples; padded to a power of two), then the frames.
inline Bytes encode_gif(int screen_w, int screen_h, const std::vector<GifColorType>& colors,
                        const std::vector<GifFrame>& frames, bool global_palette = true) {
  Bytes out;
  int err = 0;
  GifFileType* gif = EGifOpen(&out, gif_append, &err);
  if (!gif) throw std::runtime_error("EGifOpen failed");
  EGifSetGifVersion(gif, true);
  int n = 2;
  while (n < static_cast<int>(colors.size())) n *= 2;
  std::vector<GifColorType> padded(colors);
  padded.resize(n, GifColorType{0, 0, 0});
  ColorMapObject* map = GifMakeMapObject(n, padded.data());
  EGifPutScreenDesc(gif, screen_w, screen_h, 8, 0, global_palette ? map : nullptr);
  for (const GifFrame& f : frames) {
    if (f.transparent >= 0) {
      GraphicsControlBlock gcb{};
      gcb.DisposalMode = DISPOSAL_UNSPECIFIED;
      gcb.DelayTime = 0;
      gcb.TransparentColor = f.transparent;
      GifByteType ext[4];
      size_t len = EGifGCBToExtension(&gcb, ext);
      EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(len), ext);
    }
    EGifPutImageDesc(gif, f.left, f.top, f.width, f.height, f.interlace,
                     global_palette ? nullptr : map);
    std::vector<int> order;
    if (f.interlace) {
      const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
      for (int p = 0; p < 4; ++p)
        for (int y = start[p]; y < f.height; y += step[p]) order.push_back(y);
    } else {
      for (int y = 0; y < f.height; ++y) order.push_back(y);
    }
    for (int y : order)
      EGifPutLine(gif, const_cast<GifPixelType*>(f.indices.data() + y * f.width), f.width);
  }
  EGifCloseFile(gif, &err);
  GifFreeMapObject(map);
  return out;
}

inline void put_le(Bytes& b, uint32_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// An uncompressed 24-bit bottom-up BMP of `rgb` (height * width * 3, rows top to bottom).
// `header_w`/`header_h` override the sizes written in the header (0: the real ones).
inline Bytes encode_bmp24(int width, int height, const Bytes& rgb, int header_w = 0,
                          int header_h = 0) {
  const int row = (width * 3 + 3) & ~3;
  Bytes b = {'B', 'M'};
  put_le(b, 54 + row * height, 4);
  put_le(b, 0, 4);
  put_le(b, 54, 4);
  put_le(b, 40, 4);
  put_le(b, static_cast<uint32_t>(header_w ? header_w : width), 4);
  put_le(b, static_cast<uint32_t>(header_h ? header_h : height), 4);
  put_le(b, 1, 2);
  put_le(b, 24, 2);
  put_le(b, 0, 4);
  put_le(b, row * height, 4);
  put_le(b, 2835, 4);
  put_le(b, 2835, 4);
  put_le(b, 0, 4);
  put_le(b, 0, 4);
  for (int y = height - 1; y >= 0; --y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* p = &rgb[(y * width + x) * 3];
      b.push_back(p[2]);
      b.push_back(p[1]);
      b.push_back(p[0]);
    }
    for (int k = width * 3; k < row; ++k) b.push_back(0);
  }
  return b;
}

// A fresh folder under /tmp, removed with everything in it when the test ends.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ff_img_test_XXXXXX";
    const char* p = mkdtemp(tmpl);
    if (!p) throw std::runtime_error("mkdtemp failed");
    path = p;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Writes bytes to a file (for the decode_image_file and dataset tests).
inline void write_file(const std::string& path, const Bytes& b) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

}  // namespace fftest::img
