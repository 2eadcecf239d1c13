// The image-folder pipeline stage: a map over elements whose first component is a file path
// (String scalar) that replaces it with the decoded and resized image (float32 H x W x C, values
// 0..255, or C x H x W for channels_first), keeping the other components (labels). It runs as
// ff::data::map with a C++ MapFn, so decoding happens on the map's worker threads in input order.
//
// Undecodable files either raise ValueError naming the file (the default, as Keras) or, with
// skip_errors, are dropped by a SkipUndecodable node after the map, which counts them: for every
// complete pass, images read + files skipped = elements that entered the map. The counts of the
// last complete pass are kept in a DecodeReport, and a PassEndHook is called at the end of every
// pass that skipped something (the Python binding turns it into one warning per pass).
//
// Decode memory is bounded across workers (and across datasets) by a ByteBudget: load_image
// reserves the file's bytes and the output before reading the file, and the decoder's peak
// (DecodeOptions::reserve: pixels, conversion copy, library buffers, resize scratch) once the
// header is read; it holds them until the image is resized. A worker that cannot add the
// decode's share at once gives everything back, frees the file's bytes and waits for the whole
// amount, then reads the file again (so it never waits while holding memory, and never
// deadlocks). Everything reserved together stays under the capacity, except one image larger
// than the whole capacity, which is decoded alone.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "data/byte_budget.h"
#include "data/dataset.h"
#include "data/image/image.h"
#include "data/image/resize.h"

namespace ff::data::image {

struct LoadOptions {
  int64_t height = 256;
  int64_t width = 256;
  int channels = 3;  // 1 grayscale, 3 rgb, 4 rgba
  Interpolation interpolation = Interpolation::Bilinear;
  AspectMode aspect = AspectMode::Stretch;
  bool channels_first = false;
  bool skip_errors = false;
  int64_t max_pixels = kDefaultMaxPixels;
  // Decode JPEGs at a reduced size (DCT scaling) when the resize allows it; see jpeg.cpp.
  bool dct_scaling = true;
  // Decode JPEGs with nvJPEG on the GPU (decode_device="gpu", data/image/gpu_jpeg.h): at full
  // size (no DCT scaling); files nvJPEG does not take, and other formats, on the CPU.
  bool decode_on_gpu = false;
  // The decode memory budget; null: the process-wide image_decode_budget().
  std::shared_ptr<ByteBudget> budget;
};

// The default capacity of image_decode_budget(): 1 GiB.
constexpr int64_t kDefaultDecodeBudgetBytes = int64_t(1) << 30;
// The budget every image pipeline shares unless LoadOptions::budget says otherwise.
ByteBudget& image_decode_budget();

// Validates the options (positive size, channels 1/3/4, a usable GPU with nvJPEG when
// decode_on_gpu); ValueError otherwise.
void check_load_options(const LoadOptions& o);

// Reads, decodes and resizes one file into a new float32 component, holding its share of the
// decode memory budget meanwhile.
Component load_image(const std::string& path, const LoadOptions& o);

// One pass's account of skipped files: "path" and the reason.
struct DecodePass {
  int64_t read = 0;
  int64_t skipped = 0;
  std::vector<std::pair<std::string, std::string>> skipped_files;  // (path, reason)
};

// Thread-safe store of the last complete pass (iterators publish into it when a pass ends).
class DecodeReport {
 public:
  void publish(const DecodePass& p) {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = p;
    ++passes_;
  }
  DecodePass last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  int64_t passes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return passes_;
  }

 private:
  mutable std::mutex mu_;
  DecodePass last_;
  int64_t passes_ = 0;
};

// Called (on whichever thread ends the pass) after a complete pass that skipped files.
using PassEndHook = std::function<void(const DecodePass&)>;

// map(input, load each element's component 0, num_parallel_calls), plus, with skip_errors, the
// SkipUndecodable node that drops and counts the failures into `report` (which may be null
// when skip_errors is false).
DatasetPtr load_images(DatasetPtr input, const LoadOptions& o, int64_t num_parallel_calls,
                       std::shared_ptr<DecodeReport> report, PassEndHook on_pass_end);

// The filter node on its own: drops the failure markers load_images' map emits in skip mode.
DatasetPtr skip_undecodable(DatasetPtr input, std::shared_ptr<DecodeReport> report,
                            PassEndHook on_pass_end);

// The message of a DecodePass for the warning: counts and the first few files with reasons.
std::string skip_warning_message(const DecodePass& p);

}  // namespace ff::data::image
