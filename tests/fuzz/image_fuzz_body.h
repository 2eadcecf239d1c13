// The image fuzz target, shared by the libFuzzer harness (image_fuzzer.cpp) and the corpus
// replay in the normal test suite (tests/cpp/data/image/test_image_fuzz_corpus.cpp). The input
// is the file itself (so the seed corpus is plain image files); the options are derived from
// its size: channels 1/3/4, one of the 8 interpolations, stretch/crop/pad, a small target size,
// JPEG DCT scaling on. It decodes, then resizes, and checks the invariants of the result.
// ff::ValueError (a file that cannot be decoded) is the one allowed failure: anything else
// escaping, a sanitizer report or a crash is a bug. The pixel limit is lowered to 2^22 so that
// the fuzzer explores decoding rather than allocating (the limit check itself is covered by the
// unit tests).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "core/errors.h"
#include "data/image/image.h"
#include "data/image/resize.h"

namespace image_fuzz {

namespace img = ff::data::image;

#define IMAGE_FUZZ_CHECK(cond)                                                   \
  do {                                                                           \
    if (!(cond)) throw std::logic_error("image fuzz invariant failed: " #cond);  \
  } while (0)

// Returns true if the input decoded; false if it raised ff::ValueError. Throws
// std::logic_error on a broken invariant.
inline bool run_one(const uint8_t* data, size_t size) {
  static const int kChannels[3] = {1, 3, 4};
  const int channels = kChannels[size % 3];
  const auto method = static_cast<img::Interpolation>((size / 3) % 8);
  const auto aspect = static_cast<img::AspectMode>((size / 24) % 3);
  const int64_t th = 1 + static_cast<int64_t>(size % 37);
  const int64_t tw = 1 + static_cast<int64_t>((size / 7) % 29);
  img::DecodeOptions o;
  o.channels = channels;
  o.max_pixels = int64_t(1) << 22;
  o.large_enough = [&](int64_t h, int64_t w) {
    const img::ResizePlan p = img::plan_resize(h, w, th, tw, aspect);
    return p.crop_height >= p.content_height && p.crop_width >= p.content_width;
  };
  img::DecodedImage im;
  try {
    im = img::decode_image(data, size, "fuzz-input", o);
  } catch (const ff::ValueError&) {
    return false;
  }
  IMAGE_FUZZ_CHECK(im.channels == channels);
  IMAGE_FUZZ_CHECK(im.height > 0 && im.width > 0);
  IMAGE_FUZZ_CHECK(im.height * im.width <= o.max_pixels);
  IMAGE_FUZZ_CHECK(im.pixels.size() == static_cast<size_t>(im.height * im.width * channels));
  std::vector<float> out(static_cast<size_t>(th * tw * channels), -12345.0f);
  img::resize_image(im.pixels.data(), im.height, im.width, channels, out.data(), th, tw, method,
                    aspect);
  // Every output written (the sentinel is gone) and finite. Cubic and lanczos kernels overshoot
  // the 0..255 range (lanczos5 upscaling a 0/255 checkerboard reaches about -200 and 430, as in
  // TensorFlow), but never by more than the sum of their absolute weights (< 8).
  for (float v : out) IMAGE_FUZZ_CHECK(std::isfinite(v) && v > -255.0f * 8 && v < 255.0f * 8);
  return true;
}

}  // namespace image_fuzz
