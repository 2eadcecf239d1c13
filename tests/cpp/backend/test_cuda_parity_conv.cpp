// [cuda] parity of the CUDA backend's convolutions (cuda_conv.cu: cuDNN) with the CPU backend:
// conv2d_forward, conv2d_backward_data and conv2d_backward_filter (with and without the bias
// gradient) for valid / same / causal padding, strides, dilation, 1x1, 3x3 and 5x5 kernels, odd
// sizes and batch 1; NaN and Inf propagating as on the CPU; the same bits on a second run and
// from a captured CUDA graph; a workspace that cannot grow inside a capture; TF32 and
// non-deterministic algorithms when the settings allow them. Float32 without TF32: within 1e-5
// relative (plus 1e-5 of a sum's typical size absolute); the bias gradient is the CPU's bits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "backend/conv_plan.h"
#include "backend/parity_util.h"
#include "core/rng.h"

namespace {

using fftest::parity::compare;
using fftest::parity::cpu;
using fftest::parity::get;
using fftest::parity::gpu;
using fftest::parity::MathScope;
using fftest::parity::put;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

enum class Pad { Valid, Same, Causal };

struct ConvCase {
  int64_t N, H, W, C, KH, KW, F;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  Pad pad = Pad::Valid;
};

// One dimension resolved as the layers do (Keras's valid / same / causal): (pad before, out).
std::pair<int64_t, int64_t> resolve(int64_t in, int64_t k, int64_t s, int64_t d, Pad pad) {
  const int64_t span = ff::conv_span(k, d);
  switch (pad) {
    case Pad::Valid: return {0, (in - span) / s + 1};
    case Pad::Same: {
      const int64_t out = (in + s - 1) / s;
      return {std::max<int64_t>((out - 1) * s + span - in, 0) / 2, out};
    }
    case Pad::Causal: return {span - 1, (in - 1) / s + 1};
  }
  return {0, 0};
}

ff::Conv2DGeometry geometry(const ConvCase& c) {
  ff::Conv2DGeometry g;
  g.N = c.N, g.H = c.H, g.W = c.W, g.C = c.C, g.KH = c.KH, g.KW = c.KW, g.F = c.F;
  g.stride_h = c.sh, g.stride_w = c.sw, g.dilation_h = c.dh, g.dilation_w = c.dw;
  // Causal pads the rows of a Conv1D (H = 1) and its columns: both dimensions alike here.
  std::tie(g.pad_top, g.OH) = resolve(c.H, c.KH, c.sh, c.dh, c.pad);
  std::tie(g.pad_left, g.OW) = resolve(c.W, c.KW, c.sw, c.dw, c.pad);
  return g;
}

std::string describe(const ff::Conv2DGeometry& g) {
  return "N=" + std::to_string(g.N) + " HxWxC=" + std::to_string(g.H) + "x" + std::to_string(g.W) +
         "x" + std::to_string(g.C) + " K=" + std::to_string(g.KH) + "x" + std::to_string(g.KW) +
         " F=" + std::to_string(g.F) + " stride=" + std::to_string(g.stride_h) + "x" +
         std::to_string(g.stride_w) + " dilation=" + std::to_string(g.dilation_h) + "x" +
         std::to_string(g.dilation_w) + " pad=" + std::to_string(g.pad_top) + "x" +
         std::to_string(g.pad_left) + " out=" + std::to_string(g.OH) + "x" + std::to_string(g.OW);
}

std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 2.0f * ff::Philox::uniform(seed, 0, i) - 1.0f;
  return v;
}

struct ConvData {
  std::vector<float> x, kernel, dy;
};

ConvData make_data(const ff::Conv2DGeometry& g, uint64_t seed) {
  return {random_values(g.N * g.H * g.W * g.C, seed),
          random_values(g.KH * g.KW * g.C * g.F, seed + 1),
          random_values(g.N * g.OH * g.OW * g.F, seed + 2)};
}

struct ConvResult {
  std::vector<float> y, dx, dkernel, dbias, dkernel_alone;
};

