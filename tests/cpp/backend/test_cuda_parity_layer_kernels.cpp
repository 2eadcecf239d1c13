// CUDA versus CPU for the kernels of the ReLU, PReLU, UpSampling2D and LayerNormalization layers
// and of the depthwise convolution (backend/cuda/cuda_layer_kernels.cu): relu_forward/backward
// under several option sets; prelu_forward/backward with no, leading, trailing and alternating
// shared axes, one and several member chunks, dx or dalpha alone; upsample2d_forward/backward,
// nearest and bilinear, factors 1 to 4 and odd sizes; layer_norm_forward/backward with rows of 1
// to 2049 values (inside a warp, across lanes, many lanes), one and several gamma/beta chunks,
// gamma/beta present or not, dgamma or the saved statistics left out, a NaN row; the depthwise
// convolution forward, data and kernel gradients over strides, dilation, multipliers, "same"
// padding and several kernel-gradient chunks. Random inputs, with NaN and +-Inf where a NaN
// cannot spread through a whole reduction. Within 1e-5 relative (parity::compare; the kernels
// run the CPU's orders, so the bits are expected to agree), and two CUDA runs bit-identical.
// Tagged [cuda]: they run on a GPU machine (scripts/gpu-check.sh), never in ctest.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/parity_util.h"
#include "core/rng.h"

namespace {

namespace parity = fftest::parity;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kSentinel = -7.25f;  // outputs start as this on both devices: unwritten stays it

// Uniform values in [lo, hi); `specials` puts NaN, +Inf and -Inf at a few fixed positions.
std::vector<float> values(int64_t n, uint64_t seed, bool specials = false, float lo = -3.0f,
                          float hi = 3.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * ff::Philox::uniform(seed, 17, i);
  if (specials) {
    for (int64_t i = 5; i < n; i += 97) v[i] = kNaN;
    for (int64_t i = 11; i < n; i += 89) v[i] = kInf;
    for (int64_t i = 17; i < n; i += 83) v[i] = -kInf;
  }
  return v;
}

struct Result {
  std::vector<std::vector<float>> outputs;
};

// Inputs and outputs of one run on one backend.
class Run {
 public:
  explicit Run(ff::Backend& backend) : be(backend) {}
  ff::Backend& be;

  float* in(const std::vector<float>& v) {
    keep_.push_back(parity::put(be, {static_cast<int64_t>(v.size())}, v));
    return keep_.back().data<float>();
  }
  // An output of n floats starting as kSentinel, read back by result().
  float* out(int64_t n) {
    outputs_.push_back(
        parity::put(be, {n}, std::vector<float>(static_cast<size_t>(n), kSentinel)));
    return outputs_.back().data<float>();
  }
  Result result() const {
    Result r;
    for (const auto& t : outputs_) r.outputs.push_back(parity::get<float>(t));
    return r;
  }

 private:
  std::vector<ff::Tensor> keep_, outputs_;
};

bool same_bits(const Result& a, const Result& b) {
  if (a.outputs.size() != b.outputs.size()) return false;
  for (size_t i = 0; i < a.outputs.size(); ++i)
    if (a.outputs[i].size() != b.outputs[i].size() ||
        std::memcmp(a.outputs[i].data(), b.outputs[i].data(),
                    sizeof(float) * a.outputs[i].size()) != 0)
      return false;
  return true;
}

// Runs `body` on the CPU and twice on CUDA: the CUDA outputs agree with the CPU's within 1e-5
// relative and the two CUDA runs give the same bits.
void check_parity(const std::string& what, const std::function<void(Run&)>& body) {
  INFO(what);
  Run cpu_run(parity::cpu());
  body(cpu_run);
  const Result c = cpu_run.result();
  Result g[2];
  for (auto& r : g) {
    Run gpu_run(parity::gpu());
    body(gpu_run);
    r = gpu_run.result();
  }
  REQUIRE(c.outputs.size() == g[0].outputs.size());
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    INFO("output " << i);
    CHECK(parity::compare(c.outputs[i], g[0].outputs[i]) == "");
  }
  CHECK(same_bits(g[0], g[1]));
}

// A PReLU geometry for a sample of `dims` (batch excluded) with the given axes shared (1-based,
// as Keras numbers them), merged as the layer merges them.
ff::PReluGeometry prelu_geometry(int64_t rows, const std::vector<int64_t>& dims,
                                 const std::vector<int64_t>& shared_axes) {
  ff::PReluGeometry g;
  g.rows = rows;
  g.sample = 1;
  g.alpha_size = 1;
  bool prev = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    bool shared = false;
    for (int64_t a : shared_axes) shared = shared || a == static_cast<int64_t>(i) + 1;
    if (g.rank > 0 && shared == prev) {
      g.dims[g.rank - 1] *= dims[i];
    } else {
      g.dims[g.rank] = dims[i];
      g.shared[g.rank] = shared;
      ++g.rank;
    }
    prev = shared;
    g.sample *= dims[i];
    if (!shared) g.alpha_size *= dims[i];
  }
  return g;
}

}  // namespace

