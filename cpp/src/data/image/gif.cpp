// GIF decoding through giflib: the first frame only (as Keras/TensorFlow with
// expand_animations=False), read record by record so that later frames are never decoded.
// The frame is drawn on the logical screen (enlarged if the frame extends past it, as PIL does);
// screen pixels outside the frame and pixels of the transparent color index (Graphics Control
// Extension) are transparent black (0, 0, 0, 0), as in TensorFlow's decode_gif. A color index
// past the end of the color table is drawn opaque black. Interlaced frames are de-interlaced.
#include <gif_lib.h>

#include <algorithm>
#include <cstring>

#include "core/errors.h"
#include "data/image/image.h"

namespace ff::data::image {

namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int on_read(GifFileType* gif, GifByteType* out, int n) {
  auto* r = static_cast<Reader*>(gif->UserData);
  if (n <= 0) return 0;
  size_t k = std::min(static_cast<size_t>(n), r->size - r->pos);
  std::memcpy(out, r->data + r->pos, k);
  r->pos += k;
  return static_cast<int>(k);
}

struct GifCloser {
  GifFileType* gif;
  ~GifCloser() {
    int err = 0;
    if (gif) DGifCloseFile(gif, &err);
  }
};

[[noreturn]] void gif_fail(const std::string& name, int code, const char* during) {
  const char* s = GifErrorString(code);
  decode_error(name, ImageFormat::Gif,
               std::string(s ? s : "unknown giflib error") + " (giflib, while " + during + ")");
}

}  // namespace

DecodedImage decode_gif(const uint8_t* data, size_t size, const std::string& name,
                        const DecodeOptions& options) {
  Reader reader{data, size, 0};
  int err = 0;
  GifFileType* gif = DGifOpen(&reader, on_read, &err);
  if (!gif) gif_fail(name, err, "reading the header");
  GifCloser closer{gif};

  int transparent = -1;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) gif_fail(name, gif->Error, "reading a record");
    if (type == TERMINATE_RECORD_TYPE)
      decode_error(name, ImageFormat::Gif, "the file holds no image (terminator before any frame)");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
        gif_fail(name, gif->Error, "reading an extension");
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4) {
        GraphicsControlBlock gcb;
        if (DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK) transparent = gcb.TransparentColor;
      }
      while (ext) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
          gif_fail(name, gif->Error, "reading an extension");
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;  // UNDEFINED_RECORD_TYPE etc.

    if (DGifGetImageDesc(gif) == GIF_ERROR) gif_fail(name, gif->Error, "reading the frame header");
    const GifImageDesc& desc = gif->Image;
    const int64_t left = desc.Left, top = desc.Top, fw = desc.Width, fh = desc.Height;
    check_image_size(fw, fh, options.max_pixels, name, ImageFormat::Gif);
    const int64_t width = std::max<int64_t>(gif->SWidth, left + fw);
    const int64_t height = std::max<int64_t>(gif->SHeight, top + fh);
    check_image_size(width, height, options.max_pixels, name, ImageFormat::Gif);
    const ColorMapObject* cmap = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
    if (!cmap || !cmap->Colors || cmap->ColorCount <= 0)
      decode_error(name, ImageFormat::Gif, "the first frame has no color table (local or global)");
    reserve_decode_memory(options, height, width,
                          pixel_bytes(height, width, 4, options.channels) + fw);

    DecodedImage img;
    img.width = width;
    img.height = height;
    img.channels = 4;
    img.pixels.assign(static_cast<size_t>(width * height) * 4, 0);
    std::vector<GifPixelType> line(static_cast<size_t>(fw));
    auto draw_row = [&](int64_t y) {
      uint8_t* dst = img.pixels.data() + static_cast<size_t>(((top + y) * width + left) * 4);
      for (int64_t x = 0; x < fw; ++x, dst += 4) {
        int idx = line[x];
        if (idx == transparent) continue;
        if (idx < cmap->ColorCount) {
          dst[0] = cmap->Colors[idx].Red;
          dst[1] = cmap->Colors[idx].Green;
          dst[2] = cmap->Colors[idx].Blue;
        }
        dst[3] = 255;
      }
    };
    auto read_row = [&](int64_t y) {
      if (DGifGetLine(gif, line.data(), static_cast<int>(fw)) == GIF_ERROR)
        gif_fail(name, gif->Error, "reading the pixels of the first frame");
      draw_row(y);
    };
    if (desc.Interlace) {
      static const int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
      for (int pass = 0; pass < 4; ++pass)
        for (int64_t y = kStart[pass]; y < fh; y += kStep[pass]) read_row(y);
    } else {
      for (int64_t y = 0; y < fh; ++y) read_row(y);
    }
    return img;
  }
}

}  // namespace ff::data::image
