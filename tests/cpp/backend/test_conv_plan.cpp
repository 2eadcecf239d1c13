// backend/conv_plan.h on the CPU: how a Conv2DGeometry maps onto cuDNN's symmetric padding (every
// window reads the same input rows as the CPU's formula, for valid / same / causal padding,
// strides, dilation, odd and even sizes), the geometries refused with a clear message, and the
// plan key (operation, geometry, dtype and the TF32 / determinism settings all part of it).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "backend/conv_plan.h"

namespace {

enum class Pad { Valid, Same, Causal };

// One dimension as the layers resolve it (Keras's rules).
struct Dim {
  int64_t in, k, stride, dilation, pad, out;
};

Dim resolve(int64_t in, int64_t k, int64_t stride, int64_t dilation, Pad pad) {
  const int64_t span = ff::conv_span(k, dilation);
  switch (pad) {
    case Pad::Valid: return {in, k, stride, dilation, 0, (in - span) / stride + 1};
    case Pad::Same: {
      const int64_t out = (in + stride - 1) / stride;
      const int64_t total = std::max<int64_t>((out - 1) * stride + span - in, 0);
      return {in, k, stride, dilation, total / 2, out};
    }
    case Pad::Causal: return {in, k, stride, dilation, span - 1, (in - 1) / stride + 1};
  }
  return {};
}

ff::Conv2DGeometry geometry(const Dim& h, const Dim& w, int64_t n = 2, int64_t c = 3,
                            int64_t f = 4) {
  ff::Conv2DGeometry g;
  g.N = n;
  g.C = c;
  g.F = f;
  g.H = h.in, g.KH = h.k, g.stride_h = h.stride, g.dilation_h = h.dilation, g.pad_top = h.pad;
  g.OH = h.out;
  g.W = w.in, g.KW = w.k, g.stride_w = w.stride, g.dilation_w = w.dilation, g.pad_left = w.pad;
  g.OW = w.out;
  return g;
}

// The x row (or -1: a zero) that tap `k` of output `o` reads: on the CPU, and as cuDNN reads
// it from what symmetric_conv gives it (x itself with a symmetric pad, or the padded copy).
int64_t cpu_row(const Dim& d, int64_t o, int64_t k) {
  const int64_t r = o * d.stride - d.pad + k * d.dilation;
  return r >= 0 && r < d.in ? r : -1;
}
int64_t cudnn_row(const Dim& d, bool direct, int64_t extent, int64_t sym_pad, int64_t o,
                  int64_t k) {
  const int64_t r = o * d.stride - sym_pad + k * d.dilation;  // in cuDNN's input
  if (r < 0 || r >= extent) return -1;                        // cuDNN's own zero padding
  if (direct) return r;
  const int64_t x = r - d.pad;                                // the padded copy's row
  return x >= 0 && x < d.in ? x : -1;
}

}  // namespace

TEST_CASE("symmetric_conv reads the CPU's rows for every padding, stride, dilation and size",
          "[conv_plan]") {
  int direct = 0, explicit_pad = 0;
  for (int64_t in : {1, 2, 5, 8, 9, 16, 17})
    for (int64_t k : {1, 2, 3, 5})
      for (int64_t stride : {1, 2, 3})
        for (int64_t dilation : {1, 2})
          for (Pad pad : {Pad::Valid, Pad::Same, Pad::Causal}) {
            const Dim d = resolve(in, k, stride, dilation, pad);
            if (d.out < 1) continue;
            const Dim other = resolve(7, 3, 1, 1, Pad::Same);
            for (bool rows : {true, false}) {
              const ff::Conv2DGeometry g = rows ? geometry(d, other) : geometry(other, d);
              const ff::SymmetricConv s = ff::symmetric_conv(g);
              INFO("in " << in << " k " << k << " stride " << stride << " dilation " << dilation
                         << " padding " << static_cast<int>(pad) << " rows " << rows);
              REQUIRE(ff::cudnn_conv_problem(g).empty());
              const int64_t extent = rows ? s.H : s.W, sym_pad = rows ? s.pad_h : s.pad_w;
              // cuDNN's output size is the geometry's, and each tap reads the CPU's row.
              CHECK(ff::symmetric_conv_out(extent, sym_pad, d.k, d.dilation, d.stride) == d.out);
              for (int64_t o = 0; o < d.out; ++o)
                for (int64_t t = 0; t < d.k; ++t)
                  REQUIRE(cudnn_row(d, s.direct, extent, sym_pad, o, t) == cpu_row(d, o, t));
              if (!s.direct) CHECK((s.pad_h == 0 && s.pad_w == 0));
              if (rows) (s.direct ? direct : explicit_pad)++;
            }
          }
  CHECK(direct > 0);
  CHECK(explicit_pad > 0);
}

