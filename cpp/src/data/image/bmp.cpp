// BMP decoding through stb_image (Debian's libstb-dev; compiled here with only its BMP loader,
// all functions static to this file): 1/4/8-bit palette, 16/24/32-bit, top-down and bottom-up,
// bit-field masks, alpha when the file has an alpha mask. RLE-compressed BMPs are not supported
// by stb_image and are reported as such. The header's size is checked (stbi_info) before the
// pixels are allocated.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/errors.h"
#include "data/image/image.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_FAILURE_USERMSG
#define STBI_MAX_DIMENSIONS (1 << 24)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace ff::data::image {

namespace {

std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? std::string(r) : std::string("unknown error");
}

uint32_t le(const uint8_t* d, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | d[i];
  return v;
}

// stb_image reads past the end of a truncated file as zeros; an uncompressed BMP's pixel array
// has a known size (rows padded to 4 bytes), so a short file is reported here.
void check_complete(const uint8_t* d, size_t size, const std::string& name) {
  if (size < 26) decode_error(name, ImageFormat::Bmp, "the file is truncated (header)");
  const uint64_t offset = le(d + 10, 4);
  const uint32_t header = le(d + 14, 4);
  uint64_t w, h, bpp, compression = 0;
  if (header == 12) {  // BITMAPCOREHEADER
    w = le(d + 18, 2);
    h = le(d + 20, 2);
    bpp = le(d + 24, 2);
  } else {
    if (size < 34) decode_error(name, ImageFormat::Bmp, "the file is truncated (header)");
    w = static_cast<uint64_t>(std::abs(static_cast<int64_t>(static_cast<int32_t>(le(d + 18, 4)))));
    h = static_cast<uint64_t>(std::abs(static_cast<int64_t>(static_cast<int32_t>(le(d + 22, 4)))));
    bpp = le(d + 28, 2);
    compression = le(d + 30, 4);
  }
  if (compression != 0 && compression != 3 && compression != 6) return;  // RLE etc.: stb decides
  const uint64_t need = offset + (w * bpp + 31) / 32 * 4 * h;
  if (need > size)
    decode_error(name, ImageFormat::Bmp,
                 "the file is truncated: the header needs " + std::to_string(need) +
                     " bytes, the file has " + std::to_string(size));
}

}  // namespace

DecodedImage decode_bmp(const uint8_t* data, size_t size, const std::string& name,
                        const DecodeOptions& options) {
  if (size > static_cast<size_t>(INT32_MAX))
    decode_error(name, ImageFormat::Bmp, "the file is over 2 GiB");
  const int len = static_cast<int>(size);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &comp))
    decode_error(name, ImageFormat::Bmp, "bad header: " + stb_reason() + " (stb_image)");
  // stbi_info reports a top-down BMP's height as negative, as stored (stbi_load flips it).
  if (h < 0 && h != INT32_MIN) h = -h;
  check_image_size(w, h, options.max_pixels, name, ImageFormat::Bmp);
  check_complete(data, size, name);
  // stb_image's buffer, our copy of it, and the channel conversion.
  reserve_decode_memory(options, h, w,
                        int64_t(w) * h * comp + pixel_bytes(h, w, comp, options.channels));
  int w2 = 0, h2 = 0;
  comp = 0;
  stbi_uc* pixels = stbi_load_from_memory(data, len, &w2, &h2, &comp, 0);
  if (!pixels) decode_error(name, ImageFormat::Bmp, stb_reason() + " (stb_image)");
  struct Free {
    stbi_uc* p;
    ~Free() { stbi_image_free(p); }
  } guard{pixels};
  if (w2 != w || h2 != h || comp < 1 || comp > 4)
    decode_error(name, ImageFormat::Bmp, "inconsistent header (stb_image)");
  DecodedImage img;
  img.width = w;
  img.height = h;
  img.channels = comp;
  img.pixels.assign(pixels, pixels + static_cast<size_t>(w) * h * comp);
  return img;
}

}  // namespace ff::data::image
