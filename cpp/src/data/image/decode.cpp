// Image decoding entry points: format detection from the file's magic bytes, dispatch to the
// per-format decoder, channel conversion, file reading, and the shared size check / error form.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <sys/stat.h>

#include "core/errors.h"
#include "data/image/image.h"

namespace ff::data::image {

ImageFormat detect_format(const uint8_t* d, size_t n) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::Jpeg;
  if (n >= 8 && std::memcmp(d, kPng, 8) == 0) return ImageFormat::Png;
  if (n >= 6 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0))
    return ImageFormat::Gif;
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return ImageFormat::Bmp;
  return ImageFormat::Unknown;
}

std::string format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Png: return "PNG";
    case ImageFormat::Gif: return "GIF";
    case ImageFormat::Bmp: return "BMP";
    default: return "unknown";
  }
}

void decode_error(const std::string& name, ImageFormat format, const std::string& what) {
  std::string kind = format == ImageFormat::Unknown ? "" : " as " + format_name(format);
  throw ValueError("Cannot decode image file " + name + kind + ": " + what);
}

namespace {

// width * height as text, without overflow (headers give each side below 2^32).
std::string pixel_count(int64_t width, int64_t height) {
  if (width < (int64_t(1) << 32) && height < (int64_t(1) << 32))
    return std::to_string(static_cast<uint64_t>(width) * static_cast<uint64_t>(height));
  return "about " + std::to_string(static_cast<double>(width) * static_cast<double>(height));
}

}  // namespace

void check_image_size(int64_t width, int64_t height, int64_t max_pixels, const std::string& name,
                      ImageFormat format) {
  if (width <= 0 || height <= 0)
    decode_error(name, format, "the header gives an empty size " + std::to_string(width) + "x" +
                                   std::to_string(height));
  // Compared by division: width * height can overflow int64 for a hostile header.
  if (width > max_pixels / height)
    decode_error(name, format,
                 "the header gives a size of " + std::to_string(width) + "x" +
                     std::to_string(height) + " = " + pixel_count(width, height) +
                     " pixels, over the limit of " + std::to_string(max_pixels) +
                     " pixels (a guard against decompression bombs, as PIL's "
                     "MAX_IMAGE_PIXELS; the file may be corrupt)");
}

namespace {

std::string hex_prefix(const uint8_t* d, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n && i < 8; ++i) {
    if (i) s += ' ';
    s += kHex[d[i] >> 4];
    s += kHex[d[i] & 15];
  }
  return s;
}

}  // namespace

DecodedImage decode_image(const uint8_t* data, size_t size, const std::string& name,
                          const DecodeOptions& options) {
  if (options.channels != 1 && options.channels != 3 && options.channels != 4)
    throw ValueError("decode_image: channels must be 1 (grayscale), 3 (rgb) or 4 (rgba), received " +
                     std::to_string(options.channels));
  if (size == 0) decode_error(name, ImageFormat::Unknown, "the file is empty");
  ImageFormat format = detect_format(data, size);
  DecodedImage img;
  switch (format) {
    case ImageFormat::Jpeg: img = decode_jpeg(data, size, name, options); break;
    case ImageFormat::Png: img = decode_png(data, size, name, options); break;
    case ImageFormat::Gif: img = decode_gif(data, size, name, options); break;
    case ImageFormat::Bmp: img = decode_bmp(data, size, name, options); break;
    default:
      decode_error(name, format,
                   "not a JPEG, PNG, GIF or BMP file (the format is read from the file's first "
                   "bytes, not its extension; they are " + hex_prefix(data, size) + ")");
  }
  convert_channels(img, options.channels);
  return img;
}

DecodedImage decode_image_file(const std::string& path, const DecodeOptions& options) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f)
    throw ValueError("Cannot open image file " + path + ": " + std::strerror(errno));
  // One read of the whole file (its size from fstat), then a check that nothing was left.
  struct stat st;
  if (fstat(fileno(f.get()), &st) != 0 || !S_ISREG(st.st_mode))
    throw ValueError("Cannot read image file " + path + ": not a regular file");
  constexpr int64_t kMaxFileBytes = int64_t(1) << 31;
  if (st.st_size > kMaxFileBytes)
    throw ValueError("Cannot read image file " + path + ": it is " + std::to_string(st.st_size) +
                     " bytes, over the limit of 2 GiB for one image file");
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f.get());
  if (got != bytes.size() || std::ferror(f.get()))
    throw ValueError("Cannot read image file " + path + ": " +
                     (std::ferror(f.get()) ? std::strerror(errno) : "short read"));
  return decode_image(bytes.data(), bytes.size(), path, options);
}

}  // namespace ff::data::image
