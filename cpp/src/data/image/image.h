// Image decoding for the image-folder pipeline: the decoded-image type, format detection from
// the file's first bytes (never the extension), one decoder per format (jpeg.cpp: libjpeg-turbo,
// png.cpp: libpng, gif.cpp: giflib, bmp.cpp: stb_image) and the channel conversions
// (color.cpp). Every decoder checks the size declared in the file against a pixel limit before
// allocating anything, and reports a malformed file as ff::ValueError naming the file and the
// problem. Decoded pixels are uint8, row-major H x W x C.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ff::data::image {

enum class ImageFormat { Unknown, Jpeg, Png, Gif, Bmp };

// From the first bytes: JPEG FF D8 FF, PNG's 8-byte signature, "GIF87a"/"GIF89a", BMP "BM".
ImageFormat detect_format(const uint8_t* data, size_t size);
std::string format_name(ImageFormat f);  // "JPEG", "PNG", "GIF", "BMP", "unknown"

// PIL's Image.MAX_IMAGE_PIXELS: larger images are refused before any allocation.
constexpr int64_t kDefaultMaxPixels = 178956970;

struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  int channels = 0;  // 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;  // height * width * channels
};

// What the caller wants out of a decode.
struct DecodeOptions {
  // 1 (grayscale), 3 (rgb) or 4 (rgba): the output is converted to this many channels.
  int channels = 3;
  int64_t max_pixels = kDefaultMaxPixels;
  // JPEG only: when set, the JPEG is decoded at 1/8, 1/4 or 1/2 of its size (libjpeg-turbo's
  // DCT scaling, as PIL's draft() does), the smallest of these for which large_enough(height,
  // width) of the reduced image is true; full size when none is. The resize plan supplies it
  // (the reduced image, or its crop box, must still cover the target size).
  std::function<bool(int64_t height, int64_t width)> large_enough;
};

// Decodes an in-memory file (format detected from its bytes). `name` (usually the path) is
// used in error messages only. Throws ff::ValueError for anything that cannot be decoded.
DecodedImage decode_image(const uint8_t* data, size_t size, const std::string& name,
                          const DecodeOptions& options);
// Reads the whole file and decodes it (ValueError if it cannot be opened or read).
DecodedImage decode_image_file(const std::string& path, const DecodeOptions& options);

// The per-format decoders (called by decode_image after detection). Each returns the file's
// native channel count (1, 2, 3 or 4) unless it could produce `options.channels` directly;
// decode_image converts the result with convert_channels.
DecodedImage decode_jpeg(const uint8_t* data, size_t size, const std::string& name,
                         const DecodeOptions& options);
DecodedImage decode_png(const uint8_t* data, size_t size, const std::string& name,
                        const DecodeOptions& options);
DecodedImage decode_gif(const uint8_t* data, size_t size, const std::string& name,
                        const DecodeOptions& options);
DecodedImage decode_bmp(const uint8_t* data, size_t size, const std::string& name,
                        const DecodeOptions& options);

// Raises ValueError when width x height is empty or over `max_pixels`; called by every decoder
// on the size read from the header, before allocating.
void check_image_size(int64_t width, int64_t height, int64_t max_pixels, const std::string& name,
                      ImageFormat format);

// Converts between 1 (gray), 2 (gray + alpha), 3 (RGB) and 4 (RGBA) channels, as
// tf.io.decode_image(channels=...) and PIL's convert() do: gray from color is the ITU-R 601-2
// luma L = 0.299 R + 0.587 G + 0.114 B (rounded), alpha is dropped without compositing, added
// alpha is 255, gray to color replicates the value.
void convert_channels(DecodedImage& img, int channels);

// "photo.jpg: " prefix + message, the form of every decode error.
[[noreturn]] void decode_error(const std::string& name, ImageFormat format, const std::string& what);

}  // namespace ff::data::image
