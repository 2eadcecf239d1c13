// JPEG decoding on the GPU through nvJPEG, for image_dataset_from_directory(decode_device="gpu")
// (data/image/gpu_jpeg.cpp calls these entry points through backend/cuda_loader.cpp). Built with
// nvJPEG only when CMake found nvjpeg.h and libnvjpeg (FORGEFLOW_HAVE_NVJPEG: the CUDA toolkit,
// or the nvidia-nvjpeg Python package through NVJPEG_ROOT); otherwise every entry point says so.
//
// Each pipeline worker thread that decodes has its own nvJPEG state, non-blocking stream and
// device output buffer (grown with cudaMallocAsync on that stream, never shrunk); one nvJPEG
// handle per GPU is shared (nvJPEG's handle is thread-safe). A decode writes interleaved RGB
// (or the luma plane for grayscale, as libjpeg's JCS_GRAYSCALE) into the buffer, copies it to the
// caller's host memory and waits for its own stream only: the model's compute stream and its
// captured steps are never touched. C linkage; errors come back as a status and a message.
//
// Status: 0 done; 1 nvJPEG does not take this file (a bad or truncated stream, CMYK, a layout
// it does not implement): the caller decodes it on the CPU, which accepts or refuses it with the
// CPU's own message, so the option never changes which files load; -1 the GPU failed (message).
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#ifdef FORGEFLOW_HAVE_NVJPEG
#include <nvjpeg.h>
#endif

namespace {

void put_message(char* message, size_t size, const std::string& text) {
  if (message && size) std::snprintf(message, size, "%s", text.c_str());
}

#ifdef FORGEFLOW_HAVE_NVJPEG

std::string status_name(nvjpegStatus_t s) {
  switch (s) {
    case NVJPEG_STATUS_SUCCESS: return "NVJPEG_STATUS_SUCCESS";
    case NVJPEG_STATUS_NOT_INITIALIZED: return "NVJPEG_STATUS_NOT_INITIALIZED";
    case NVJPEG_STATUS_INVALID_PARAMETER: return "NVJPEG_STATUS_INVALID_PARAMETER";
    case NVJPEG_STATUS_BAD_JPEG: return "NVJPEG_STATUS_BAD_JPEG";
    case NVJPEG_STATUS_JPEG_NOT_SUPPORTED: return "NVJPEG_STATUS_JPEG_NOT_SUPPORTED";
    case NVJPEG_STATUS_ALLOCATOR_FAILURE: return "NVJPEG_STATUS_ALLOCATOR_FAILURE";
    case NVJPEG_STATUS_EXECUTION_FAILED: return "NVJPEG_STATUS_EXECUTION_FAILED";
    case NVJPEG_STATUS_ARCH_MISMATCH: return "NVJPEG_STATUS_ARCH_MISMATCH";
    case NVJPEG_STATUS_INTERNAL_ERROR: return "NVJPEG_STATUS_INTERNAL_ERROR";
    case NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED:
      return "NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED";
    case NVJPEG_STATUS_INCOMPLETE_BITSTREAM: return "NVJPEG_STATUS_INCOMPLETE_BITSTREAM";
  }
  return "nvjpegStatus_t " + std::to_string(static_cast<int>(s));
}

// Statuses that are about the file, not the GPU: the CPU decoder gets the file instead.
bool file_status(nvjpegStatus_t s) {
  return s == NVJPEG_STATUS_BAD_JPEG || s == NVJPEG_STATUS_JPEG_NOT_SUPPORTED ||
         s == NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED ||
         s == NVJPEG_STATUS_INCOMPLETE_BITSTREAM;
}

struct Failure {
  int status;
  std::string what;
};

void check_cuda(cudaError_t e, const char* call) {
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw Failure{-1, std::string("CUDA error ") + cudaGetErrorName(e) + " in " + call + ": " +
                          cudaGetErrorString(e)};
  }
}

void check_nvjpeg(nvjpegStatus_t s, const char* call) {
  if (s == NVJPEG_STATUS_SUCCESS) return;
  throw Failure{file_status(s) ? 1 : -1, std::string(call) + " failed: " + status_name(s)};
}

// One nvJPEG handle per GPU, created on first use and kept for the process.
nvjpegHandle_t handle_for(int device) {
  static std::mutex mu;
  static auto* handles = new std::vector<nvjpegHandle_t>();
  std::lock_guard<std::mutex> lock(mu);
  if (device < 0) throw Failure{-1, "GPU index must be >= 0"};
  if (handles->size() <= static_cast<size_t>(device))
    handles->resize(static_cast<size_t>(device) + 1, nullptr);
  nvjpegHandle_t& h = (*handles)[static_cast<size_t>(device)];
  if (!h) {
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    check_nvjpeg(nvjpegCreateSimple(&h), "nvjpegCreateSimple");
  }
  return h;
}

// A worker thread's decoding state on one GPU.
struct ThreadState {
  int device = -1;
  nvjpegJpegState_t state = nullptr;
  cudaStream_t stream = nullptr;
  void* buffer = nullptr;
  size_t capacity = 0;

