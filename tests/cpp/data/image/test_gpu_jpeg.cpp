// Tests of data/image/gpu_jpeg.cpp (image_dataset_from_directory(decode_device="gpu")): without
// a usable GPU the option is refused up front, saying why; with one ([cuda]: scripts/gpu-check.sh)
// nvJPEG's pixels match the CPU decoder's full-size decode within the documented tolerance (mean
// absolute difference <= 3 of 255, 99% of values within 16) for 4:2:0, 4:4:4, progressive and
// grayscale JPEGs and every channel count, while CMYK and damaged JPEGs go to the CPU decoder
// (the same pixels, the same error).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cuda_loader.h"
#include "core/errors.h"
#include "data/image/gpu_jpeg.h"
#include "data/image/image_encoders.h"
#include "data/image/load_images.h"

using namespace ff::data;
using namespace ff::data::image;
using fftest::img::Bytes;

namespace {

// A photograph-like RGB image: smooth gradients, a soft disc, fine texture and a sharp edge.
Bytes photo_rgb(int w, int h) {
  Bytes px(static_cast<size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double dx = x - w * 0.4, dy = y - h * 0.6;
      const double disc = std::exp(-(dx * dx + dy * dy) / (0.05 * w * h));
      const double texture = 12.0 * std::sin(x * 0.9) * std::cos(y * 0.7);
      const bool edge = x > w * 3 / 4;
      double v[3] = {40 + 150.0 * x / w + 60 * disc + texture,
                     30 + 170.0 * y / h + texture + (edge ? 40 : 0),
                     200 - 120.0 * disc - 50.0 * x / w + (edge ? -60 : 0)};
      for (int c = 0; c < 3; ++c)
        px[static_cast<size_t>((y * w + x) * 3 + c)] =
            static_cast<uint8_t>(std::clamp(v[c], 0.0, 255.0));
    }
  return px;
}

struct Diff {
  double mean = 0;
  double p99 = 0;
};

Diff difference(const Component& a, const Component& b) {
  REQUIRE(a.numel() == b.numel());
  const float* pa = static_cast<const float*>(a.data());
  const float* pb = static_cast<const float*>(b.data());
  std::vector<double> d(static_cast<size_t>(a.numel()));
  double sum = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = std::fabs(static_cast<double>(pa[i]) - pb[i]);
    sum += d[i];
  }
  std::sort(d.begin(), d.end());
  return {sum / static_cast<double>(d.size()), d[d.size() * 99 / 100]};
}

LoadOptions options(int channels, bool gpu) {
  LoadOptions o;
  o.height = 96;
  o.width = 128;
  o.channels = channels;
  o.dct_scaling = false;  // the CPU's full-size decode: what nvJPEG is compared with
  o.decode_on_gpu = gpu;
  return o;
}

}  // namespace

TEST_CASE("decode_device gpu is refused up front where no GPU with nvJPEG can be used",
          "[data][image]") {
  LoadOptions o = options(3, true);
  if (ff::load_cuda().device_count == 0) {
    fftest::img::TempDir dir;
    const std::string path = dir.path + "/a.jpg";
    fftest::img::write_file(path, fftest::img::encode_jpeg(8, 8, JCS_RGB, 3, photo_rgb(8, 8)));
    for (auto check : {+[](const LoadOptions& opts, const std::string&) { check_load_options(opts); },
                       +[](const LoadOptions& opts, const std::string& p) { load_image(p, opts); }}) {
      try {
        check(o, path);
        FAIL("no error");
      } catch (const ff::ValueError& e) {
        const std::string m = e.what();
        CHECK(m.find("decode_device=\"gpu\"") != std::string::npos);
        CHECK(m.find("no cuda device") != std::string::npos);
        CHECK(m.find("Use decode_device=\"cpu\"") != std::string::npos);
      }
    }
  } else {
    // A GPU: usable unless this build lacks nvJPEG, which the error then names.
    try {
      check_load_options(o);
    } catch (const ff::ValueError& e) {
      CHECK(std::string(e.what()).find("nvJPEG") != std::string::npos);
    }
  }
}

