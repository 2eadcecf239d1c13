// Tests for layers/conv2d.cpp and the CPU convolution kernels (backend/cpu/conv.cpp): output
// values against a naive double-precision convolution and finite-difference gradients (shared
// helper) over many geometries (strides, same/valid, dilation, non-square kernels and inputs,
// several channels, batch > 1, the 1x1 fast path), Keras's output-shape formulas and TF's "same"
// padding split, NaN propagation, a batch large enough to be processed in several chunks,
// results independent of the thread count, and the shape errors. Value and gradient tests run
// each convolution implementation the CPU backend has (im2col + GEMM; oneDNN primitives where
// built).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend/cpu/conv.h"
#include "core/errors.h"
#include "core/half.h"
#include "gradient_check.h"
#include "layers/conv2d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

namespace {

// Runs a test section with one convolution implementation, restoring the default afterwards.
struct UseConvImpl {
  explicit UseConvImpl(ff::cpu::ConvImpl impl) : saved(ff::cpu::conv_impl()) {
    ff::cpu::set_conv_impl(impl);
  }
  ~UseConvImpl() { ff::cpu::set_conv_impl(saved); }
  ff::cpu::ConvImpl saved;
};

// Every implementation this build has.
std::vector<ff::cpu::ConvImpl> conv_impls() {
  std::vector<ff::cpu::ConvImpl> impls{ff::cpu::ConvImpl::Im2col};
  if (ff::cpu::onednn_conv_available()) impls.push_back(ff::cpu::ConvImpl::OneDnn);
  return impls;
}

struct ConvCase {
  ff::Shape input;  // (N, H, W, C)
  int64_t filters;
  std::vector<int64_t> kernel, strides, dilation;
  std::string padding, activation;
  bool use_bias;
};

RefConv ref_geometry(const ConvCase& c) {
  return {c.input[0], c.input[1], c.input[2], c.input[3], c.kernel[0], c.kernel[1], c.filters,
          c.strides[0], c.strides[1], c.dilation[0], c.dilation[1], c.padding};
}

void check_forward(const ConvCase& c, const LayerCheckResult& r) {
  const RefConv g = ref_geometry(c);
  const auto z = ref_conv(g, r.x, r.params[0], c.use_bias ? &r.params[1] : nullptr);
  const auto want = activation_ref(c.activation, z, static_cast<int64_t>(z.size()) / c.filters,
                                   c.filters);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("output element " << i);
    REQUIRE(r.y[i] == Approx(want[i]).margin(1e-5).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("Conv2D: forward matches a naive convolution and gradients match finite differences",
          "[layers][conv2d][gradient]") {
  const std::vector<ConvCase> cases = {
      {{2, 5, 6, 3}, 4, {3, 3}, {1, 1}, {1, 1}, "valid", "linear", true},
      {{2, 6, 5, 2}, 3, {3, 2}, {2, 1}, {1, 1}, "same", "tanh", true},
      {{3, 7, 7, 2}, 2, {3, 3}, {1, 1}, {2, 2}, "same", "relu", false},
      {{2, 6, 7, 3}, 3, {2, 3}, {2, 2}, {1, 1}, "valid", "linear", true},
      {{1, 5, 5, 1}, 2, {4, 4}, {3, 3}, {1, 1}, "same", "sigmoid", true},   // even kernel: TF split
      {{2, 4, 5, 3}, 5, {1, 1}, {1, 1}, {1, 1}, "valid", "linear", true},   // 1x1 GEMM path
      {{2, 5, 5, 2}, 3, {1, 1}, {2, 2}, {1, 1}, "valid", "linear", false},  // strided 1x1
      {{2, 9, 8, 2}, 2, {3, 3}, {2, 2}, {2, 2}, "same", "linear", true},    // stride + dilation
      {{2, 6, 8, 2}, 3, {2, 4}, {1, 3}, {2, 1}, "valid", "elu", true},
      {{2, 3, 3, 4}, 2, {5, 5}, {1, 1}, {1, 1}, "same", "linear", true},    // kernel > input, same
  };
  const size_t idx = GENERATE(range<size_t>(0, 10));
  const auto impl = GENERATE_COPY(from_range(conv_impls()));
  const ConvCase& c = cases[idx];
  CAPTURE(idx, static_cast<int>(impl), c.input, c.kernel, c.strides, c.dilation, c.padding,
          c.activation);
  UseConvImpl use(impl);
  ff::Conv2D layer("conv2d", 3, c.filters, c.kernel, c.strides, c.padding, c.dilation,
                   c.activation, c.use_bias, "glorot_uniform", "zeros");
  LayerCheckSpec spec;
  spec.input_shape = c.input;
  spec.seed = 21 + idx;
  if (c.activation == "relu") {
    spec.options.step = 1e-3;
    spec.accept = [&](const ff::Tensor& x, const std::vector<ff::Tensor>& p, double h) {
      const auto z = ref_conv(ref_geometry(c), to_vector(x), to_vector(p[0]), nullptr);
      return preactivations_away_from_zero(z, x, p, h);
    };
  }
  const auto r = check_layer_gradients(layer, spec);
  const RefConv g = ref_geometry(c);
  CHECK(r.output_shape == ff::Shape{c.input[0], g.ah().out, g.aw().out, c.filters});
  REQUIRE(r.dparams.size() == (c.use_bias ? 2u : 1u));
  check_forward(c, r);
  require_gradients_match(r);
}

TEST_CASE("Conv2D: output shapes follow Keras's formulas and TF's same-padding split",
          "[layers][conv2d]") {
  struct Row {
    int64_t h, w, kh, kw, sh, sw, dh, dw;
    const char* padding;
    int64_t oh, ow, pad_top, pad_left;
  };
  const std::vector<Row> rows = {
      {28, 28, 3, 3, 1, 1, 1, 1, "valid", 26, 26, 0, 0},
      {28, 28, 3, 3, 1, 1, 1, 1, "same", 28, 28, 1, 1},
      {28, 28, 3, 3, 2, 2, 1, 1, "same", 14, 14, 0, 0},  // total 1: nothing before, 1 after
      {7, 7, 3, 3, 2, 2, 1, 1, "valid", 3, 3, 0, 0},
      {8, 8, 3, 3, 2, 2, 1, 1, "valid", 3, 3, 0, 0},
      {5, 9, 3, 3, 1, 1, 2, 2, "valid", 1, 5, 0, 0},
      {5, 9, 3, 3, 1, 1, 2, 2, "same", 5, 9, 2, 2},
      {5, 6, 4, 4, 1, 1, 1, 1, "same", 5, 6, 1, 1},      // total 3: 1 before, 2 after
      {10, 11, 2, 5, 3, 4, 1, 1, "same", 4, 3, 0, 1},
      {32, 20, 5, 1, 3, 2, 1, 1, "valid", 10, 10, 0, 0},
  };
  for (const Row& r : rows) {
    CAPTURE(r.h, r.w, r.kh, r.kw, r.sh, r.sw, r.dh, r.dw, r.padding);
    ff::Conv2D layer("c", 1, 7, {r.kh, r.kw}, {r.sh, r.sw}, r.padding, {r.dh, r.dw}, "linear",
                     true, "glorot_uniform", "zeros");
    CHECK(layer.build({ff::kNone, r.h, r.w, 3}) == ff::Shape{ff::kNone, r.oh, r.ow, 7});
    const ff::Conv2DGeometry g = layer.geometry(4);
    CHECK(g.N == 4);
    CHECK(g.pad_top == r.pad_top);
    CHECK(g.pad_left == r.pad_left);
    // Cross-check against the test's own formula.
    CHECK(ref_axis(r.h, r.kh, r.sh, r.dh, r.padding).out == r.oh);
    CHECK(ref_axis(r.w, r.kw, r.sw, r.dw, r.padding).out == r.ow);
    const auto specs = layer.param_specs();
    REQUIRE(specs.size() == 2);
    CHECK(specs[0].name == "kernel");
    CHECK(specs[0].shape == ff::Shape{r.kh, r.kw, 3, 7});  // Keras's layout
    CHECK(specs[1].shape == ff::Shape{7});
  }
}

TEST_CASE("Conv2D: NaN in the input gives NaN exactly in the outputs whose window covers it",
          "[layers][conv2d][numerics]") {
  const auto impl = GENERATE_COPY(from_range(conv_impls()));
  CAPTURE(static_cast<int>(impl));
  UseConvImpl use(impl);
  ff::Backend& be = fftest::backend();
  const int64_t N = 2, H = 6, W = 6, C = 2, F = 3;
  ff::Conv2D layer("conv2d", 1, F, {3, 3}, {1, 1}, "valid", {1, 1}, "relu", true,
                   "glorot_uniform", "zeros");
  layer.build({N, H, W, C});
  ff::Tensor k = make_tensor({3, 3, C, F}, uniform_values(9 * C * F, 3, -1, 1));
  ff::Tensor b = make_tensor({F}, {0.1f, 0.2f, 0.3f});
  ff::Tensor gk = ff::Tensor::zeros(be.device(), {3, 3, C, F}), gb = ff::Tensor::zeros(be.device(), {F});
  layer.bind({k, b}, {gk, gb});
  std::vector<ff::Tensor> scratch;
  for (const auto& s : layer.scratch_shapes(N)) scratch.push_back(ff::Tensor::zeros(be.device(), s));
  auto xv = uniform_values(N * H * W * C, 4, -1, 1);
  const int64_t nan_h = 2, nan_w = 4;
  xv[((1 * H + nan_h) * W + nan_w) * C + 1] = std::numeric_limits<float>::quiet_NaN();
  ff::Tensor x = make_tensor({N, H, W, C}, xv);
  ff::Tensor y = ff::Tensor::zeros(be.device(), {N, 4, 4, F});
  fftest::TestContext test_context(true, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  layer.forward(x, y, scratch, ctx);
  const auto yv = to_vector(y);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < 4; ++oh)
      for (int64_t ow = 0; ow < 4; ++ow)
        for (int64_t f = 0; f < F; ++f) {
          const bool covers = n == 1 && oh <= nan_h && nan_h <= oh + 2 && ow <= nan_w &&
                              nan_w <= ow + 2;
          CAPTURE(n, oh, ow, f);
          CHECK(std::isnan(yv[((n * 4 + oh) * 4 + ow) * F + f]) == covers);
        }
  // Backward: NaN reaches the kernel gradient (through x) and dx.
  ff::Tensor dy = make_tensor({N, 4, 4, F}, uniform_values(N * 16 * F, 5, -1, 1));
  ff::Tensor dx = ff::Tensor::zeros(be.device(), {N, H, W, C});
  layer.backward(x, y, dy, &dx, scratch, ctx);
  bool kernel_nan = false;
  for (float v : to_vector(gk)) kernel_nan |= std::isnan(v);
  CHECK(kernel_nan);
  bool sample0_finite = true;
  const auto dxv = to_vector(dx);
  for (int64_t i = 0; i < H * W * C; ++i) sample0_finite &= std::isfinite(dxv[i]);
  CHECK(sample0_finite);
}

TEST_CASE("Conv2D kernels: a batch processed in several chunks matches the reference",
          "[backend][conv2d]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  // 5 samples of 40x40x24 with a 3x3 kernel: 1.4 MB of columns per sample, so the im2col path's
  // 4 MB column budget splits the batch into chunks (3 + 2), and the filter gradient (1 MB per
  // group) sums 5 one-sample groups.
  const auto impl = GENERATE_COPY(from_range(conv_impls()));
  CAPTURE(static_cast<int>(impl));
  UseConvImpl use(impl);
  ff::Backend& be = fftest::backend();
  const RefConv g{5, 40, 40, 24, 3, 3, 4, 1, 1, 1, 1, "same"};
  ff::Conv2DGeometry geo;
  geo.N = g.N; geo.H = g.H; geo.W = g.W; geo.C = g.C; geo.KH = g.KH; geo.KW = g.KW; geo.F = g.F;
  geo.pad_top = g.ah().pad; geo.pad_left = g.aw().pad; geo.OH = g.ah().out; geo.OW = g.aw().out;
  const auto x = uniform_values(g.N * g.H * g.W * g.C, 31, -1, 1);
  const auto k = uniform_values(g.KH * g.KW * g.C * g.F, 32, -1, 1);
  const auto dy = uniform_values(g.N * geo.OH * geo.OW * g.F, 33, -1, 1);
  std::vector<float> y(dy.size()), dx(x.size()), dk(k.size());
  be.conv2d_forward(geo, x.data(), k.data(), y.data());
  const auto want = ref_conv(g, x, k, nullptr);
  for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(want[i]).margin(1e-4));
  // Filter gradient: dk[kh,kw,c,f] = sum over n, oh, ow of x[...] dy[...]; data gradient by
  // the adjoint identity <conv(x), dy> = <x, dx(dy)> and <conv(x), dy> = <k, dk(x, dy)>.
  be.conv2d_backward_filter(geo, x.data(), dy.data(), dk.data(), nullptr);
  be.conv2d_backward_data(geo, dy.data(), k.data(), dx.data());
  double lhs = 0, via_dx = 0, via_dk = 0;
  for (size_t i = 0; i < y.size(); ++i) lhs += want[i] * dy[i];
  for (size_t i = 0; i < x.size(); ++i) via_dx += static_cast<double>(x[i]) * dx[i];
  for (size_t i = 0; i < k.size(); ++i) via_dk += static_cast<double>(k[i]) * dk[i];
  CHECK(via_dx == Approx(lhs).epsilon(1e-4));
  CHECK(via_dk == Approx(lhs).epsilon(1e-4));
  // And one filter-gradient element directly.
  double d0 = 0;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < geo.OH; ++oh)
      for (int64_t ow = 0; ow < geo.OW; ++ow) {
        const int64_t ih = oh - 1 + 2, iw = ow - 1 + 1;  // kh = 2, kw = 1, c = 5, f = 3
        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
        d0 += static_cast<double>(x[((n * g.H + ih) * g.W + iw) * g.C + 5]) *
              dy[((n * geo.OH + oh) * geo.OW + ow) * g.F + 3];
      }
  CHECK(dk[((2 * 3 + 1) * g.C + 5) * g.F + 3] == Approx(d0).margin(1e-3));
}

TEST_CASE("Conv2D kernels: the same bits on every run and for 1 or 2 threads",
          "[backend][conv2d]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  const auto impl = GENERATE_COPY(from_range(conv_impls()));
  CAPTURE(static_cast<int>(impl));
  UseConvImpl use(impl);
  ff::Backend& be = fftest::backend();
  // The small CNN's two convolutions (batch 16), a strided, padded, dilated one, and one sample
  // of a larger image (the filter gradient's single-group path, where the GEMM threads itself).
  ff::Conv2DGeometry a, b, c, d;
  a.N = 16; a.H = 28; a.W = 28; a.C = 1; a.KH = 3; a.KW = 3; a.F = 32; a.OH = 26; a.OW = 26;
  b.N = 16; b.H = 13; b.W = 13; b.C = 32; b.KH = 3; b.KW = 3; b.F = 64; b.OH = 11; b.OW = 11;
  c.N = 5; c.H = 17; c.W = 12; c.C = 6; c.KH = 3; c.KW = 2; c.F = 7; c.stride_h = 2;
  c.stride_w = 1; c.dilation_h = 1; c.dilation_w = 2; c.pad_top = 1; c.pad_left = 1;
  c.OH = 9; c.OW = 12;
  d.N = 1; d.H = 48; d.W = 40; d.C = 16; d.KH = 3; d.KW = 3; d.F = 24; d.pad_top = 1;
  d.pad_left = 1; d.OH = 48; d.OW = 40;
  for (const ff::Conv2DGeometry& geo : {a, b, c, d}) {
    CAPTURE(geo.H, geo.W, geo.C, geo.F);
    const auto x = uniform_values(geo.N * geo.H * geo.W * geo.C, 41, -1, 1);
    const auto k = uniform_values(geo.KH * geo.KW * geo.C * geo.F, 42, -1, 1);
    const auto dy = uniform_values(geo.N * geo.OH * geo.OW * geo.F, 43, -1, 1);
    auto run = [&]() {
      std::vector<float> y(dy.size()), dx(x.size()), dk(k.size()), db(geo.F);
      be.conv2d_forward(geo, x.data(), k.data(), y.data());
      be.conv2d_backward_filter(geo, x.data(), dy.data(), dk.data(), db.data());
      be.conv2d_backward_data(geo, dy.data(), k.data(), dx.data());
      return std::vector<std::vector<float>>{y, dx, dk, db};
    };
    const auto first = run();
    CHECK(run() == first);
    const auto one = fftest::with_threads(1, run);
    const auto two = fftest::with_threads(2, run);
    for (size_t i = 0; i < first.size(); ++i) {
      CAPTURE(i);  // 0 y, 1 dx, 2 dkernel, 3 dbias
      CHECK(one[i] == first[i]);
      CHECK(two[i] == first[i]);
    }
    // The bias gradient is the column sum of dy.
    for (int64_t f = 0; f < geo.F; ++f) {
      double s = 0;
      for (int64_t r = 0; r < geo.N * geo.OH * geo.OW; ++r) s += dy[r * geo.F + f];
      CHECK(first[3][f] == Approx(s).margin(1e-3));
    }
  }
}

TEST_CASE("Conv2D bfloat16 kernels: float32 results of bfloat16 values, the same bits for 1 or 2 threads",
          "[backend][conv2d][mixed]") {
  // A property of the CPU kernels themselves (oneDNN bfloat16, threads): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  // A layer under mixed_bfloat16 hands the backend bfloat16 values with compute = BFloat16;
  // oneDNN then runs its bfloat16 primitives (float32 accumulation), which must agree with the
  // float32 kernels on the same values up to the order of the sums.
  const auto impl = GENERATE_COPY(from_range(conv_impls()));
  CAPTURE(static_cast<int>(impl));
  UseConvImpl use(impl);
  ff::Backend& be = fftest::backend();
  ff::Conv2DGeometry b, c;
  b.N = 16; b.H = 13; b.W = 13; b.C = 32; b.KH = 3; b.KW = 3; b.F = 64; b.OH = 11; b.OW = 11;
  c.N = 8; c.H = 16; c.W = 16; c.C = 64; c.KH = 3; c.KW = 3; c.F = 64; c.stride_h = 2;
  c.stride_w = 2; c.pad_top = 0; c.pad_left = 0; c.OH = 8; c.OW = 8;  // "same", stride 2
  for (ff::Conv2DGeometry geo : {b, c}) {
    CAPTURE(geo.H, geo.C, geo.stride_h);
    auto bf16 = [](std::vector<float> v) {
      for (float& f : v) f = ff::round_to_bfloat16(f);
      return v;
    };
    const auto x = bf16(uniform_values(geo.N * geo.H * geo.W * geo.C, 51, -1, 1));
    const auto k = bf16(uniform_values(geo.KH * geo.KW * geo.C * geo.F, 52, -1, 1));
    const auto dy = bf16(uniform_values(geo.N * geo.OH * geo.OW * geo.F, 53, -1, 1));
    auto run = [&](ff::DType compute) {
      ff::Conv2DGeometry g = geo;
      g.compute = compute;
      std::vector<float> y(dy.size()), dx(x.size()), dk(k.size());
      be.conv2d_forward(g, x.data(), k.data(), y.data());
      be.conv2d_backward_data(g, dy.data(), k.data(), dx.data());
      be.conv2d_backward_filter(g, x.data(), dy.data(), dk.data(), nullptr);
      return std::vector<std::vector<float>>{y, dx, dk};
    };
    const auto f32 = run(ff::DType::Float32);
    const auto first = run(ff::DType::BFloat16);
    for (size_t i = 0; i < first.size(); ++i) {
      CAPTURE(i);  // 0 y, 1 dx, 2 dkernel
      REQUIRE(first[i].size() == f32[i].size());
      double worst = 0;
      for (size_t j = 0; j < f32[i].size(); ++j)
        worst = std::max(worst, std::fabs(static_cast<double>(first[i][j]) - f32[i][j]) /
                                    (1.0 + std::fabs(f32[i][j])));
      CHECK(worst < 1e-5);
    }
    const auto one = fftest::with_threads(1, [&] { return run(ff::DType::BFloat16); });
    const auto two = fftest::with_threads(2, [&] { return run(ff::DType::BFloat16); });
    CHECK(one == first);
    CHECK(two == first);
  }
}

TEST_CASE("Conv2D: rank, unknown dimensions and a kernel larger than the input raise",
          "[layers][conv2d]") {
  ff::Conv2D rank3("conv2d", 1, 4, {3, 3}, {1, 1}, "valid", {1, 1}, "relu", true,
                   "glorot_uniform", "zeros");
  CHECK_THROWS_AS(rank3.build({ff::kNone, 28, 28}), ff::ValueError);
  CHECK_THROWS_WITH(rank3.build({ff::kNone, 28, 28}),
                    Catch::Contains("Input 0 of layer \"conv2d\" (Conv2D)") &&
                        Catch::Contains("expected ndim=4") &&
                        Catch::Contains("found shape=(None, 28, 28)"));
  CHECK_FALSE(rank3.built());

  ff::Conv2D big("conv2d_1", 1, 4, {5, 3}, {1, 1}, "valid", {1, 1}, "linear", true,
                 "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(big.build({ff::kNone, 4, 10, 1}),
                    Catch::Contains("Input 0 of layer \"conv2d_1\"") &&
                        Catch::Contains("kernel is larger than the unpadded input") &&
                        Catch::Contains("kernel_size=(5, 3)") &&
                        Catch::Contains("found shape=(None, 4, 10, 1)"));
  // Dilation widens the kernel: 3 taps 3 apart span 7 rows.
  ff::Conv2D dil("conv2d_2", 1, 4, {3, 3}, {1, 1}, "valid", {3, 1}, "linear", true,
                 "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(dil.build({ff::kNone, 6, 10, 1}),
                    Catch::Contains("kernel is larger") && Catch::Contains("dilation_rate=(3, 1)"));
  ff::Conv2D dil_ok("conv2d_3", 1, 4, {3, 3}, {1, 1}, "valid", {3, 1}, "linear", true,
                    "glorot_uniform", "zeros");
  CHECK(dil_ok.build({ff::kNone, 7, 10, 1}) == ff::Shape{ff::kNone, 1, 8, 4});
  // The same kernel fits with "same" padding.
  ff::Conv2D same("conv2d_4", 1, 4, {5, 3}, {1, 1}, "same", {1, 1}, "linear", true,
                  "glorot_uniform", "zeros");
  CHECK(same.build({ff::kNone, 4, 10, 1}) == ff::Shape{ff::kNone, 4, 10, 4});

  ff::Conv2D unknown("conv2d_5", 1, 4, {3, 3}, {1, 1}, "valid", {1, 1}, "linear", true,
                     "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(unknown.build({ff::kNone, ff::kNone, ff::kNone, 3}),
                    Catch::Contains("known height, width and channels"));
  // Built for one input shape, called on another: Keras-style mismatch.
  same.check_input({8, 4, 10, 1});
  CHECK_THROWS_WITH(same.check_input({8, 4, 10, 3}),
                    Catch::Contains("expected shape=(None, 4, 10, 1)") &&
                        Catch::Contains("found shape=(8, 4, 10, 3)"));
}

TEST_CASE("Conv2D: constructor arguments are checked with Keras's messages", "[layers][conv2d]") {
  auto make = [](int64_t filters, std::vector<int64_t> k, std::vector<int64_t> s,
                 const std::string& padding, std::vector<int64_t> d) {
    return ff::Conv2D("c", 1, filters, k, s, padding, d, "relu", true, "glorot_uniform", "zeros");
  };
  CHECK_THROWS_WITH(make(0, {3, 3}, {1, 1}, "valid", {1, 1}),
                    Catch::Contains("Invalid value for argument `filters`") &&
                        Catch::Contains("filters=0"));
  CHECK_THROWS_WITH(make(4, {3, 0}, {1, 1}, "valid", {1, 1}),
                    Catch::Contains("The `kernel_size` argument must be a tuple of 2 integers") &&
                        Catch::Contains("do not satisfy `value > 0`"));
  CHECK_THROWS_WITH(make(4, {3, 3}, {-1, 1}, "valid", {1, 1}),
                    Catch::Contains("`strides`") && Catch::Contains("{-1}"));
  CHECK_THROWS_WITH(make(4, {3, 3}, {1, 1}, "valid", {0, 1}), Catch::Contains("`dilation_rate`"));
  CHECK_THROWS_WITH(make(4, {3, 3, 3}, {1, 1}, "valid", {1, 1}),
                    Catch::Contains("must be a tuple of 2 integers") &&
                        Catch::Contains("kernel_size=(3, 3, 3)"));
  CHECK_THROWS_WITH(make(4, {3, 3}, {1, 1}, "causal", {1, 1}),
                    Catch::Contains("The `padding` argument must be one of {'valid', 'same'}"));
  CHECK_THROWS_WITH(ff::Conv2D("c", 1, 4, {3, 3}, {1, 1}, "same", {1, 1}, "relux", true,
                               "glorot_uniform", "zeros"),
                    Catch::Contains("Unknown activation function: 'relux'"));
  CHECK_THROWS_WITH(ff::Conv2D("c", 1, 4, {3, 3}, {1, 1}, "same", {1, 1}, "relu", true,
                               "glorot", "zeros"),
                    Catch::Contains("Unknown initializer: 'glorot'"));
}

TEST_CASE("Conv2D: window arithmetic that overflows is an error, not a wrapped shape",
          "[layers][conv2d][limits]") {
  // (2^62 - 1) * 4 wrapped to -4: a negative span made the "valid" output larger than the input.
  ff::Conv2D wrap("conv2d", 1, 1, {int64_t{1} << 62, 1}, {1, 1}, "valid", {4, 1}, "linear", true,
                  "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(wrap.build({ff::kNone, 8, 8, 1}),
                    Catch::Contains("Layer \"conv2d\" (Conv2D) on input shape=(None, 8, 8, 1)") &&
                        Catch::Contains("window span") && Catch::Contains("overflows"));
  CHECK_FALSE(wrap.built());
  ff::Conv2D same("conv2d_1", 1, 1, {int64_t{1} << 40, 1}, {1, 1}, "same", {int64_t{1} << 30, 1},
                  "linear", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(same.build({ff::kNone, 8, 8, 1}), Catch::Contains("overflows"));
  // A kernel past the per-weight limit: 3 * 3 * 65536 * 65536 elements.
  ff::Conv2D wide("conv2d_2", 1, 65536, {3, 3}, {1, 1}, "same", {1, 1}, "linear", true,
                  "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(wide.build({ff::kNone, 4, 4, 65536}),
                    Catch::Contains("weight \"kernel\" shape=(3, 3, 65536, 65536)") &&
                        Catch::Contains("the limit is 2147483647"));
}

TEST_CASE("Conv2D kernels: a column matrix past int64 or memory is refused before allocating",
          "[layers][conv2d][limits]") {
  // 40000 x 40000 positions x a 40000 x 40000 kernel: 2.56e18 floats per sample, whose byte count
  // overflowed the chunk arithmetic. Checked before any pointer is used.
  ff::Conv2DGeometry g;
  g.N = 2;
  g.H = g.W = g.OH = g.OW = 40000;
  g.C = g.F = 1;
  g.KH = g.KW = 40000;
  g.pad_top = g.pad_left = 19999;
  const ff::cpu::ConvImpl saved = ff::cpu::conv_impl();
  ff::cpu::set_conv_impl(ff::cpu::ConvImpl::Im2col);
  CHECK_THROWS_WITH(ff::cpu::conv2d_forward(fftest::backend(), g, nullptr, nullptr, nullptr),
                    Catch::Contains("40000x40000x1 input with a 40000x40000 kernel") &&
                        Catch::Contains("more than 2^63 - 1 bytes per sample"));
  CHECK_THROWS_AS(ff::cpu::conv2d_backward_data(fftest::backend(), g, nullptr, nullptr, nullptr),
                  ff::ValueError);
  CHECK_THROWS_AS(ff::cpu::conv2d_backward_filter(fftest::backend(), g, nullptr, nullptr, nullptr, nullptr),
                  ff::ValueError);
  // Within int64 but past any memory: 1000 x 1000 positions x a 1000 x 1000 kernel x 64 channels.
  g.H = g.W = g.OH = g.OW = 1000;
  g.KH = g.KW = 1000;
  g.C = 64;
  g.pad_top = g.pad_left = 499;
  CHECK_THROWS_WITH(ff::cpu::conv2d_forward(fftest::backend(), g, nullptr, nullptr, nullptr),
                    Catch::Contains("232.8 TiB per sample"));
  ff::cpu::set_conv_impl(saved);
}
