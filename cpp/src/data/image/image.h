// Image decoding for the image-folder pipeline: the decoded-image type, format detection from
// the file's first bytes (never the extension), one decoder per format (jpeg.cpp: libjpeg-turbo,
// png.cpp: libpng, gif.cpp: giflib, bmp.cpp: stb_image) and the channel conversions
// (color.cpp). Every decoder checks the size declared in the file against a pixel limit before
// allocating anything, tells DecodeOptions::reserve how much memory the decode is about to hold
// (the decode memory budget, see load_images.h), and reports a malformed file as ff::ValueError
// naming the file and the problem. Decoded pixels are uint8, row-major H x W x C.
// File names are bytes (POSIX): they are opened as given and shown in messages through
// printable_path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
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
  // When set, each decoder calls it once, after reading the header and before allocating the
  // image, with the decoded size (after DCT scaling) and the bytes the decode holds at its peak
  // from then on: the pixels, the second buffer of a channel conversion, and the library's
  // whole-image buffers (a progressive JPEG's coefficients). Returning false stops the decode
  // with DecodeDeferred before anything large is allocated.
  std::function<bool(int64_t height, int64_t width, int64_t bytes)> reserve;
};

// Thrown by a decoder when DecodeOptions::reserve returned false (nothing large was allocated).
// Not a ValueError: the file is not at fault; the caller retries once it has the memory.
struct DecodeDeferred : std::exception {
  const char* what() const noexcept override {
    return "image decode deferred until its memory is reserved";
  }
};

// Bytes of height x width x `channels` pixels, plus the copy convert_channels makes when the
// decoder's `channels` differ from the `wanted` count. No overflow: sizes are checked first.
int64_t pixel_bytes(int64_t height, int64_t width, int channels, int wanted);
// Calls options.reserve (when set); throws DecodeDeferred when it refuses.
void reserve_decode_memory(const DecodeOptions& options, int64_t height, int64_t width,
                           int64_t bytes);

// The path as a message shows it: valid UTF-8 is kept; bytes that are not (a file name in
// Latin-1, say) and control characters are written \xNN, as Python's "backslashreplace" does.
std::string printable_path(const std::string& path);

// An image file opened for reading. Only regular files: the type is checked with stat() before
// opening (a device is never opened) and again with fstat() after an open with O_NONBLOCK (a
// FIFO swapped in meanwhile cannot block), so a FIFO, device, socket or directory named like an
// image is a ValueError naming it and what it is. Files over 2 GiB are refused.
class ImageFile {
 public:
  explicit ImageFile(const std::string& path);
  ~ImageFile();
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;
  int64_t size() const { return size_; }
  // The whole file (ValueError on a read error or when it is shorter than its size was).
  std::vector<uint8_t> read();

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// Decodes an in-memory file (format detected from its bytes). `name` (usually the path) is
// used in error messages only. Throws ff::ValueError for anything that cannot be decoded.
DecodedImage decode_image(const uint8_t* data, size_t size, const std::string& name,
                          const DecodeOptions& options);
// Reads the whole file (ImageFile) and decodes it; errors show the name by printable_path.
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
