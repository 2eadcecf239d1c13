// Image resizing with the semantics of tf.image.resize(antialias=False) as Keras's
// image_dataset_from_directory uses it: half-pixel centers for bilinear, nearest and bicubic
// (Keys cubic, a = -0.5, TensorFlow's 1024-entry weight table, out-of-image taps dropped and the
// rest renormalised), ResizeArea's box averaging for "area", and ScaleAndTranslate's kernels
// (no antialiasing) for lanczos3, lanczos5, gaussian and mitchellcubic. Plus Keras's two
// aspect-ratio modes: crop_to_aspect_ratio (smart_resize's centered crop, then resize) and
// pad_to_aspect_ratio (tf.image.resize_with_pad: resize to fit, then zero-pad, centered).
// Output is float32 H x W x C with values in the input's 0..255 range (bicubic and lanczos can
// overshoot slightly, as in TensorFlow; nothing is clamped).
#pragma once
#include <cstdint>
#include <string>

namespace ff::data::image {

enum class Interpolation { Bilinear, Nearest, Bicubic, Area, Lanczos3, Lanczos5, Gaussian, MitchellCubic };

// "bilinear", "nearest", ... (case-insensitive, as Keras lower()s it); ValueError listing the
// supported names otherwise.
Interpolation parse_interpolation(const std::string& name);
std::string interpolation_name(Interpolation m);

enum class AspectMode { Stretch, Crop, Pad };

// Which part of the source is resized, and where it lands in the output.
struct ResizePlan {
  int64_t crop_top = 0, crop_left = 0, crop_height = 0, crop_width = 0;  // in the source
  int64_t pad_top = 0, pad_left = 0, content_height = 0, content_width = 0;  // in the output
};

// Keras's arithmetic (float32, truncation) for smart_resize's crop box and resize_with_pad's
// content size and offsets; Stretch uses the whole source and the whole output.
ResizePlan plan_resize(int64_t src_height, int64_t src_width, int64_t dst_height,
                       int64_t dst_width, AspectMode mode);

// Resizes `src` (uint8, src_height x src_width x channels, row-major) into `out` (float32,
// dst_height x dst_width x channels), following `plan` (plan_resize's result for these sizes):
// the crop box of the source is resized to the content box of the output; the rest of the output
// is 0 (resize_with_pad's padding).
void resize_image(const uint8_t* src, int64_t src_height, int64_t src_width, int channels,
                  float* out, int64_t dst_height, int64_t dst_width, Interpolation method,
                  const ResizePlan& plan);

// Convenience: plan_resize + resize_image.
void resize_image(const uint8_t* src, int64_t src_height, int64_t src_width, int channels,
                  float* out, int64_t dst_height, int64_t dst_width, Interpolation method,
                  AspectMode mode);

}  // namespace ff::data::image
