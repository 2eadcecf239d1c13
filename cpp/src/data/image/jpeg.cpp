// JPEG decoding through libjpeg-turbo (libjpeg API, SIMD IDCT and color conversion).
// - DCT scaling: when DecodeOptions::large_enough is set, the image is decoded at 1/8, 1/4 or
//   1/2 size (the smallest that is still large enough for the resize that follows), as PIL's
//   Image.draft() does. It saves the inverse DCT, upsampling and color conversion of the skipped
//   pixels (the entropy decoding still reads every coefficient), and the resize works on a
//   smaller image. The reduced image is a box-filtered version of the full one, so a following
//   downscale is slightly smoother (better antialiased) than Keras's, which always decodes at
//   full size (a textured 640x480 photo resized to 224x224: mean absolute difference 3 levels
//   of 255, at most about 24).
// - DCT method JDCT_IFAST and fancy upsampling, TensorFlow's decode_jpeg defaults (Keras's
//   image_dataset_from_directory decodes with those), so values are close to Keras's.
// - Grayscale output is libjpeg's luma (the Y channel); CMYK/YCCK files (Adobe) are converted to
//   RGB as PIL does.
// - A truncated file (libjpeg's "Premature end of JPEG file") is an error, as in TensorFlow and
//   PIL; libjpeg's other warnings (extraneous bytes, corrupt data segments) are not.
// libjpeg reports errors through error_exit, which must not return: it longjmps back to
// run_decode(), whose frame holds no C++ object with a destructor (every C++ object lives in the
// caller, decode_jpeg).
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>

#include "core/errors.h"
#include "data/image/image.h"

