// PNG decoding through libpng: 1/2/4/8/16-bit gray, gray + alpha, RGB, RGBA and palette images,
// tRNS transparency (expanded to alpha when an alpha channel is wanted), Adam7 interlacing.
// 16-bit samples are scaled to 8 bits with libpng's png_set_scale_16 (round(v * 255 / 65535)).
// gAMA/iCCP are ignored, as in TensorFlow and PIL. The first frame of an APNG is its default
// image. libpng reports errors through a longjmp back to run_decode(), whose frame holds no C++
// object with a destructor (every C++ object lives in decode_png).
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "core/errors.h"
#include "data/image/image.h"

namespace ff::data::image {

namespace {

struct PngContext {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  char message[256] = {0};
};

void on_error(png_structp png, png_const_charp msg) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof ctx->message, "%s (libpng)", msg ? msg : "error");
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_read(png_structp png, png_bytep out, png_size_t n) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (n > ctx->size - ctx->pos) {
    std::snprintf(ctx->message, sizeof ctx->message,
                  "the file is truncated (libpng asked for %zu bytes at offset %zu of %zu)",
                  static_cast<size_t>(n), ctx->pos, ctx->size);
    png_longjmp(png, 1);
  }
  std::memcpy(out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

struct Steps {
  // Called with the header read and the transforms set; false (message stored) stops.
  bool (*after_header)(PngContext*, void*, png_uint_32 w, png_uint_32 h);
  // Sizes the output for `channels` and returns the row pointers (nullptr: stop).
  png_bytepp (*allocate)(PngContext*, void*, int channels);
  void* user;
  int want_channels;
};

int run_decode(PngContext* ctx, const Steps* steps) {
  png_structp png = ctx->png;
  png_infop info = ctx->info;
  if (setjmp(png_jmpbuf(png))) return 1;
  png_set_read_fn(png, ctx, on_read);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, &interlace, nullptr, nullptr);
  if (!steps->after_header(ctx, steps->user, w, h)) return 2;
  const bool want_alpha = steps->want_channels == 4;
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (want_alpha && png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16) png_set_scale_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(w) * channels) {
    std::snprintf(ctx->message, sizeof ctx->message, "unexpected row size after conversion");
    return 1;
  }
  png_bytepp rows = steps->allocate(ctx, steps->user, channels);
  if (!rows) return 2;
  png_read_image(png, rows);
  return 0;
}

struct DecodeState {
  const std::string* name;
  const DecodeOptions* options;
  DecodedImage* out;
  std::vector<png_bytep> rows;
  std::string error;
  bool deferred = false;  // options->reserve refused: DecodeDeferred once libpng is released
};

bool after_header(PngContext*, void* user, png_uint_32 w, png_uint_32 h) {
  auto* st = static_cast<DecodeState*>(user);
  try {
    check_image_size(w, h, st->options->max_pixels, *st->name, ImageFormat::Png);
  } catch (const ValueError& e) {
    st->error = e.what();
    return false;
  }
  st->out->width = w;
  st->out->height = h;
  return true;
}

png_bytepp allocate(PngContext*, void* user, int channels) {
  auto* st = static_cast<DecodeState*>(user);
  try {
    DecodedImage& img = *st->out;
    // The pixels (and the copy a channel conversion makes), the row pointers, and libpng's own
    // row buffers (at most a few rows of 16-bit RGBA).
    reserve_decode_memory(*st->options, img.height, img.width,
                          pixel_bytes(img.height, img.width, channels, st->options->channels) +
                              img.height * static_cast<int64_t>(sizeof(png_bytep)) +
                              4 * (img.width * 8 + 1));
    img.channels = channels;
    img.pixels.resize(static_cast<size_t>(img.height * img.width) * channels);
    st->rows.resize(static_cast<size_t>(img.height));
    for (int64_t y = 0; y < img.height; ++y)
      st->rows[y] = img.pixels.data() + static_cast<size_t>(y * img.width) * channels;
  } catch (const DecodeDeferred&) {
    st->deferred = true;
    return nullptr;
  } catch (const std::exception& e) {
    st->error = std::string("out of memory for the decoded image (") + e.what() + ")";
    return nullptr;
  }
  return st->rows.data();
}

}  // namespace

DecodedImage decode_png(const uint8_t* data, size_t size, const std::string& name,
                        const DecodeOptions& options) {
  // IHDR must be the first chunk: check its size before libpng reads further (a header-only
  // file with a huge size must report the size, not the missing data).
  if (size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
    auto be32 = [&](size_t at) {
      return (uint32_t(data[at]) << 24) | (uint32_t(data[at + 1]) << 16) |
             (uint32_t(data[at + 2]) << 8) | uint32_t(data[at + 3]);
    };
    check_image_size(be32(16), be32(20), options.max_pixels, name, ImageFormat::Png);
  }
  DecodedImage img;
  DecodeState st{&name, &options, &img, {}, {}, false};
  PngContext ctx;
  ctx.data = data;
  ctx.size = size;
  ctx.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (!ctx.png) decode_error(name, ImageFormat::Png, "libpng could not start (out of memory)");
  ctx.info = png_create_info_struct(ctx.png);
  if (!ctx.info) {
    png_destroy_read_struct(&ctx.png, nullptr, nullptr);
    decode_error(name, ImageFormat::Png, "libpng could not start (out of memory)");
  }
  Steps steps{after_header, allocate, &st, options.channels};
  int rc = run_decode(&ctx, &steps);
  png_destroy_read_struct(&ctx.png, &ctx.info, nullptr);
  if (st.deferred) throw DecodeDeferred();
  if (rc == 2) {
    if (st.error.rfind("Cannot decode", 0) == 0) throw ValueError(st.error);
    decode_error(name, ImageFormat::Png, st.error);
  }
  if (rc != 0) decode_error(name, ImageFormat::Png, ctx.message);
  return img;
}

}  // namespace ff::data::image