TEST_CASE("CUDA ReLU with Keras's options matches the CPU", "[cuda][backend][layer_kernels]") {
  struct Options {
    float max_value, slope, threshold;
  };
  const std::vector<Options> options = {{kInf, 0.0f, 0.0f}, {6.0f, 0.0f, 0.0f},
                                        {kInf, 0.3f, 0.0f}, {1.5f, 0.2f, 0.5f},
                                        {0.0f, 0.1f, 0.0f}, {kInf, 0.0f, 1.0f}};
  for (int64_t n : {int64_t{1}, int64_t{10007}})
    for (const Options& o : options)
      check_parity("relu n=" + std::to_string(n) + " max " + std::to_string(o.max_value) +
                       " slope " + std::to_string(o.slope) + " threshold " +
                       std::to_string(o.threshold),
                   [&](Run& r) {
                     const float* x = r.in(values(n, 1, true));
                     const float* dy = r.in(values(n, 2));
                     r.be.relu_forward(x, r.out(n), n, o.max_value, o.slope, o.threshold);
                     r.be.relu_backward(x, dy, r.out(n), n, o.max_value, o.slope, o.threshold);
                   });
}

TEST_CASE("CUDA PReLU forward and backward match the CPU", "[cuda][backend][layer_kernels]") {
  struct Case {
    int64_t rows;
    std::vector<int64_t> dims, shared;
  };
  const std::vector<Case> cases = {
      {4, {5, 7}, {}},                // one alpha per element
      {9, {30, 30, 2}, {1, 2}},       // one alpha per channel, two member chunks
      {3, {6, 5, 4}, {2}},            // shared, unshared, shared alternation
      {2, {3, 4, 5}, {3}},            // trailing shared axis
      {64, {33, 17, 3}, {1, 2, 3}},   // one alpha for everything, several chunks
      {1, {1}, {}},                   // a single element
  };
  for (const Case& c : cases) {
    const ff::PReluGeometry g = prelu_geometry(c.rows, c.dims, c.shared);
    const int64_t n = g.rows * g.sample;
    for (int variant = 0; variant < 3; ++variant)  // both outputs, dx only, dalpha only
      check_parity("prelu rows " + std::to_string(c.rows) + " sample " +
                       std::to_string(g.sample) + " alpha " + std::to_string(g.alpha_size) +
                       " variant " + std::to_string(variant),
                   [&](Run& r) {
                     const float* x = r.in(values(n, 3, variant == 0));
                     const float* alpha = r.in(values(g.alpha_size, 4, false, -0.5f, 1.0f));
                     const float* dy = r.in(values(n, 5));
                     r.be.prelu_forward(g, x, alpha, r.out(n));
                     r.be.prelu_backward(g, x, alpha, dy, variant != 2 ? r.out(n) : nullptr,
                                         variant != 1 ? r.out(g.alpha_size) : nullptr);
                   });
  }
}

TEST_CASE("CUDA UpSampling2D forward and its adjoint match the CPU",
          "[cuda][backend][layer_kernels]") {
  struct Case {
    int64_t N, H, W, C, sh, sw;
  };
  const std::vector<Case> cases = {{2, 3, 4, 3, 2, 2}, {1, 1, 1, 1, 3, 3}, {3, 7, 5, 33, 4, 1},
                                   {2, 5, 9, 2, 1, 3}, {1, 16, 16, 8, 2, 2}, {2, 2, 3, 5, 1, 1}};
  for (const Case& c : cases)
    for (bool bilinear : {false, true}) {
      ff::Upsample2DGeometry g;
      g.N = c.N;
      g.H = c.H;
      g.W = c.W;
      g.C = c.C;
      g.size_h = c.sh;
      g.size_w = c.sw;
      g.bilinear = bilinear;
      const int64_t nx = c.N * c.H * c.W * c.C, ny = nx * c.sh * c.sw;
      check_parity(std::string(bilinear ? "bilinear " : "nearest ") + std::to_string(c.N) + "x" +
                       std::to_string(c.H) + "x" + std::to_string(c.W) + "x" +
                       std::to_string(c.C) + " by " + std::to_string(c.sh) + "x" +
                       std::to_string(c.sw),
                   [&](Run& r) {
                     r.be.upsample2d_forward(g, r.in(values(nx, 6, true)), r.out(ny));
                     r.be.upsample2d_backward(g, r.in(values(ny, 7)), r.out(nx));
                   });
    }
}

