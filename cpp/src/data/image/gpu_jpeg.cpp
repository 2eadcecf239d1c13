// GPU JPEG decoding through nvJPEG (see gpu_jpeg.h).
#include "data/image/gpu_jpeg.h"

#include <atomic>
#include <stdexcept>

#include "backend/cuda_loader.h"
#include "backend/registry.h"
#include "core/errors.h"

namespace ff::data::image {
namespace {

std::atomic<int64_t> decoded_count{0};
std::atomic<int64_t> to_cpu_count{0};

[[noreturn]] void unavailable(const std::string& why) {
  throw ValueError("decode_device=\"gpu\" decodes JPEGs with nvJPEG on a GPU, which cannot be "
                   "used here: " + why + ". Use decode_device=\"cpu\" (the default).");
}

bool to_cpu() {
  ++to_cpu_count;
  return false;
}

}  // namespace

int gpu_jpeg_device() {
  int device = -1;
  try {
    device = first_visible_gpu();
  } catch (const ValueError& e) {
    unavailable(e.what());
  }
  const CudaJpegApi& api = cuda_jpeg_api();
  if (!api.available)
    unavailable("the CUDA backend library has no nvJPEG entry points (a library built before "
                "them: rebuild forgeflow)");
  char message[512] = {0};
  if (api.available(device, message, sizeof message) != 0) unavailable(message);
  return device;
}

bool decode_jpeg_gpu(const uint8_t* data, size_t size, const std::string& name,
                     const DecodeOptions& options, DecodedImage* out) {
  const int device = gpu_jpeg_device();
  const CudaJpegApi& api = cuda_jpeg_api();
  char message[512] = {0};
  int64_t height = 0, width = 0;
  int status = api.info(device, data, size, &height, &width, message, sizeof message);
  if (status == 1) return to_cpu();
  if (status != 0)
    throw std::runtime_error(name + ": nvJPEG failed on the GPU: " + std::string(message));
  // An empty or oversized image: the CPU decoder says so in its own words.
  if (height <= 0 || width <= 0 || height > options.max_pixels / width) return to_cpu();
  const int channels = options.channels == 1 ? 1 : 3;  // the luma plane, or interleaved RGB
  reserve_decode_memory(options, height, width,
                        pixel_bytes(height, width, channels, options.channels));
  DecodedImage img;
  img.height = height;
  img.width = width;
  img.channels = channels;
  img.pixels.resize(static_cast<size_t>(height * width * channels));
  status = api.decode(device, data, size, channels, img.pixels.data(), height, width, message,
                      sizeof message);
  if (status == 1) return to_cpu();
  if (status != 0)
    throw std::runtime_error(name + ": nvJPEG failed on the GPU: " + std::string(message));
  convert_channels(img, options.channels);
  *out = std::move(img);
  ++decoded_count;
  return true;
}

GpuJpegCounts gpu_jpeg_counts() { return {decoded_count.load(), to_cpu_count.load()}; }

}  // namespace ff::data::image
