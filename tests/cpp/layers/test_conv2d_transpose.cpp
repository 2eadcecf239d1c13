// Tests for layers/conv2d_transpose.cpp: Keras's output sizes (compute_conv_transpose_output_
// length, written out here) for valid/same, strides, dilation and output_padding; the forward
// pass against a direct double-precision transposed convolution (Keras's JAX-backend padding,
// written out here); the layer is the exact adjoint of Conv2D with the same kernel where Keras's
// Conv2D maps the output size back (<convT(x), y> = <x, conv(y)>); finite-difference gradients
// for x, kernel and bias (shared helper) with and without an activation; argument errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "test_util.h"

using namespace fftest;

namespace {

// keras.src.ops.operation_utils.compute_conv_transpose_output_length (op < 0: None).
int64_t keras_length(int64_t in, int64_t k, const std::string& padding, int64_t op, int64_t s,
                     int64_t d) {
  k = k + (k - 1) * (d - 1);
  if (op < 0) return padding == "valid" ? in * s + std::max<int64_t>(k - s, 0) : in * s;
  const int64_t pad = padding == "same" ? k / 2 : 0;
  return (in - 1) * s + k - 2 * pad + op;
}

// keras.src.backend.common.backend_utils: the padding of the stride-dilated input (left).
int64_t jax_left_pad(int64_t k, int64_t s, int64_t d, const std::string& padding, int64_t op) {
  k = (k - 1) * d + 1;
  if (padding == "valid") return k - 1;
  const int64_t pad_len = op < 0 ? s + k - 2 : k + k % 2 - 2 + op;
  return std::min(pad_len / 2 + pad_len % 2, k - 1);
}

// Transposed convolution by definition: dilate x by the stride, pad by (left, ...), correlate
// with the spatially flipped kernel (KH, KW, F, C); plus bias. In double.
std::vector<double> ref_transpose(const std::vector<float>& x, const std::vector<float>& k,
                                  const std::vector<float>* bias, int64_t N, int64_t H, int64_t W,
                                  int64_t C, int64_t F, int64_t KH, int64_t KW, int64_t sh,
                                  int64_t sw, int64_t dh, int64_t dw, int64_t OH, int64_t OW,
                                  int64_t lh, int64_t lw) {
  std::vector<double> y(static_cast<size_t>(N * OH * OW * F), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t f = 0; f < F; ++f) {
          double s = bias ? (*bias)[f] : 0.0;
          for (int64_t a = 0; a < KH; ++a)
            for (int64_t b = 0; b < KW; ++b) {
              // tap (a, b) of the flipped kernel reads dilated position oh + a*dh - lh
              const int64_t ph = oh + a * dh - lh, pw = ow + b * dw - lw;
              if (ph < 0 || pw < 0 || ph % sh || pw % sw) continue;
              const int64_t ih = ph / sh, iw = pw / sw;
              if (ih >= H || iw >= W) continue;
              const int64_t kh = KH - 1 - a, kw = KW - 1 - b;
              for (int64_t c = 0; c < C; ++c)
                s += static_cast<double>(x[((n * H + ih) * W + iw) * C + c]) *
                     k[((kh * KW + kw) * F + f) * C + c];
            }
          y[((n * OH + oh) * OW + ow) * F + f] = s;
        }
  return y;
}

}  // namespace

TEST_CASE("Conv2DTranspose: Keras's output sizes and values and gradients",
          "[layers][conv2d_transpose][gradient]") {
  struct Case {
    std::vector<int64_t> k, s, d, op;
    std::string padding, act;
  };
  const Case c = GENERATE(Case{{3, 3}, {1, 1}, {1, 1}, {}, "valid", "linear"},
                          Case{{3, 2}, {2, 2}, {1, 1}, {}, "same", "linear"},
                          Case{{4, 4}, {2, 3}, {1, 1}, {}, "valid", "tanh"},
                          Case{{3, 3}, {2, 2}, {1, 1}, {1, 0}, "same", "linear"},
                          Case{{4, 2}, {3, 2}, {1, 1}, {2, 1}, "valid", "linear"},
                          Case{{2, 3}, {1, 1}, {2, 2}, {}, "same", "linear"},
                          Case{{1, 1}, {3, 3}, {1, 1}, {}, "valid", "linear"},
                          Case{{4, 3}, {2, 2}, {1, 1}, {0, 1}, "same", "sigmoid"});
  CAPTURE(c.k[0], c.k[1], c.s[0], c.s[1], c.padding, c.act, c.op.size());
  const int64_t N = 2, H = 3, W = 4, C = 2, F = 3;
  ff::Conv2DTranspose layer("conv2d_transpose", 1, F, c.k, c.s, c.padding, c.op, c.d, c.act, true,
                            "glorot_uniform", "zeros");
  CHECK(layer.class_name() == "Conv2DTranspose");
  LayerCheckSpec spec;
  spec.input_shape = {N, H, W, C};
  spec.seed = 23;
  const auto r = check_layer_gradients(layer, spec);
  const int64_t oph = c.op.empty() ? -1 : c.op[0], opw = c.op.empty() ? -1 : c.op[1];
  const int64_t OH = keras_length(H, c.k[0], c.padding, oph, c.s[0], c.d[0]);
  const int64_t OW = keras_length(W, c.k[1], c.padding, opw, c.s[1], c.d[1]);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, OH, OW, F});
  REQUIRE(layer.param_specs().size() == 2);
  CHECK(layer.param_specs()[0].shape == ff::Shape{c.k[0], c.k[1], F, C});  // Keras's layout
  const auto z = ref_transpose(r.x, r.params[0], &r.params[1], N, H, W, C, F, c.k[0], c.k[1],
                               c.s[0], c.s[1], c.d[0], c.d[1], OH, OW,
                               jax_left_pad(c.k[0], c.s[0], c.d[0], c.padding, oph),
                               jax_left_pad(c.k[1], c.s[1], c.d[1], c.padding, opw));
  REQUIRE(r.y.size() == z.size());
  for (size_t i = 0; i < z.size(); ++i)
    CHECK(r.y[i] == Approx(act_ref(c.act, z[i])).margin(1e-5));
  require_gradients_match(r);
}