// The three functions on `be`; every output starts as NaN, so a value left unwritten shows.
ConvResult run_conv(ff::Backend& be, const ff::Conv2DGeometry& g, const ConvData& d) {
  auto t = [&](const std::vector<float>& v) { return put(be, {static_cast<int64_t>(v.size())}, v); };
  auto nan = [&](int64_t n) {
    return put(be, {n}, std::vector<float>(static_cast<size_t>(n), kNaN));
  };
  auto x = t(d.x), kernel = t(d.kernel), dy = t(d.dy);
  auto y = nan(g.N * g.OH * g.OW * g.F), dx = nan(g.N * g.H * g.W * g.C);
  auto dk = nan(g.KH * g.KW * g.C * g.F), db = nan(g.F), dk2 = nan(g.KH * g.KW * g.C * g.F);
  be.conv2d_forward(g, x.data<float>(), kernel.data<float>(), y.data<float>());
  be.conv2d_backward_data(g, dy.data<float>(), kernel.data<float>(), dx.data<float>());
  be.conv2d_backward_filter(g, x.data<float>(), dy.data<float>(), dk.data<float>(),
                            db.data<float>());
  be.conv2d_backward_filter(g, x.data<float>(), dy.data<float>(), dk2.data<float>(), nullptr);
  return {get(y), get(dx), get(dk), get(db), get(dk2)};
}

// 1e-5 of a sum of n products of values in [-1, 1] (its typical size is sqrt(n)).
double sum_abs(int64_t n) { return 1e-5 * std::sqrt(static_cast<double>(std::max<int64_t>(n, 1))); }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void check_parity(const ff::Conv2DGeometry& g, const ConvResult& want, const ConvResult& got,
                  double rel = 1e-5) {
  const double scale = rel / 1e-5;
  CHECK(compare(want.y, got.y, rel, scale * sum_abs(g.KH * g.KW * g.C)) == "");
  CHECK(compare(want.dx, got.dx, rel, scale * sum_abs(g.KH * g.KW * g.F)) == "");
  CHECK(compare(want.dkernel, got.dkernel, rel, scale * sum_abs(g.N * g.OH * g.OW)) == "");
  CHECK(compare(want.dkernel_alone, got.dkernel_alone, rel, scale * sum_abs(g.N * g.OH * g.OW)) ==
        "");
  CHECK(same_bits(want.dbias, got.dbias));  // the CPU's order of float sums
}

const ConvCase kCases[] = {
    {2, 7, 5, 3, 1, 1, 4},                                  // 1x1, odd sizes
    {1, 9, 9, 3, 3, 3, 8, 1, 1, 1, 1, Pad::Same},           // batch 1, symmetric same
    {3, 10, 12, 5, 3, 3, 6, 2, 2, 1, 1, Pad::Same},         // stride 2 same: padded copy
    {2, 11, 9, 4, 3, 3, 5, 2, 2, 1, 1, Pad::Valid},         // stride 2 valid, odd
    {2, 13, 11, 3, 5, 5, 4, 1, 1, 2, 2, Pad::Same},         // 5x5 dilated same
    {2, 17, 16, 2, 5, 5, 3, 3, 3, 1, 1, Pad::Valid},        // stride 3, rows left unread
    {2, 12, 12, 3, 3, 3, 4, 2, 2, 2, 2, Pad::Same},         // stride and dilation
    {2, 9, 14, 3, 3, 5, 4, 1, 2, 1, 1, Pad::Same},          // rectangular kernel and stride
    {4, 1, 20, 6, 1, 3, 5, 1, 1, 1, 2, Pad::Causal},        // causal Conv1D, dilated
    {3, 1, 17, 4, 1, 5, 7, 1, 2, 1, 1, Pad::Same},          // Conv1D same stride 2
    {1, 5, 5, 1, 5, 5, 1},                                  // the window is the image
    {8, 28, 28, 1, 3, 3, 32},                               // the small CNN's first layer
    {8, 13, 13, 32, 3, 3, 64},                              // and its second
    {4, 32, 32, 16, 3, 3, 32, 2, 2, 1, 1, Pad::Same},       // ResNet's downsampling
    {4, 16, 16, 32, 1, 1, 64, 2, 2, 1, 1, Pad::Valid},      // ResNet's 1x1 shortcut
};

}  // namespace

TEST_CASE("CUDA convolutions agree with the CPU for every padding, stride, dilation and kernel",
          "[cuda]") {
  ff::Backend& be = gpu();
  uint64_t seed = 300;
  for (const ConvCase& c : kCases) {
    const ff::Conv2DGeometry g = geometry(c);
    INFO(describe(g));
    const ConvData d = make_data(g, seed += 5);
    check_parity(g, run_conv(cpu(), g, d), run_conv(be, g, d));
  }
}

