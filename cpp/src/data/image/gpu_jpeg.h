// JPEG decoding on the GPU with nvJPEG, for image_dataset_from_directory(decode_device="gpu"):
// the pipeline's worker threads read the files as on the CPU path, hand the JPEG bytes to nvJPEG
// (in libforgeflow_cuda.so, reached through backend/cuda_loader.h) and get the pixels back in
// host memory, then resize them on the CPU as usual. Only the decode moves: the output is the CPU
// decoder's at full size (nvJPEG has no DCT scaling, so JPEGs are never decoded reduced) within
// the tolerance of two IDCTs and chroma upsamplers (docs/guide-images.md: mean absolute
// difference at most 3 of 255 per value, 99% of values within 16, on photographic content).
// A file nvJPEG does not take (a bad or truncated stream, CMYK, an unimplemented layout, more
// pixels than the limit) is decoded by the CPU decoder, which accepts it or raises its usual
// error, so the option never changes which files load or what their errors say. PNG, GIF and BMP
// files are always decoded on the CPU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/image/image.h"

namespace ff::data::image {

// The GPU nvJPEG decodes on (the first visible one, as models are placed), checked once per
// call: ValueError saying why decode_device="gpu" cannot be used (no CUDA build, no GPU, a CUDA
// library without nvJPEG).
int gpu_jpeg_device();

// Decodes a JPEG with nvJPEG into `out` (options.channels channels, as decode_image gives);
// false when nvJPEG does not take the file (the caller decodes it on the CPU). Calls
// options.reserve before holding the pixels (may throw DecodeDeferred). A GPU failure raises
// std::runtime_error naming the file (never ValueError: the file is not at fault).
bool decode_jpeg_gpu(const uint8_t* data, size_t size, const std::string& name,
                     const DecodeOptions& options, DecodedImage* out);

// Files decoded on the GPU and files passed to the CPU decoder, process-wide (tests, benchmarks).
struct GpuJpegCounts {
  int64_t decoded = 0;
  int64_t to_cpu = 0;
};
GpuJpegCounts gpu_jpeg_counts();

}  // namespace ff::data::image
