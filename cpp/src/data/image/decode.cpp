// Image decoding entry points: format detection from the file's magic bytes, dispatch to the
// per-format decoder, channel conversion, file reading (ImageFile: regular files only, never
// blocking), printable file names, and the shared size check / error form / memory reservation.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

int64_t pixel_bytes(int64_t height, int64_t width, int channels, int wanted) {
  const int64_t n = height * width;
  return n * channels + (channels != wanted ? n * wanted : 0);
}

void reserve_decode_memory(const DecodeOptions& options, int64_t height, int64_t width,
                           int64_t bytes) {
  if (options.reserve && !options.reserve(height, width, bytes)) throw DecodeDeferred();
}

std::string printable_path(const std::string& path) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(path.size());
  const auto* p = reinterpret_cast<const unsigned char*>(path.data());
  const size_t n = path.size();
  auto cont = [&](size_t at, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return at < n && p[at] >= lo && p[at] <= hi;
  };
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    size_t len = 0;  // length of a valid sequence starting here, 0 if none
    if (c >= 0x20 && c < 0x7F) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = cont(i + 1) ? 2 : 0;
    else if (c == 0xE0) len = cont(i + 1, 0xA0) && cont(i + 2) ? 3 : 0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
      len = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (c == 0xED) len = cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0;  // no surrogates
    else if (c == 0xF0) len = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c >= 0xF1 && c <= 0xF3) len = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c == 0xF4) len = cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    if (len == 0) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    } else {
      out.append(path, i, len);
      i += len;
    }
  }
  return out;
}

namespace {

std::string file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

[[noreturn]] void not_regular(const std::string& path, mode_t mode) {
  const std::string kind = file_kind(mode);
  throw ValueError(
      "Cannot read image file " + printable_path(path) + ": " +
      (kind == "not a regular file" ? kind : "it is " + kind + ", not a regular file"));
}

constexpr int64_t kMaxFileBytes = int64_t(1) << 31;

}  // namespace

ImageFile::ImageFile(const std::string& path) : path_(path) {
  // stat first: a device or FIFO is refused without being opened (opening one can block or
  // have side effects).
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw ValueError("Cannot open image file " + printable_path(path) + ": " +
                     std::strerror(errno));
  if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
  // O_NONBLOCK: if the path was replaced by a FIFO since the stat, open still returns at once.
  do {
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  } while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0)
    throw ValueError("Cannot open image file " + printable_path(path) + ": " +
                     std::strerror(errno));
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw ValueError("Cannot read image file " + printable_path(path) + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    not_regular(path, st.st_mode);
  }
  if (st.st_size > kMaxFileBytes) {
    ::close(fd_);
    throw ValueError("Cannot read image file " + printable_path(path) + ": it is " +
                     std::to_string(st.st_size) +
                     " bytes, over the limit of 2 GiB for one image file");
  }
  size_ = st.st_size;
}

ImageFile::~ImageFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<uint8_t> ImageFile::read() {
  std::vector<uint8_t> bytes(static_cast<size_t>(size_));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t k = ::read(fd_, bytes.data() + got, bytes.size() - got);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0)
      throw ValueError("Cannot read image file " + printable_path(path_) + ": " +
                       std::strerror(errno));
    if (k == 0)
      throw ValueError("Cannot read image file " + printable_path(path_) + ": short read (" +
                       std::to_string(got) + " of " + std::to_string(size_) +
                       " bytes; the file shrank while it was read)");
    got += static_cast<size_t>(k);
  }
  return bytes;
}

DecodedImage decode_image_file(const std::string& path, const DecodeOptions& options) {
  ImageFile file(path);
  std::vector<uint8_t> bytes = file.read();
  return decode_image(bytes.data(), bytes.size(), printable_path(path), options);
}

}  // namespace ff::data::image