TEST_CASE("CUDA convolutions propagate NaN and Inf as the CPU does", "[cuda]") {
  ff::Backend& be = gpu();
  for (const ConvCase& c : {ConvCase{2, 9, 9, 3, 3, 3, 4, 1, 1, 1, 1, Pad::Same},
                            ConvCase{2, 10, 10, 3, 3, 3, 4, 2, 2, 1, 1, Pad::Same},
                            ConvCase{2, 11, 11, 3, 5, 5, 4}}) {
    const ff::Conv2DGeometry g = geometry(c);
    INFO(describe(g));
    ConvData d = make_data(g, 400);
    auto x_at = [&](int64_t n, int64_t h, int64_t w, int64_t ch) -> float& {
      return d.x[static_cast<size_t>(((n * g.H + h) * g.W + w) * g.C + ch)];
    };
    auto dy_at = [&](int64_t n, int64_t h, int64_t w, int64_t f) -> float& {
      return d.dy[static_cast<size_t>(((n * g.OH + h) * g.OW + w) * g.F + f)];
    };
    x_at(0, 4, 4, 1) = kNaN;
    x_at(1, 0, g.W - 1, 0) = kInf;
    dy_at(0, 2, 2, 3) = kNaN;
    dy_at(1, g.OH - 1, 0, 0) = -kInf;
    const ConvResult want = run_conv(cpu(), g, d), got = run_conv(be, g, d);
    check_parity(g, want, got);
    // NaN reached the outputs whose windows hold it, and not the others.
    CHECK(std::count_if(got.y.begin(), got.y.end(), [](float v) { return std::isnan(v); }) > 0);
    CHECK(std::count_if(got.y.begin(), got.y.end(), [](float v) { return std::isfinite(v); }) > 0);
    CHECK(std::count_if(got.dx.begin(), got.dx.end(), [](float v) { return std::isnan(v); }) > 0);
    CHECK(std::isnan(got.dbias[3]));
  }
}

TEST_CASE("CUDA convolutions give the same bits on every run and from a captured graph",
          "[cuda]") {
  ff::Backend& be = gpu();
  for (const ConvCase& c : {ConvCase{16, 16, 16, 16, 3, 3, 32, 1, 1, 1, 1, Pad::Same},
                            ConvCase{16, 16, 16, 16, 3, 3, 32, 2, 2, 1, 1, Pad::Same}}) {
    const ff::Conv2DGeometry g = geometry(c);
    INFO(describe(g));
    const ConvData d = make_data(g, 500);
    const ConvResult first = run_conv(be, g, d), second = run_conv(be, g, d);
    CHECK(same_bits(first.y, second.y));
    CHECK(same_bits(first.dx, second.dx));
    CHECK(same_bits(first.dkernel, second.dkernel));
    CHECK(same_bits(first.dbias, second.dbias));

    // Captured after the eager calls above (plans made, workspace large enough), replayed twice.
    auto t = [&](const std::vector<float>& v) { return put(be, {static_cast<int64_t>(v.size())}, v); };
    auto x = t(d.x), kernel = t(d.kernel), dy = t(d.dy);
    auto y = t(std::vector<float>(first.y.size(), kNaN));
    auto dx = t(std::vector<float>(first.dx.size(), kNaN));
    auto dk = t(std::vector<float>(first.dkernel.size(), kNaN));
    auto db = t(std::vector<float>(first.dbias.size(), kNaN));
    ff::Device& dev = be.device();
    dev.synchronize();
    dev.begin_capture(0);
    be.conv2d_forward(g, x.data<float>(), kernel.data<float>(), y.data<float>());
    be.conv2d_backward_data(g, dy.data<float>(), kernel.data<float>(), dx.data<float>());
    be.conv2d_backward_filter(g, x.data<float>(), dy.data<float>(), dk.data<float>(),
                              db.data<float>());
    const ff::GraphId graph = dev.end_capture(0);
    for (int replay = 0; replay < 2; ++replay) dev.launch_graph(graph, 0);
    CHECK(same_bits(get(y), first.y));
    CHECK(same_bits(get(dx), first.dx));
    CHECK(same_bits(get(dk), first.dkernel));
    CHECK(same_bits(get(db), first.dbias));
    dev.destroy_graph(graph);
  }
}