TEST_CASE("symmetric_conv runs symmetric geometries directly and pads the others explicitly",
          "[conv_plan]") {
  // "same" 3x3 stride 1: pad 1 on both sides, x as it is.
  auto g = geometry(resolve(28, 3, 1, 1, Pad::Same), resolve(28, 3, 1, 1, Pad::Same));
  auto s = ff::symmetric_conv(g);
  CHECK(s.direct);
  CHECK((s.H == 28 && s.W == 28 && s.pad_h == 1 && s.pad_w == 1));
  // "same" 3x3 stride 2 on 32: 0 before, 1 after (ResNet's downsampling): a 33x33 padded copy.
  g = geometry(resolve(32, 3, 2, 1, Pad::Same), resolve(32, 3, 2, 1, Pad::Same));
  s = ff::symmetric_conv(g);
  CHECK_FALSE(s.direct);
  CHECK((s.H == 33 && s.W == 33 && s.pad_h == 0 && s.pad_w == 0));
  // causal Conv1D (1 x W), kernel 3, dilation 2: 4 before, 0 after.
  g = geometry(resolve(1, 1, 1, 1, Pad::Valid), resolve(20, 3, 1, 2, Pad::Causal));
  s = ff::symmetric_conv(g);
  CHECK_FALSE(s.direct);
  CHECK((s.H == 1 && s.W == 24));
  // "valid" with a stride that leaves the last rows unread: direct (cuDNN rounds down too).
  g = geometry(resolve(17, 5, 3, 1, Pad::Valid), resolve(16, 5, 3, 1, Pad::Valid));
  s = ff::symmetric_conv(g);
  CHECK(s.direct);
}

TEST_CASE("cudnn_conv_problem names what cuDNN cannot run", "[conv_plan]") {
  auto g = geometry(resolve(9, 3, 1, 1, Pad::Same), resolve(9, 3, 1, 1, Pad::Same));
  CHECK(ff::cudnn_conv_problem(g).empty());
  auto bad = g;
  bad.stride_h = 0;
  CHECK_THAT(ff::cudnn_conv_problem(bad),
             Catch::Contains("positive sizes, strides and dilation") &&
                 Catch::Contains("strides 0x1"));
  bad = g;
  bad.pad_left = -1;
  CHECK_THAT(ff::cudnn_conv_problem(bad), Catch::Contains("no negative padding"));
  // 2^31 elements in x: past cuDNN's 32-bit strides.
  bad = geometry(resolve(1024, 3, 1, 1, Pad::Same), resolve(1024, 3, 1, 1, Pad::Same), 2048, 1, 1);
  CHECK_THAT(ff::cudnn_conv_problem(bad),
             Catch::Contains("32-bit sizes") && Catch::Contains("input 2048x1024x1024x1"));
  bad.N = 2047;  // 2^31 - 2^20 elements: fits
  CHECK(ff::cudnn_conv_problem(bad).empty());
}

TEST_CASE("conv_plan_key tells apart operations, geometries, dtypes and math settings",
          "[conv_plan]") {
  const auto g = geometry(resolve(9, 3, 2, 1, Pad::Same), resolve(8, 3, 1, 1, Pad::Same));
  const ff::MathChoice exact{false, true}, tf32{true, true}, free{false, false};
  const auto key = ff::conv_plan_key(ff::ConvOp::Forward, g, exact);
  CHECK(key == ff::conv_plan_key(ff::ConvOp::Forward, g, exact));
  CHECK(key != ff::conv_plan_key(ff::ConvOp::BackwardData, g, exact));
  CHECK(key != ff::conv_plan_key(ff::ConvOp::BackwardFilter, g, exact));
  CHECK(key != ff::conv_plan_key(ff::ConvOp::Forward, g, tf32));
  CHECK(key != ff::conv_plan_key(ff::ConvOp::Forward, g, free));
  auto other = g;
  other.compute = ff::DType::BFloat16;
  CHECK(key != ff::conv_plan_key(ff::ConvOp::Forward, other, exact));
  int64_t ff::Conv2DGeometry::*fields[] = {
      &ff::Conv2DGeometry::N,          &ff::Conv2DGeometry::H,          &ff::Conv2DGeometry::W,
      &ff::Conv2DGeometry::C,          &ff::Conv2DGeometry::KH,         &ff::Conv2DGeometry::KW,
      &ff::Conv2DGeometry::F,          &ff::Conv2DGeometry::stride_h,   &ff::Conv2DGeometry::stride_w,
      &ff::Conv2DGeometry::dilation_h, &ff::Conv2DGeometry::dilation_w, &ff::Conv2DGeometry::pad_top,
      &ff::Conv2DGeometry::pad_left,   &ff::Conv2DGeometry::OH,         &ff::Conv2DGeometry::OW};
  for (auto field : fields) {
    other = g;
    other.*field += 1;
    CHECK(key != ff::conv_plan_key(ff::ConvOp::Forward, other, exact));
  }
}