TEST_CASE("nvJPEG decodes as the CPU does within the documented tolerance",
          "[cuda][nvjpeg]") {
  if (ff::load_cuda().device_count == 0) FAIL("the [cuda] tests need a GPU: " << ff::load_cuda().why_none);
  REQUIRE_NOTHROW(gpu_jpeg_device());  // this build must have nvJPEG (the message says why not)
  fftest::img::TempDir dir;
  const int w = 160, h = 120;  // resized to 128 x 96
  struct Case {
    std::string name;
    Bytes file;
  };
  Bytes gray(static_cast<size_t>(w * h));
  const Bytes rgb = photo_rgb(w, h);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb[i * 3 + 1];
  std::vector<Case> cases{
      {"q90 4:2:0", fftest::img::encode_jpeg(w, h, JCS_RGB, 3, rgb, 90)},
      {"q100", fftest::img::encode_jpeg(w, h, JCS_RGB, 3, rgb, 100)},
      {"q75 progressive", fftest::img::encode_jpeg(w, h, JCS_RGB, 3, rgb, 75, true)},
      {"grayscale", fftest::img::encode_jpeg(w, h, JCS_GRAYSCALE, 1, gray, 90)},
  };
  const GpuJpegCounts before = gpu_jpeg_counts();
  int decoded = 0;
  for (const Case& c : cases) {
    const std::string path = dir.path + "/" + std::to_string(decoded) + ".jpg";
    fftest::img::write_file(path, c.file);
    for (int channels : {1, 3, 4}) {
      INFO(c.name << ", channels " << channels);
      const Component cpu = load_image(path, options(channels, false));
      const Component gpu = load_image(path, options(channels, true));
      const Diff d = difference(cpu, gpu);
      INFO("mean " << d.mean << ", 99th percentile " << d.p99);
      CHECK(d.mean <= 3.0);
      CHECK(d.p99 <= 16.0);
      ++decoded;
    }
  }
  CHECK(gpu_jpeg_counts().decoded - before.decoded == decoded);
}

TEST_CASE("JPEGs nvJPEG does not take are decoded on the CPU, with the CPU's errors",
          "[cuda][nvjpeg]") {
  if (ff::load_cuda().device_count == 0) FAIL("the [cuda] tests need a GPU: " << ff::load_cuda().why_none);
  fftest::img::TempDir dir;
  const int w = 40, h = 30;
  Bytes cmyk(static_cast<size_t>(w * h * 4));
  for (size_t i = 0; i < cmyk.size(); ++i) cmyk[i] = static_cast<uint8_t>((i * 37) % 256);
  const std::string cmyk_path = dir.path + "/cmyk.jpg";
  fftest::img::write_file(cmyk_path, fftest::img::encode_jpeg(w, h, JCS_CMYK, 4, cmyk, 90));
  const GpuJpegCounts before = gpu_jpeg_counts();
  LoadOptions cpu = options(3, false), gpu = options(3, true);
  cpu.height = gpu.height = 30;
  cpu.width = gpu.width = 40;
  const Component a = load_image(cmyk_path, cpu), b = load_image(cmyk_path, gpu);
  CHECK(difference(a, b).mean == 0.0);  // the CPU decoded both
  CHECK(gpu_jpeg_counts().to_cpu - before.to_cpu == 1);
  // A damaged JPEG: the CPU decoder's own error.
  Bytes broken = fftest::img::encode_jpeg(w, h, JCS_RGB, 3, photo_rgb(w, h), 90);
  broken.resize(broken.size() / 3);
  for (size_t i = 200; i < broken.size(); ++i) broken[i] = 0xFF;
  const std::string broken_path = dir.path + "/broken.jpg";
  fftest::img::write_file(broken_path, broken);
  std::string cpu_error, gpu_error;
  try {
    load_image(broken_path, cpu);
  } catch (const ff::ValueError& e) {
    cpu_error = e.what();
  }
  try {
    load_image(broken_path, gpu);
  } catch (const ff::ValueError& e) {
    gpu_error = e.what();
  }
  CHECK(gpu_error == cpu_error);
}