TEST_CASE("CUDA LayerNormalization forward and backward match the CPU",
          "[cuda][backend][layer_kernels]") {
  struct Case {
    int64_t rows, cols;
  };
  // Rows inside one warp's lanes, across lanes, over many lanes; one and several gamma/beta
  // chunks (16384 / (2 cols) rows each).
  const std::vector<Case> cases = {{1, 1},  {7, 5},   {3, 31},  {5, 32},   {9, 33},
                                   {300, 40}, {64, 700}, {13, 2049}, {2500, 3}};
  for (const Case& c : cases)
    for (int variant = 0; variant < 4; ++variant) {
      const bool affine = variant != 1, specials = variant == 2, partial = variant == 3;
      const int64_t n = c.rows * c.cols;
      check_parity("layer norm " + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                       " variant " + std::to_string(variant),
                   [&](Run& r) {
                     std::vector<float> xv = values(n, 8, false, -2.0f, 5.0f);
                     if (specials) xv[0] = kNaN;  // row 0 turns NaN, the others do not
                     const float* x = r.in(xv);
                     const float* gamma = affine ? r.in(values(c.cols, 9, false, 0.5f, 1.5f))
                                                 : nullptr;
                     const float* beta = affine ? r.in(values(c.cols, 10)) : nullptr;
                     float* y = r.out(n);
                     float* mean = r.out(c.rows);
                     float* inv_std = r.out(c.rows);
                     r.be.layer_norm_forward(x, y, c.rows, c.cols, gamma, beta, 1e-3f, mean,
                                             inv_std);
                     const float* dy = r.in(values(n, 11));
                     r.be.layer_norm_backward(x, dy, c.rows, c.cols, gamma, mean, inv_std,
                                              r.out(n), partial ? nullptr : r.out(c.cols),
                                              r.out(c.cols));
                     if (partial)  // a forward that saves no statistics
                       r.be.layer_norm_forward(x, r.out(n), c.rows, c.cols, gamma, beta, 1e-3f,
                                               nullptr, nullptr);
                   });
    }
}

TEST_CASE("CUDA depthwise convolution matches the CPU", "[cuda][backend][layer_kernels]") {
  struct Case {
    int64_t N, H, W, C, M, KH, KW, sh, sw, dh, dw;
    bool same;
  };
  const std::vector<Case> cases = {
      {2, 6, 6, 3, 1, 3, 3, 1, 1, 1, 1, false},    // the plain 3x3
      {2, 7, 5, 4, 2, 3, 3, 2, 2, 1, 1, true},     // strided "same", multiplier 2
      {1, 9, 9, 33, 1, 5, 3, 1, 2, 2, 1, true},    // dilation, channels past a warp
      {3, 40, 40, 5, 2, 3, 3, 1, 1, 1, 1, true},   // several kernel-gradient chunks
      {1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, false},    // a single pixel
      {2, 8, 8, 2, 1, 2, 2, 3, 3, 1, 1, false},    // stride larger than the kernel
  };
  for (const Case& c : cases) {
    ff::Conv2DGeometry g;
    g.N = c.N;
    g.H = c.H;
    g.W = c.W;
    g.C = c.C;
    g.F = c.M;
    g.KH = c.KH;
    g.KW = c.KW;
    g.stride_h = c.sh;
    g.stride_w = c.sw;
    g.dilation_h = c.dh;
    g.dilation_w = c.dw;
    const int64_t span_h = (c.KH - 1) * c.dh + 1, span_w = (c.KW - 1) * c.dw + 1;
    if (c.same) {
      g.OH = (c.H + c.sh - 1) / c.sh;
      g.OW = (c.W + c.sw - 1) / c.sw;
      const int64_t th = (g.OH - 1) * c.sh + span_h - c.H, tw = (g.OW - 1) * c.sw + span_w - c.W;
      g.pad_top = th > 0 ? th / 2 : 0;
      g.pad_left = tw > 0 ? tw / 2 : 0;
    } else {
      g.OH = (c.H - span_h) / c.sh + 1;
      g.OW = (c.W - span_w) / c.sw + 1;
    }
    const int64_t nx = c.N * c.H * c.W * c.C, ny = c.N * g.OH * g.OW * c.C * c.M;
    const int64_t nk = c.KH * c.KW * c.C * c.M;
    check_parity("depthwise " + std::to_string(c.N) + "x" + std::to_string(c.H) + "x" +
                     std::to_string(c.W) + "x" + std::to_string(c.C) + " M " +
                     std::to_string(c.M) + " kernel " + std::to_string(c.KH) + "x" +
                     std::to_string(c.KW) + (c.same ? " same" : " valid"),
                 [&](Run& r) {
                   const float* x = r.in(values(nx, 12, true));
                   const float* k = r.in(values(nk, 13));
                   r.be.depthwise_conv2d_forward(g, x, k, r.out(ny));
                   const float* dy = r.in(values(ny, 14));
                   r.be.depthwise_conv2d_backward_data(g, dy, k, r.out(nx));
                   r.be.depthwise_conv2d_backward_filter(g, r.in(values(nx, 15)), dy, r.out(nk));
                 });
  }
}
