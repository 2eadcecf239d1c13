// Channel conversions between gray (1), gray + alpha (2), RGB (3) and RGBA (4), as
// tf.io.decode_image(channels=...) and PIL's convert("L"/"RGB"/"RGBA") do: luma by ITU-R 601-2
// (PIL's and tf.image.rgb_to_grayscale's weights), alpha dropped without compositing, a new
// alpha channel opaque (255).
#include "core/errors.h"
#include "data/image/image.h"

namespace ff::data::image {

namespace {

// PIL's L = R * 299/1000 + G * 587/1000 + B * 114/1000, in fixed point with rounding
// (weights scaled by 2^16: 19595 + 38470 + 7471 = 65536, so white stays 255).
inline uint8_t luma(uint8_t r, uint8_t g, uint8_t b) {
  return static_cast<uint8_t>((r * 19595u + g * 38470u + b * 7471u + 32768u) >> 16);
}

}  // namespace

void convert_channels(DecodedImage& img, int channels) {
  const int from = img.channels;
  if (from == channels) return;
  if (from < 1 || from > 4 || channels < 1 || channels > 4)
    throw ValueError("convert_channels: channel counts must be 1 to 4, received " +
                     std::to_string(from) + " -> " + std::to_string(channels));
  const size_t n = static_cast<size_t>(img.height * img.width);
  std::vector<uint8_t> out(n * static_cast<size_t>(channels));
  const uint8_t* s = img.pixels.data();
  uint8_t* d = out.data();
  for (size_t i = 0; i < n; ++i, s += from, d += channels) {
    uint8_t r, g, b, a;
    if (from <= 2) {
      r = g = b = s[0];
      a = from == 2 ? s[1] : 255;
    } else {
      r = s[0];
      g = s[1];
      b = s[2];
      a = from == 4 ? s[3] : 255;
    }
    switch (channels) {
      case 1: d[0] = from <= 2 ? r : luma(r, g, b); break;
      case 2: d[0] = from <= 2 ? r : luma(r, g, b); d[1] = a; break;
      case 3: d[0] = r; d[1] = g; d[2] = b; break;
      default: d[0] = r; d[1] = g; d[2] = b; d[3] = a; break;
    }
  }
  img.pixels.swap(out);
  img.channels = channels;
}

}  // namespace ff::data::image