namespace ff::data::image {

namespace {

constexpr int kMaxScans = 1000;  // a progressive file with more scans is refused (DoS guard)

struct JpegContext {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  jpeg_progress_mgr progress;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
  bool created = false;
};

[[noreturn]] void on_error_exit(j_common_ptr c) {
  auto* ctx = reinterpret_cast<JpegContext*>(c->client_data);
  (*c->err->format_message)(c, ctx->message);
  std::longjmp(ctx->jump, 1);
}

void on_emit_message(j_common_ptr c, int level) {
  if (level >= 0) return;  // trace messages
  if (c->err->msg_code == JWRN_JPEG_EOF) {
    auto* ctx = reinterpret_cast<JpegContext*>(c->client_data);
    std::snprintf(ctx->message, sizeof ctx->message,
                  "the file is truncated (libjpeg: premature end of JPEG file)");
    std::longjmp(ctx->jump, 1);
  }
  c->err->num_warnings++;
}

void on_output_message(j_common_ptr) {}

void on_progress(j_common_ptr c) {
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number > kMaxScans) {
    auto* ctx = reinterpret_cast<JpegContext*>(c->client_data);
    std::snprintf(ctx->message, sizeof ctx->message,
                  "the file has more than %d progressive scans (refused as a likely corrupt or "
                  "hostile file)", kMaxScans);
    std::longjmp(ctx->jump, 1);
  }
}

// The steps between setjmp and the end of decoding. `prepare` is called with the header read
// and returns false (having stored a message) to stop; `allocate` sizes the output. Both are
// plain function pointers into decode_jpeg's state, so this frame stays free of C++ objects.
struct Steps {
  bool (*after_header)(JpegContext*, void*);
  uint8_t* (*allocate)(JpegContext*, void*);
  void* user;
};

int run_decode(JpegContext* ctx, const uint8_t* data, size_t size, const Steps* steps) {
  if (setjmp(ctx->jump)) return 1;
  jpeg_create_decompress(&ctx->cinfo);
  ctx->created = true;
  ctx->cinfo.client_data = ctx;
  ctx->cinfo.progress = &ctx->progress;
  jpeg_mem_src(&ctx->cinfo, data, static_cast<unsigned long>(size));
  if (jpeg_read_header(&ctx->cinfo, TRUE) != JPEG_HEADER_OK) {
    std::snprintf(ctx->message, sizeof ctx->message, "no image in the file (tables only)");
    return 1;
  }
  if (!steps->after_header(ctx, steps->user)) return 2;
  jpeg_start_decompress(&ctx->cinfo);
  uint8_t* out = steps->allocate(ctx, steps->user);
  if (!out) return 2;
  const size_t row_bytes =
      static_cast<size_t>(ctx->cinfo.output_width) * ctx->cinfo.output_components;
  while (ctx->cinfo.output_scanline < ctx->cinfo.output_height) {
    JSAMPROW rows[16];
    JDIMENSION first = ctx->cinfo.output_scanline;
    JDIMENSION n = ctx->cinfo.output_height - first;
    if (n > 16) n = 16;
    for (JDIMENSION i = 0; i < n; ++i) rows[i] = out + (first + i) * row_bytes;
    if (jpeg_read_scanlines(&ctx->cinfo, rows, n) == 0) {
      std::snprintf(ctx->message, sizeof ctx->message, "libjpeg returned no scanline");
      return 1;
    }
  }
  // No jpeg_finish_decompress: what follows the last scan (markers, trailing bytes) does not
  // change the pixels; jpeg_destroy_decompress releases everything.
  return 0;
}

struct DecodeState {
  const std::string* name;
  const DecodeOptions* options;
  DecodedImage* out;
  bool cmyk = false;
  bool deferred = false;  // options->reserve refused: DecodeDeferred once libjpeg is released
  std::string error;  // set by the callbacks before they return false / nullptr
};

// What the decode holds from jpeg_start_decompress on, for DecodeOptions::reserve: the output
// pixels (at the scaled size), the RGB copy of a CMYK file and the channel conversion after it,
// the whole-image coefficient buffer of a multi-scan (progressive) file (full size whatever the
// scaling, as libjpeg's jdcoefct.c sizes it), and a margin for libjpeg's row buffers.
int64_t jpeg_decode_bytes(jpeg_decompress_struct& ci, bool cmyk, int wanted) {
  const int64_t h = ci.output_height, w = ci.output_width;
  int64_t bytes = cmyk ? h * w * 4 + pixel_bytes(h, w, 3, wanted)
                       : pixel_bytes(h, w, ci.output_components, wanted);
  if (ci.progressive_mode || ci.comps_in_scan < ci.num_components) {
    for (int c = 0; c < ci.num_components; ++c) {
      const jpeg_component_info& comp = ci.comp_info[c];
      auto round_up = [](int64_t v, int64_t m) { return (v + m - 1) / m * m; };
      bytes += round_up(comp.width_in_blocks, comp.h_samp_factor) *
               round_up(comp.height_in_blocks, comp.v_samp_factor) *
               static_cast<int64_t>(sizeof(JBLOCK));
    }
  }
  return bytes + 32 * static_cast<int64_t>(ci.image_width) * ci.num_components + 65536;
}

bool after_header(JpegContext* ctx, void* user) {
  auto* st = static_cast<DecodeState*>(user);
  jpeg_decompress_struct& ci = ctx->cinfo;
  try {
    check_image_size(ci.image_width, ci.image_height, st->options->max_pixels, *st->name,
                     ImageFormat::Jpeg);
  } catch (const ValueError& e) {
    st->error = e.what();
    return false;
  }
  const int want = st->options->channels;
  if (ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK) {
    ci.out_color_space = JCS_CMYK;
    st->cmyk = true;
  } else if (want == 1) {
    ci.out_color_space = JCS_GRAYSCALE;
  } else if (want == 4) {
    ci.out_color_space = JCS_EXT_RGBA;
  } else {
    ci.out_color_space = JCS_RGB;
  }
  ci.dct_method = JDCT_IFAST;
  ci.do_fancy_upsampling = TRUE;
  ci.scale_num = 1;
  ci.scale_denom = 1;
  if (st->options->large_enough) {
    for (unsigned s : {8u, 4u, 2u}) {
      int64_t h = (static_cast<int64_t>(ci.image_height) + s - 1) / s;
      int64_t w = (static_cast<int64_t>(ci.image_width) + s - 1) / s;
      bool ok = false;
      try {
        ok = st->options->large_enough(h, w);
      } catch (...) {
        ok = false;
      }
      if (ok) {
        ci.scale_denom = s;
        break;
      }
    }
  }
  jpeg_calc_output_dimensions(&ci);  // output_width/height at the chosen scale
  try {
    reserve_decode_memory(*st->options, ci.output_height, ci.output_width,
                          jpeg_decode_bytes(ci, st->cmyk, want));
  } catch (const DecodeDeferred&) {
    st->deferred = true;
    return false;
  } catch (const std::exception& e) {
    st->error = e.what();
    return false;
  }
  return true;
}

uint8_t* allocate(JpegContext* ctx, void* user) {
  auto* st = static_cast<DecodeState*>(user);
  jpeg_decompress_struct& ci = ctx->cinfo;
  try {
    st->out->height = ci.output_height;
    st->out->width = ci.output_width;
    st->out->channels = ci.output_components;
    st->out->pixels.resize(static_cast<size_t>(ci.output_height) * ci.output_width *
                           ci.output_components);
  } catch (const std::exception& e) {
    st->error = std::string("out of memory for the decoded image (") + e.what() + ")";
    return nullptr;
  }
  return st->out->pixels.data();
}

// Adobe CMYK JPEGs store inverted values; PIL's CMYK -> RGB is R = (255 - C)(255 - K) / 255.
void cmyk_to_rgb(DecodedImage& img, bool inverted) {
  const size_t n = static_cast<size_t>(img.height * img.width);
  std::vector<uint8_t> rgb(n * 3);
  const uint8_t* s = img.pixels.data();
  for (size_t i = 0; i < n; ++i, s += 4) {
    unsigned k = inverted ? s[3] : 255u - s[3];
    for (int c = 0; c < 3; ++c) {
      unsigned v = inverted ? s[c] : 255u - s[c];
      rgb[i * 3 + c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
  img.pixels.swap(rgb);
  img.channels = 3;
}

}  // namespace

DecodedImage decode_jpeg(const uint8_t* data, size_t size, const std::string& name,
                         const DecodeOptions& options) {
  DecodedImage img;
  DecodeState st{&name, &options, &img, false, false, {}};
  auto ctx = std::make_unique<JpegContext>();
  std::memset(&ctx->cinfo, 0, sizeof ctx->cinfo);
  ctx->message[0] = '\0';
  ctx->cinfo.err = jpeg_std_error(&ctx->err);
  ctx->err.error_exit = on_error_exit;
  ctx->err.emit_message = on_emit_message;
  ctx->err.output_message = on_output_message;
  ctx->progress.progress_monitor = on_progress;
  ctx->cinfo.client_data = ctx.get();
  Steps steps{after_header, allocate, &st};
  int rc = run_decode(ctx.get(), data, size, &steps);
  bool saw_adobe = ctx->created && ctx->cinfo.saw_Adobe_marker;
  if (ctx->created) jpeg_destroy_decompress(&ctx->cinfo);
  if (st.deferred) throw DecodeDeferred();
  if (rc == 2) {
    if (st.error.rfind("Cannot decode", 0) == 0) throw ValueError(st.error);
    decode_error(name, ImageFormat::Jpeg, st.error);
  }
  if (rc != 0) decode_error(name, ImageFormat::Jpeg, ctx->message);
  if (st.cmyk) cmyk_to_rgb(img, saw_adobe);
  return img;
}

}  // namespace ff::data::image