TEST_CASE("a CUDA convolution that would grow its workspace inside a capture says so",
          "[cuda]") {
  ff::Backend& be = gpu();
  // A padded copy of 64 x 130 x 130 x 32 floats (138 MB): more than any geometry above needed.
  const ff::Conv2DGeometry g = geometry({64, 128, 128, 32, 3, 3, 4, 2, 2, 1, 1, Pad::Same});
  REQUIRE_FALSE(ff::symmetric_conv(g).direct);
  auto x = put(be, {g.N * g.H * g.W * g.C}, std::vector<float>(static_cast<size_t>(g.N * g.H * g.W * g.C), 1.0f));
  auto kernel = put(be, {g.KH * g.KW * g.C * g.F}, random_values(g.KH * g.KW * g.C * g.F, 600));
  auto y = ff::Tensor::empty(be.device(), {g.N * g.OH * g.OW * g.F}, ff::DType::Float32);
  ff::Device& dev = be.device();
  dev.synchronize();
  dev.begin_capture(0);
  std::string error;
  try {
    be.conv2d_forward(g, x.data<float>(), kernel.data<float>(), y.data<float>());
  } catch (const std::exception& e) {
    error = e.what();
  }
  const ff::GraphId graph = dev.end_capture(0);  // nothing was enqueued: an empty graph
  dev.destroy_graph(graph);
  CHECK_THAT(error, Catch::Contains("conv2d_forward") &&
                        Catch::Contains("cannot grow it while the stream is captured"));
  // Eagerly it grows, and the same call then captures.
  be.conv2d_forward(g, x.data<float>(), kernel.data<float>(), y.data<float>());
  const auto eager = get(y);
  dev.begin_capture(0);
  be.conv2d_forward(g, x.data<float>(), kernel.data<float>(), y.data<float>());
  const ff::GraphId again = dev.end_capture(0);
  be.fill(y.data<float>(), static_cast<int64_t>(eager.size()), kNaN);
  dev.launch_graph(again, 0);
  CHECK(same_bits(get(y), eager));
  dev.destroy_graph(again);
}

TEST_CASE("CUDA convolutions run with TF32 and with non-deterministic algorithms when allowed",
          "[cuda]") {
  ff::Backend& be = gpu();
  const ff::Conv2DGeometry g = geometry({8, 16, 16, 32, 3, 3, 64, 1, 1, 1, 1, Pad::Same});
  const ConvData d = make_data(g, 700);
  const ConvResult want = run_conv(cpu(), g, d);
  {
    MathScope tf32(true, true);  // TF32 rounds inputs to 10 bits of mantissa: about 1e-3
    check_parity(g, want, run_conv(be, g, d), 1e-2);
  }
  {
    MathScope free(false, false);  // exact float32, any algorithm: sums in another order only
    const ConvResult got = run_conv(be, g, d);
    check_parity(g, want, got);
  }
  check_parity(g, want, run_conv(be, g, d));  // the scopes restored the parity settings
}

TEST_CASE("CUDA convolutions with an empty batch write what the CPU writes", "[cuda]") {
  ff::Backend& be = gpu();
  ff::Conv2DGeometry g = geometry({1, 9, 9, 3, 3, 3, 4, 1, 1, 1, 1, Pad::Same});
  g.N = 0;
  auto x = ff::Tensor::empty(be.device(), {0}, ff::DType::Float32);
  auto dk = put(be, {g.KH * g.KW * g.C * g.F},
                std::vector<float>(static_cast<size_t>(g.KH * g.KW * g.C * g.F), kNaN));
  auto db = put(be, {g.F}, std::vector<float>(static_cast<size_t>(g.F), kNaN));
  be.conv2d_forward(g, x.data<float>(), dk.data<float>(), x.data<float>());
  be.conv2d_backward_filter(g, x.data<float>(), x.data<float>(), dk.data<float>(),
                            db.data<float>());
  for (float v : get(dk)) CHECK(v == 0.0f);
  for (float v : get(db)) CHECK(v == 0.0f);
}

TEST_CASE("CUDA convolutions refuse a geometry cuDNN cannot run, naming it", "[cuda]") {
  ff::Backend& be = gpu();
  ff::Conv2DGeometry g = geometry({1, 9, 9, 3, 3, 3, 4});
  g.stride_h = 0;
  auto buf = ff::Tensor::empty(be.device(), {1024}, ff::DType::Float32);
  CHECK_THROWS_WITH(be.conv2d_forward(g, buf.data<float>(), buf.data<float>(), buf.data<float>()),
                    Catch::Contains("conv2d_forward on the CUDA backend") &&
                        Catch::Contains("strides 0x1"));
}
