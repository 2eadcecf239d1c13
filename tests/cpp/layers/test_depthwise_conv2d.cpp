// Tests for layers/depthwise_conv2d.cpp and the depthwise kernels: the kernel in Keras's
// (kh, kw, C, depth_multiplier) layout and bias (C * M); values against a direct double-precision
// depthwise convolution (output channel c * M + m) over valid/same padding, strides, dilation
// and multipliers; finite-difference gradients (shared helper) with and without an activation;
// the kernel gradient over several position chunks equal for any thread count; errors.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/depthwise_conv2d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

namespace {

// y[n, oh, ow, c * M + m] = sum over the window of x[..., c] * k[kh, kw, c, m], in double.
std::vector<double> ref_depthwise(const std::vector<float>& x, const std::vector<float>& k,
                                  int64_t N, int64_t H, int64_t W, int64_t C, int64_t M,
                                  int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t dh,
                                  int64_t dw, const std::string& padding) {
  const RefAxis ah = ref_axis(H, KH, sh, dh, padding), aw = ref_axis(W, KW, sw, dw, padding);
  std::vector<double> y(static_cast<size_t>(N * ah.out * aw.out * C * M), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < ah.out; ++oh)
      for (int64_t ow = 0; ow < aw.out; ++ow)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t m = 0; m < M; ++m) {
            double s = 0;
            for (int64_t a = 0; a < KH; ++a)
              for (int64_t b = 0; b < KW; ++b) {
                const int64_t ih = oh * sh - ah.pad + a * dh, iw = ow * sw - aw.pad + b * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += static_cast<double>(x[((n * H + ih) * W + iw) * C + c]) *
                     k[((a * KW + b) * C + c) * M + m];
              }
            y[(((n * ah.out + oh) * aw.out + ow) * C + c) * M + m] = s;
          }
  return y;
}

}  // namespace

TEST_CASE("DepthwiseConv2D: values and gradients", "[layers][depthwise_conv2d][gradient]") {
  struct Case {
    std::vector<int64_t> k, s, d;
    int64_t M;
    std::string padding, act;
  };
  const Case c = GENERATE(Case{{3, 3}, {1, 1}, {1, 1}, 1, "valid", "linear"},
                          Case{{3, 2}, {2, 2}, {1, 1}, 2, "same", "linear"},
                          Case{{2, 2}, {1, 2}, {2, 1}, 3, "same", "tanh"},
                          Case{{1, 3}, {3, 1}, {1, 1}, 1, "valid", "linear"});
  CAPTURE(c.k[0], c.k[1], c.s[0], c.s[1], c.M, c.padding, c.act);
  const int64_t N = 2, H = 5, W = 6, C = 3;
  ff::DepthwiseConv2D layer("depthwise_conv2d", 1, c.k, c.s, c.padding, c.M, c.d, c.act, true,
                            "glorot_uniform", "zeros");
  CHECK(layer.class_name() == "DepthwiseConv2D");
  LayerCheckSpec spec;
  spec.input_shape = {N, H, W, C};
  spec.seed = 4;
  const auto r = check_layer_gradients(layer, spec);
  const auto specs = layer.param_specs();
  REQUIRE(specs.size() == 2);
  CHECK(specs[0].name == "kernel");
  CHECK(specs[0].shape == ff::Shape{c.k[0], c.k[1], C, c.M});
  CHECK(specs[1].shape == ff::Shape{C * c.M});
  const auto z = ref_depthwise(r.x, r.params[0], N, H, W, C, c.M, c.k[0], c.k[1], c.s[0], c.s[1],
                               c.d[0], c.d[1], c.padding);
  REQUIRE(r.y.size() == z.size());
  for (size_t i = 0; i < z.size(); ++i)
    CHECK(r.y[i] == Approx(act_ref(c.act, z[i] + r.params[1][i % (C * c.M)])).margin(1e-5));
  require_gradients_match(r);
}

TEST_CASE("DepthwiseConv2D: the kernel gradient is the same for any thread count",
          "[layers][depthwise_conv2d]") {
  ff::Backend& be = backend();
  ff::Conv2DGeometry g;
  g.N = 3;
  g.H = g.W = 40;
  g.C = 5;
  g.F = 2;
  g.KH = g.KW = 3;
  g.pad_top = g.pad_left = 1;
  g.OH = g.OW = 40;  // 4800 positions: two chunks
  const int64_t nx = 3 * 40 * 40 * 5, ny = nx * 2;
  const auto xv = uniform_values(nx, 1, -1.0f, 1.0f), dyv = uniform_values(ny, 2, -1.0f, 1.0f);
  auto run = [&] {
    ff::Tensor x = make_tensor({nx}, xv), dy = make_tensor({ny}, dyv);
    ff::Tensor dk = ff::Tensor::zeros(device(), {3 * 3 * 5 * 2});
    be.depthwise_conv2d_backward_filter(g, x.data<float>(), dy.data<float>(), dk.data<float>());
    return to_vector(dk);
  };
  const auto one = with_threads(1, run), many = with_threads(4, run);
  CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
  // Tap (1, 1) of channel 0, multiplier 0 (the centre: no padding involved) against a double sum.
  double want = 0;
  for (int64_t p = 0; p < 3 * 40 * 40; ++p) want += static_cast<double>(xv[p * 5]) * dyv[p * 10];
  CHECK(one[((1 * 3 + 1) * 5 + 0) * 2 + 0] == Approx(want).epsilon(1e-5));
}

TEST_CASE("DepthwiseConv2D: errors", "[layers][depthwise_conv2d]") {
  CHECK_THROWS_WITH(ff::DepthwiseConv2D("d", 1, {3, 3}, {1, 1}, "valid", 0, {1, 1}, "linear",
                                        true, "glorot_uniform", "zeros"),
                    Catch::Contains("Invalid value for argument `depth_multiplier`"));
  CHECK_THROWS_WITH(ff::DepthwiseConv2D("d", 1, {3}, {1, 1}, "valid", 1, {1, 1}, "linear", true,
                                        "glorot_uniform", "zeros"),
                    Catch::Contains("The `kernel_size` argument must be a tuple of 2 integers"));
  ff::DepthwiseConv2D layer("dw", 1, {5, 5}, {1, 1}, "valid", 1, {1, 1}, "linear", true,
                            "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(layer.build({ff::kNone, 4, 4, 2}),
                    Catch::Contains("(DepthwiseConv2D)") &&
                        Catch::Contains("the kernel is larger than the unpadded input"));
}
