// load_images: the MapFn that turns a path into a decoded, resized float32 image (see
// load_images.h), and load_image, the single-file version it calls. In skip mode a file that
// cannot be decoded becomes a failure marker (a String component [path, reason] in place of the
// image) that skip_undecodable.cpp drops and counts.
#include "data/image/load_images.h"

#include <algorithm>

#include "core/errors.h"
#include "data/image/gpu_jpeg.h"
#include "data/ops.h"

namespace ff::data::image {

void check_load_options(const LoadOptions& o) {
  if (o.height <= 0 || o.width <= 0)
    throw ValueError("image_size must be two positive integers (height, width), received (" +
                     std::to_string(o.height) + ", " + std::to_string(o.width) + ")");
  if (o.channels != 1 && o.channels != 3 && o.channels != 4)
    throw ValueError("channels must be 1 (grayscale), 3 (rgb) or 4 (rgba), received " +
                     std::to_string(o.channels));
  if (o.max_pixels <= 0)
    throw ValueError("max_pixels must be positive, received " + std::to_string(o.max_pixels));
  if (o.decode_on_gpu) gpu_jpeg_device();  // says why not, before any file is read
}

ByteBudget& image_decode_budget() {
  static ByteBudget budget(kDefaultDecodeBudgetBytes);
  return budget;
}

namespace {

// resize_image's scratch for a decoded height x width image: a float row of the source, the tap
// tables (for "area" about one entry per source row and column plus two per output one; the
// other methods at most a dozen taps per output row and column).
int64_t resize_scratch_bytes(int64_t height, int64_t width, const LoadOptions& o) {
  return 4 * o.channels * width + 96 * (height + width) + 256 * (o.height + o.width) + 4096;
}

}  // namespace

Component load_image(const std::string& path, const LoadOptions& o) {
  DecodeOptions d;
  d.channels = o.channels;
  d.max_pixels = o.max_pixels;
  if (o.dct_scaling && !o.decode_on_gpu) {
    const int64_t th = o.height, tw = o.width;
    const AspectMode aspect = o.aspect;
    // A reduced size is large enough when the part that gets resized still covers the part of
    // the output it lands in (no upscaling introduced by the reduction).
    d.large_enough = [th, tw, aspect](int64_t h, int64_t w) {
      const ResizePlan p = plan_resize(h, w, th, tw, aspect);
      return p.crop_height >= p.content_height && p.crop_width >= p.content_width;
    };
  }
  // The decode memory budget (see load_images.h): the file's bytes and the output first, the
  // decode's peak once its header is read, all held until the image is resized.
  ByteReservation held(o.budget ? *o.budget : image_decode_budget());
  const int64_t C = o.channels;
  const int64_t out_bytes = o.height * o.width * C * 4 * (o.channels_first ? 2 : 1);
  int64_t decode_reserved = 0;  // bytes of `held` covering the decode (the rest: file + output)
  int64_t decode_needed = 0;
  d.reserve = [&](int64_t h, int64_t w, int64_t bytes) {
    const int64_t need = bytes + resize_scratch_bytes(h, w, o);
    if (need <= decode_reserved) return true;
    if (held.try_grow(need - decode_reserved)) {
      decode_reserved = need;
      return true;
    }
    decode_needed = need;
    return false;
  };
  const std::string name = printable_path(path);
  DecodedImage img;
  for (int attempt = 0;; ++attempt) {
    ImageFile file(path);
    const int64_t file_bytes = file.size();
    // Waits only here, holding nothing (ByteReservation::acquire releases first).
    held.acquire(file_bytes + out_bytes + decode_reserved);
    std::vector<uint8_t> bytes = file.read();
    try {
      const bool on_gpu =
          o.decode_on_gpu && detect_format(bytes.data(), bytes.size()) == ImageFormat::Jpeg &&
          decode_jpeg_gpu(bytes.data(), bytes.size(), name, d, &img);
      if (!on_gpu) img = decode_image(bytes.data(), bytes.size(), name, d);
    } catch (const DecodeDeferred&) {
      // The decode needs more than could be added now: give everything back (the file's bytes
      // too), then wait for the whole amount and read the file again. A second deferral means
      // the header asked for more than the first read's did: the file changed meanwhile.
      if (attempt > 0)
        decode_error(name, ImageFormat::Unknown,
                     "the file changed while it was read (its header asks for more memory than "
                     "at the first read)");
      bytes = std::vector<uint8_t>();
      held.release();
      decode_reserved = decode_needed;
      continue;
    }
    bytes = std::vector<uint8_t>();  // the compressed bytes are no longer needed
    held.release_part(file_bytes);
    break;
  }
  const ResizePlan plan = plan_resize(img.height, img.width, o.height, o.width, o.aspect);
  void* raw = nullptr;
  Shape shape = o.channels_first ? Shape{C, o.height, o.width} : Shape{o.height, o.width, C};
  Component out = Component::make(ValueType::Float32, shape, &raw);
  float* dst = static_cast<float*>(raw);
  if (!o.channels_first) {
    resize_image(img.pixels.data(), img.height, img.width, img.channels, dst, o.height, o.width,
                 o.interpolation, plan);
  } else {
    std::vector<float> hwc(static_cast<size_t>(o.height * o.width * C));
    resize_image(img.pixels.data(), img.height, img.width, img.channels, hwc.data(), o.height,
                 o.width, o.interpolation, plan);
    const int64_t plane = o.height * o.width;
    for (int64_t i = 0; i < plane; ++i)
      for (int64_t c = 0; c < C; ++c) dst[c * plane + i] = hwc[i * C + c];
  }
  return out;
}

DatasetPtr load_images(DatasetPtr input, const LoadOptions& o, int64_t num_parallel_calls,
                       std::shared_ptr<DecodeReport> report, PassEndHook on_pass_end) {
  check_load_options(o);
  const LoadOptions opts = o;
  MapFn fn = [opts](const Element& in, int64_t index, uint64_t) -> Element {
    if (in.empty() || in[0].type != ValueType::String || in[0].numel() != 1)
      throw ValueError("load_images: element " + std::to_string(index) +
                       " should start with one file path (a string scalar), found " +
                       (in.empty() ? std::string("nothing") : in[0].describe()));
    const std::string& path = in[0].string_at(0);
    Element out;
    out.reserve(in.size());
    try {
      out.push_back(load_image(path, opts));
    } catch (const ValueError& e) {
      if (!opts.skip_errors)
        throw ValueError(std::string(e.what()) +
                         ". To skip files that cannot be decoded, pass "
                         "on_decode_error=\"skip\" to image_dataset_from_directory.");
      std::string reason = e.what();
      // The reason without the "Cannot decode/read/open image file <path>" prefix.
      const std::string shown = printable_path(path);
      for (const std::string verb : {"decode", "read", "open"}) {
        const std::string prefix = "Cannot " + verb + " image file " + shown;
        if (reason.rfind(prefix, 0) != 0) continue;
        reason = reason.substr(prefix.size());
        if (reason.rfind(" as ", 0) == 0) reason = reason.substr(4);  // "PNG: ..."
        else if (reason.rfind(": ", 0) == 0) reason = reason.substr(2);
        if (verb == "open") reason = "cannot open it: " + reason;
        break;
      }
      Element marker;
      marker.push_back(Component::make_strings({2}, {path, reason}));
      return marker;
    }
    for (size_t i = 1; i < in.size(); ++i) out.push_back(in[i]);
    return out;
  };
  DatasetPtr mapped = map(std::move(input), std::move(fn), num_parallel_calls, "load_image");
  if (!o.skip_errors) return mapped;
  if (!report) report = std::make_shared<DecodeReport>();
  return skip_undecodable(std::move(mapped), std::move(report), std::move(on_pass_end));
}

std::string skip_warning_message(const DecodePass& p) {
  const int64_t total = p.read + p.skipped;
  std::string msg = "on_decode_error=\"skip\": skipped " + std::to_string(p.skipped) + " of " +
                    std::to_string(total) + " image file" + (total == 1 ? "" : "s") +
                    " that could not be decoded in this pass (" + std::to_string(p.read) +
                    " read).";
  const size_t shown = std::min<size_t>(p.skipped_files.size(), 5);
  for (size_t i = 0; i < shown; ++i)
    msg += "\n  " + printable_path(p.skipped_files[i].first) + ": " + p.skipped_files[i].second;
  if (p.skipped_files.size() > shown)
    msg += "\n  ... and " + std::to_string(p.skipped_files.size() - shown) +
           " more (see the dataset's decode_report)";
  return msg;
}

}  // namespace ff::data::image