TEST_CASE("Conv2DTranspose: the adjoint of Conv2D with the same kernel",
          "[layers][conv2d_transpose]") {
  const std::string padding = GENERATE(std::string("valid"), std::string("same"));
  const std::vector<int64_t> strides = GENERATE(std::vector<int64_t>{1, 1},
                                                std::vector<int64_t>{2, 3});
  CAPTURE(padding, strides[0], strides[1]);
  const int64_t N = 2, H = 4, W = 3, C = 3, F = 2;
  ff::Conv2DTranspose up("up", 1, F, {3, 4}, strides, padding, {}, {1, 1}, "linear", false,
                         "glorot_uniform", "zeros");
  const ff::Shape out = up.build({ff::kNone, H, W, C});
  ff::Conv2D down("down", 1, C, {3, 4}, strides, padding, {1, 1}, "linear", false,
                  "glorot_uniform", "zeros");
  CHECK(down.build(out) == ff::Shape{ff::kNone, H, W, C});  // Conv2D maps the size back
  const int64_t nx = N * H * W * C, ny = N * out[1] * out[2] * F;
  const auto kv = uniform_values(3 * 4 * F * C, 1, -1.0f, 1.0f);
  const auto xv = uniform_values(nx, 2, -1.0f, 1.0f), yv = uniform_values(ny, 3, -1.0f, 1.0f);
  ff::Tensor k1 = make_tensor({3, 4, F, C}, kv), k2 = make_tensor({3, 4, F, C}, kv);
  ff::Tensor g1 = ff::Tensor::zeros(device(), {3, 4, F, C}), g2 = g1;
  up.bind({k1}, {g1});
  down.bind({k2}, {g2});
  TestContext tc(false);
  std::vector<ff::Tensor> scratch;
  ff::Tensor x = make_tensor({N, H, W, C}, xv), y = make_tensor({N, out[1], out[2], F}, yv);
  ff::Tensor tx = ff::Tensor::zeros(device(), {N, out[1], out[2], F});
  ff::Tensor cy = ff::Tensor::zeros(device(), {N, H, W, C});
  up.forward(x, tx, scratch, tc.ctx);
  down.forward(y, cy, scratch, tc.ctx);
  const auto txv = to_vector(tx), cyv = to_vector(cy);
  double lhs = 0, rhs = 0;
  for (int64_t i = 0; i < ny; ++i) lhs += static_cast<double>(txv[i]) * yv[i];
  for (int64_t i = 0; i < nx; ++i) rhs += static_cast<double>(xv[i]) * cyv[i];
  CHECK(lhs == Approx(rhs).epsilon(1e-5));
}

TEST_CASE("Conv2DTranspose: argument errors", "[layers][conv2d_transpose]") {
  auto make = [](std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> op) {
    return ff::Conv2DTranspose("t", 1, 2, std::move(k), std::move(s), "same", std::move(op),
                               {1, 1}, "linear", true, "glorot_uniform", "zeros");
  };
  CHECK_THROWS_WITH(make({3, 3}, {2, 2}, {2, 0}),
                    Catch::Contains("Strides must be greater than output padding. Received "
                                    "strides=(2, 2), output_padding=(2, 0)."));
  CHECK_THROWS_WITH(make({3, 3}, {2, 2}, {1}),
                    Catch::Contains("The `output_padding` argument must be a tuple of 2"));
  CHECK_THROWS_WITH(make({3, 0}, {1, 1}, {}),
                    Catch::Contains("The `kernel_size` argument must be a tuple of 2 integers"));
  CHECK_THROWS_AS(ff::Conv2DTranspose("t", 1, 0, {3, 3}, {1, 1}, "valid", {}, {1, 1}, "linear",
                                      true, "glorot_uniform", "zeros"),
                  ff::ValueError);
  CHECK_THROWS_AS(ff::Conv2DTranspose("t", 1, 2, {3, 3}, {1, 1}, "causal", {}, {1, 1}, "linear",
                                      true, "glorot_uniform", "zeros"),
                  ff::ValueError);
  auto layer = make({3, 3}, {1, 1}, {});
  CHECK_THROWS_WITH(layer.build({ff::kNone, 4, 4}), Catch::Contains("expected ndim=4"));
}