  ~ThreadState() { release(); }
  void release() {
    // Errors are ignored: at thread or process exit the driver may be shutting down.
    if (device >= 0) cudaSetDevice(device);
    if (stream) cudaStreamSynchronize(stream);
    if (buffer) cudaFreeAsync(buffer, stream);
    if (stream) {
      cudaStreamSynchronize(stream);
      cudaStreamDestroy(stream);
    }
    if (state) nvjpegJpegStateDestroy(state);
    state = nullptr;
    stream = nullptr;
    buffer = nullptr;
    capacity = 0;
    device = -1;
  }
  void open(int d) {
    if (device == d && state) return;
    release();
    nvjpegHandle_t h = handle_for(d);
    check_cuda(cudaSetDevice(d), "cudaSetDevice");
    device = d;
    check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking),
               "cudaStreamCreateWithFlags");
    check_nvjpeg(nvjpegJpegStateCreate(h, &state), "nvjpegJpegStateCreate");
  }
  void reserve(size_t bytes) {
    if (capacity >= bytes) return;
    if (buffer) check_cuda(cudaFreeAsync(buffer, stream), "cudaFreeAsync");
    buffer = nullptr;
    capacity = 0;
    check_cuda(cudaMallocAsync(&buffer, bytes, stream), "cudaMallocAsync");
    capacity = bytes;
  }
};

thread_local ThreadState tls;

int fail(const Failure& f, char* message, size_t size) {
  put_message(message, size, f.what);
  return f.status;
}

#endif  // FORGEFLOW_HAVE_NVJPEG

}  // namespace

extern "C" {

// 0 when nvJPEG can decode on GPU `device`, else -1 with the reason.
__attribute__((visibility("default"))) int forgeflow_cuda_jpeg_available(int device,
                                                                         char* message,
                                                                         size_t size) {
#ifdef FORGEFLOW_HAVE_NVJPEG
  try {
    handle_for(device);
    return 0;
  } catch (const Failure& f) {
    put_message(message, size, "nvJPEG could not start: " + f.what);
    return -1;
  }
#else
  (void)device;
  put_message(message, size,
              "this build's CUDA backend has no nvJPEG (nvjpeg.h and libnvjpeg were not found "
              "when it was built: install the CUDA toolkit's nvJPEG or the nvidia-nvjpeg Python "
              "package and rebuild, with NVJPEG_ROOT set to its folder if CMake does not find it)");
  return -1;
#endif
}

// The JPEG's full size from its header (nvjpegGetImageInfo). Status as at the top of the file.
__attribute__((visibility("default"))) int forgeflow_cuda_jpeg_info(int device,
                                                                    const uint8_t* data,
                                                                    size_t length,
                                                                    int64_t* height,
                                                                    int64_t* width, char* message,
                                                                    size_t size) {
#ifdef FORGEFLOW_HAVE_NVJPEG
  try {
    nvjpegHandle_t h = handle_for(device);
    int components = 0;
    nvjpegChromaSubsampling_t subsampling = NVJPEG_CSS_UNKNOWN;
    int widths[NVJPEG_MAX_COMPONENT] = {0}, heights[NVJPEG_MAX_COMPONENT] = {0};
    check_nvjpeg(nvjpegGetImageInfo(h, data, length, &components, &subsampling, widths, heights),
                 "nvjpegGetImageInfo");
    if ((components != 1 && components != 3) || subsampling == NVJPEG_CSS_UNKNOWN)
      throw Failure{1, "nvJPEG takes 1- or 3-component JPEGs with a known chroma subsampling; "
                       "this one has " + std::to_string(components) + " components"};
    *height = heights[0];
    *width = widths[0];
    return 0;
  } catch (const Failure& f) {
    return fail(f, message, size);
  }
#else
  (void)device, (void)data, (void)length, (void)height, (void)width;
  put_message(message, size, "this build's CUDA backend has no nvJPEG");
  return -1;
#endif
}

// Decodes into `out` (height x width x channels bytes of host memory; channels 3 for interleaved
// RGB, 1 for the luma plane), the size forgeflow_cuda_jpeg_info gave. Status as at the top.
__attribute__((visibility("default"))) int forgeflow_cuda_jpeg_decode(
    int device, const uint8_t* data, size_t length, int channels, uint8_t* out, int64_t height,
    int64_t width, char* message, size_t size) {
#ifdef FORGEFLOW_HAVE_NVJPEG
  try {
    if (channels != 1 && channels != 3)
      throw Failure{-1, "channels must be 1 or 3, received " + std::to_string(channels)};
    if (height <= 0 || width <= 0) throw Failure{-1, "the image size must be positive"};
    nvjpegHandle_t h = handle_for(device);
    tls.open(device);
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    const size_t row = static_cast<size_t>(width) * static_cast<size_t>(channels);
    const size_t bytes = row * static_cast<size_t>(height);
    tls.reserve(bytes);
    nvjpegImage_t image{};
    image.channel[0] = static_cast<unsigned char*>(tls.buffer);
    image.pitch[0] = row;
    check_nvjpeg(nvjpegDecode(h, tls.state, data, length,
                              channels == 3 ? NVJPEG_OUTPUT_RGBI : NVJPEG_OUTPUT_Y, &image,
                              tls.stream),
                 "nvjpegDecode");
    check_cuda(cudaMemcpyAsync(out, tls.buffer, bytes, cudaMemcpyDeviceToHost, tls.stream),
               "cudaMemcpyAsync");
    check_cuda(cudaStreamSynchronize(tls.stream), "cudaStreamSynchronize");
    return 0;
  } catch (const Failure& f) {
    if (f.status < 0) tls.release();  // a failed GPU: start afresh next time
    return fail(f, message, size);
  }
#else
  (void)device, (void)data, (void)length, (void)channels, (void)out, (void)height, (void)width;
  put_message(message, size, "this build's CUDA backend has no nvJPEG");
  return -1;
#endif
}

}  // extern "C"
