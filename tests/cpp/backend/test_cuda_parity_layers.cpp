// CUDA versus CPU for the pooling, padding, BatchNormalization and image kernels
// (backend/cuda/cuda_pooling.cu, cuda_normalization.cu, cuda_image.cu): every function forward
// and backward on random inputs (with NaN and +-Inf, and with ties for max pooling's first
// maximum), over stride / padding / pool-size combinations with overlapping windows, odd sizes,
// batch 1 and a pool larger than the input; BatchNormalization with and without gamma/beta, over
// one and several reduction chunks, its moving statistics updated without a state block, with a
// running one, and left alone under a halted one; the image resampling under every fill mode and
// interpolation; the random draws from the state block's stream. Within 1e-5 relative
// (parity::compare), and two CUDA runs bit-identical. Tagged [cuda]: they run on a GPU machine
// (scripts/gpu-check.sh), never in ctest.
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

// Uniform values in [lo, hi); `ties` rounds them to halves (many equal maxima); `specials` puts
// NaN, +Inf and -Inf at a few fixed positions.
std::vector<float> values(int64_t n, uint64_t seed, bool specials = false, bool ties = false,
                          float lo = -3.0f, float hi = 3.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    v[i] = lo + (hi - lo) * ff::Philox::uniform(seed, 11, i);
    if (ties) v[i] = std::floor(v[i] * 2.0f) / 2.0f;
  }
  if (specials) {
    for (int64_t i = 5; i < n; i += 97) v[i] = kNaN;
    for (int64_t i = 11; i < n; i += 89) v[i] = kInf;
    for (int64_t i = 17; i < n; i += 83) v[i] = -kInf;
    if (n == 1) v[0] = kNaN;
  }
  return v;
}

constexpr int32_t kNumSums = 1;

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
  // An output of n floats starting as kSentinel (or `initial`), read back by result().
  float* out(int64_t n) { return out(std::vector<float>(static_cast<size_t>(n), kSentinel)); }
  float* out(const std::vector<float>& initial) {
    outputs_.push_back(parity::put(be, {static_cast<int64_t>(initial.size())}, initial));
    return outputs_.back().data<float>();
  }
  // A step-state block with rng_stream `stream`, halted when asked.
  ff::StepState* state(int64_t stream, bool halted) {
    ff::StepState h{};
    h.step = stream;
    h.rng_stream = stream;
    h.num_sums = kNumSums;
    h.loss_scale = 1.0f;
    h.grads_finite = 1;
    h.halted = halted ? 1 : 0;
    const size_t bytes = ff::step_state_bytes(kNumSums);
    std::vector<float> raw(bytes / sizeof(float), 0.0f);
    std::memcpy(raw.data(), &h, sizeof h);
    keep_.push_back(parity::put(be, {static_cast<int64_t>(raw.size())}, raw));
    return reinterpret_cast<ff::StepState*>(keep_.back().raw());
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

// Runs `body` on the CPU and twice on CUDA: the CUDA outputs agree with the CPU's within `rel`
// and the two CUDA runs give the same bits. Returns {cpu, cuda}.
std::pair<Result, Result> check_parity(const std::string& what,
                                       const std::function<void(Run&)>& body,
                                       double rel = 1e-5) {
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
    CHECK(parity::compare(c.outputs[i], g[0].outputs[i], rel) == "");
  }
  CHECK(same_bits(g[0], g[1]));
  return {c, g[0]};
}

// ---- pooling geometry: Keras's "valid" and "same" ----
struct PoolCase {
  int64_t N, H, W, C, KH, KW, sh, sw;
  bool same;
};

ff::Pool2DGeometry pool_geometry(const PoolCase& p) {
  ff::Pool2DGeometry g;
  g.N = p.N;
  g.H = p.H;
  g.W = p.W;
  g.C = p.C;
  g.KH = p.KH;
  g.KW = p.KW;
  g.stride_h = p.sh;
  g.stride_w = p.sw;
  if (p.same) {
    g.OH = (p.H + p.sh - 1) / p.sh;
    g.OW = (p.W + p.sw - 1) / p.sw;
    const int64_t th = (g.OH - 1) * p.sh + p.KH - p.H, tw = (g.OW - 1) * p.sw + p.KW - p.W;
    g.pad_top = th > 0 ? th / 2 : 0;
    g.pad_left = tw > 0 ? tw / 2 : 0;
  } else {
    g.OH = (p.H - p.KH) / p.sh + 1;
    g.OW = (p.W - p.KW) / p.sw + 1;
  }
  return g;
}

std::string pool_name(const PoolCase& p) {
  return std::to_string(p.N) + "x" + std::to_string(p.H) + "x" + std::to_string(p.W) + "x" +
         std::to_string(p.C) + " pool " + std::to_string(p.KH) + "x" + std::to_string(p.KW) +
         " stride " + std::to_string(p.sh) + "x" + std::to_string(p.sw) +
         (p.same ? " same" : " valid");
}

const std::vector<PoolCase> kPoolCases = {
    {2, 6, 6, 3, 2, 2, 2, 2, false},    // the plain 2x2 pool
    {2, 5, 7, 3, 2, 2, 2, 2, true},     // odd sizes, "same" padding
    {1, 6, 6, 4, 3, 3, 1, 1, false},    // batch 1, overlapping windows
    {3, 7, 5, 33, 3, 3, 2, 2, true},    // overlapping, odd, channels past a warp
    {2, 9, 9, 2, 3, 2, 2, 3, true},     // unequal pools and strides
    {2, 8, 8, 16, 5, 5, 1, 1, true},    // heavy overlap
    {2, 4, 4, 5, 4, 4, 1, 1, false},    // one global window
    {2, 3, 3, 2, 7, 7, 1, 1, true},     // a pool larger than the input
    {1, 1, 1, 1, 1, 1, 1, 1, false},    // a single element
    {4, 13, 11, 7, 2, 3, 3, 2, false},  // stride larger than the pool: uncovered positions
};

// ---- images ----
// n matrices [a0 a1 a2 b0 b1 b2] for h x w images: identity, a fractional translation, a zoom
// about the centre, a rotation, a shear, then repeated.
std::vector<float> matrices(int64_t n, int64_t h, int64_t w) {
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, a = 0.7, c = std::cos(a), s = std::sin(a);
  const std::vector<std::vector<double>> kinds = {
      {1, 0, 0, 0, 1, 0},
      {1, 0, -1.37, 0, 1, 2.61},
      {0.6, 0, cx * 0.4, 0, 1.7, cy * (1 - 1.7)},
      {c, -s, (2 * cx - (c * 2 * cx - s * 2 * cy)) / 2, s, c, (2 * cy - (s * 2 * cx + c * 2 * cy)) / 2},
      {1, 0.35, -0.5, -0.2, 1, 0.75}};
  std::vector<float> m(static_cast<size_t>(6 * n));
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 6; ++k) m[6 * i + k] = static_cast<float>(kinds[i % kinds.size()][k]);
  return m;
}

struct ImageCase {
  int64_t n, h, w, c;
};
const std::vector<ImageCase> kImageCases = {{5, 5, 7, 3}, {1, 1, 1, 1}, {2, 8, 6, 40}, {5, 1, 9, 2}};

const std::vector<ff::FillMode> kFillModes = {ff::FillMode::Reflect, ff::FillMode::Wrap,
                                              ff::FillMode::Constant, ff::FillMode::Nearest};
const char* fill_name(ff::FillMode m) {
  switch (m) {
    case ff::FillMode::Reflect: return "reflect";
    case ff::FillMode::Wrap: return "wrap";
    case ff::FillMode::Constant: return "constant";
    case ff::FillMode::Nearest: return "nearest";
  }
  return "?";
}

}  // namespace

TEST_CASE("CUDA max pooling forward and backward match the CPU", "[cuda][backend][pooling]") {
  for (const PoolCase& p : kPoolCases)
    for (int variant = 0; variant < 3; ++variant) {
      const bool specials = variant == 1, ties = variant == 2;
      const ff::Pool2DGeometry g = pool_geometry(p);
      const int64_t in = g.N * g.H * g.W * g.C, out = g.N * g.OH * g.OW * g.C;
      const std::string what = pool_name(p) + (specials ? " with NaN/Inf" : "") +
                               (ties ? " with ties" : "");
      const auto x = values(in, 1, specials, ties);
      const auto dy = values(out, 2);
      check_parity("max_pool2d_forward " + what, [&](Run& r) {
        r.be.max_pool2d_forward(g, r.in(x), r.out(out));
      });
      check_parity("max_pool2d_backward " + what, [&](Run& r) {
        r.be.max_pool2d_backward(g, r.in(x), r.in(dy), r.out(in));
      });
    }
}

TEST_CASE("CUDA max pooling propagates NaN and routes to the first maximum",
          "[cuda][backend][pooling]") {
  // One 2x2 window over x = [1, NaN; 3, NaN] and one over [2, 2; 2, 1]: the NaN window's maximum
  // is NaN and its gradient goes to the first NaN; the tie goes to the first 2.
  ff::Pool2DGeometry g;
  g.N = 2;
  g.H = g.W = 2;
  g.C = 1;
  g.KH = g.KW = 2;
  g.stride_h = g.stride_w = 2;
  g.OH = g.OW = 1;
  const std::vector<float> x = {1.0f, kNaN, 3.0f, kNaN, 2.0f, 2.0f, 2.0f, 1.0f};
  Run r(parity::gpu());
  float* y = r.out(2);
  float* dx = r.out(8);
  const float* xd = r.in(x);
  r.be.max_pool2d_forward(g, xd, y);
  r.be.max_pool2d_backward(g, xd, r.in({5.0f, 7.0f}), dx);
  const Result res = r.result();
  CHECK(std::isnan(res.outputs[0][0]));
  CHECK(res.outputs[0][1] == 2.0f);
  CHECK(res.outputs[1] == std::vector<float>{0.0f, 5.0f, 0.0f, 0.0f, 7.0f, 0.0f, 0.0f, 0.0f});
}

TEST_CASE("CUDA average pooling forward and backward match the CPU", "[cuda][backend][pooling]") {
  for (const PoolCase& p : kPoolCases)
    for (bool specials : {false, true}) {
      const ff::Pool2DGeometry g = pool_geometry(p);
      const int64_t in = g.N * g.H * g.W * g.C, out = g.N * g.OH * g.OW * g.C;
      const std::string what = pool_name(p) + (specials ? " with NaN/Inf" : "");
      const auto x = values(in, 3, specials);
      const auto dy = values(out, 4, specials);
      check_parity("avg_pool2d_forward " + what, [&](Run& r) {
        r.be.avg_pool2d_forward(g, r.in(x), r.out(out));
      });
      check_parity("avg_pool2d_backward " + what, [&](Run& r) {
        r.be.avg_pool2d_backward(g, r.in(dy), r.out(in));
      });
    }
}

TEST_CASE("CUDA zero padding forward and backward match the CPU", "[cuda][backend][pooling]") {
  struct PadCase {
    int64_t N, H, W, C, top, bottom, left, right;
  };
  for (const PadCase& p : std::vector<PadCase>{{2, 5, 7, 3, 1, 1, 1, 1},
                                               {1, 3, 4, 33, 0, 2, 3, 0},
                                               {3, 1, 1, 1, 2, 0, 0, 5},
                                               {2, 4, 4, 2, 0, 0, 0, 0}}) {
    ff::Pad2DGeometry g;
    g.N = p.N;
    g.H = p.H;
    g.W = p.W;
    g.C = p.C;
    g.top = p.top;
    g.bottom = p.bottom;
    g.left = p.left;
    g.right = p.right;
    const int64_t in = g.N * g.H * g.W * g.C;
    const int64_t out = g.N * (g.H + g.top + g.bottom) * (g.W + g.left + g.right) * g.C;
    const std::string what = std::to_string(p.N) + "x" + std::to_string(p.H) + "x" +
                             std::to_string(p.W) + "x" + std::to_string(p.C) + " pad " +
                             std::to_string(p.top) + "," + std::to_string(p.bottom) + "," +
                             std::to_string(p.left) + "," + std::to_string(p.right);
    const auto x = values(in, 5, true), dy = values(out, 6, true);
    check_parity("zero_pad2d_forward " + what, [&](Run& r) {
      r.be.zero_pad2d_forward(g, r.in(x), r.out(out));
    });
    check_parity("zero_pad2d_backward " + what, [&](Run& r) {
      r.be.zero_pad2d_backward(g, r.in(dy), r.out(in));
    });
  }
}

TEST_CASE("CUDA batch normalization matches the CPU", "[cuda][backend][normalization]") {
  struct BnCase {
    int64_t rows, channels;
  };
  // One row, one channel, odd; 20000 x 3 and 3000 x 64 span several of the CPU's reduction
  // chunks (kReduceChunk values each).
  for (const BnCase& s : std::vector<BnCase>{{1, 1}, {1, 7}, {5, 3}, {100, 33}, {20000, 3},
                                            {3000, 64}})
    for (bool specials : {false, true})
      for (bool affine : {true, false}) {
        const int64_t n = s.rows * s.channels, C = s.channels;
        const std::string what = std::to_string(s.rows) + "x" + std::to_string(C) +
                                 (specials ? " with NaN/Inf" : "") +
                                 (affine ? " gamma/beta" : " no gamma/beta");
        const auto x = values(n, 7, specials, false, -2.0f, 5.0f);
        const auto dy = values(n, 8, specials);
        const auto gamma = values(C, 9, false, false, 0.5f, 1.5f), beta = values(C, 10);
        const auto mm = values(C, 12), mv = values(C, 13, false, false, 0.1f, 2.0f);
        const float eps = 1e-3f, momentum = 0.99f;
        // Training: y, saved statistics, and the moving statistics with no state block, a
        // running one (updated), a halted one (unchanged).
        for (int st = 0; st < 3; ++st) {
          const auto [c, g] = check_parity(
              "batch_norm_forward_training " + what + " state " + std::to_string(st),
              [&](Run& r) {
                ff::StepState* state = st == 0 ? nullptr : r.state(7, st == 2);
                // outputs in this order: y, moving mean, moving variance, saved mean, saved
                // inverse standard deviation
                float* y = r.out(n);
                float* moving_mean = r.out(mm);
                float* moving_var = r.out(mv);
                float* saved_mean = r.out(C);
                float* saved_inv_std = r.out(C);
                r.be.batch_norm_forward_training(
                    r.in(x), y, s.rows, C, affine ? r.in(gamma) : nullptr,
                    affine ? r.in(beta) : nullptr, eps, momentum, moving_mean, moving_var,
                    saved_mean, saved_inv_std, state);
              });
          if (st == 2) {  // halted: the moving statistics are as they were, on both
            CHECK(c.outputs[1] == mm);
            CHECK(g.outputs[1] == mm);
            CHECK(g.outputs[2] == mv);
          }
        }
        check_parity("batch_norm_forward_training without moving or saved " + what, [&](Run& r) {
          r.be.batch_norm_forward_training(r.in(x), r.out(n), s.rows, C,
                                           affine ? r.in(gamma) : nullptr,
                                           affine ? r.in(beta) : nullptr, eps, momentum, nullptr,
                                           nullptr, nullptr, nullptr, nullptr);
        });
        check_parity("batch_norm_forward_inference " + what, [&](Run& r) {
          r.be.batch_norm_forward_inference(r.in(x), r.out(n), s.rows, C,
                                            affine ? r.in(gamma) : nullptr,
                                            affine ? r.in(beta) : nullptr, r.in(mm), r.in(mv),
                                            eps, r.out(C), r.out(C));
        });
        // Backward from the CPU's saved statistics (the same inputs on both).
        std::vector<float> saved_mean(static_cast<size_t>(C)), saved_inv(static_cast<size_t>(C));
        {
          Run r(parity::cpu());
          float* y = r.out(n);
          float* sm = r.out(C);
          float* si = r.out(C);
          r.be.batch_norm_forward_training(r.in(x), y, s.rows, C, nullptr, nullptr, eps,
                                           momentum, nullptr, nullptr, sm, si, nullptr);
          const Result res = r.result();
          saved_mean = res.outputs[1];
          saved_inv = res.outputs[2];
        }
        for (bool batch_stats : {true, false}) {
          const std::string bw = what + (batch_stats ? " batch stats" : " moving stats");
          check_parity("batch_norm_backward " + bw, [&](Run& r) {
            r.be.batch_norm_backward(r.in(x), r.in(dy), s.rows, C,
                                     affine ? r.in(gamma) : nullptr, r.in(saved_mean),
                                     r.in(saved_inv), batch_stats, r.out(n), r.out(C), r.out(C));
          });
          check_parity("batch_norm_backward dx only " + bw, [&](Run& r) {
            r.be.batch_norm_backward(r.in(x), r.in(dy), s.rows, C,
                                     affine ? r.in(gamma) : nullptr, r.in(saved_mean),
                                     r.in(saved_inv), batch_stats, r.out(n), nullptr, nullptr);
          });
          check_parity("batch_norm_backward dgamma/dbeta only " + bw, [&](Run& r) {
            r.be.batch_norm_backward(r.in(x), r.in(dy), s.rows, C,
                                     affine ? r.in(gamma) : nullptr, r.in(saved_mean),
                                     r.in(saved_inv), batch_stats, nullptr, r.out(C), r.out(C));
          });
        }
      }
}

TEST_CASE("CUDA affine image resampling and its adjoint match the CPU",
          "[cuda][backend][image]") {
  for (const ImageCase& s : kImageCases)
    for (ff::FillMode mode : kFillModes)
      for (ff::Interpolation interp : {ff::Interpolation::Bilinear, ff::Interpolation::Nearest})
        for (bool specials : {false, true}) {
          const int64_t n = s.n * s.h * s.w * s.c;
          const std::string what =
              std::to_string(s.n) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) +
              "x" + std::to_string(s.c) + " " + fill_name(mode) +
              (interp == ff::Interpolation::Bilinear ? " bilinear" : " nearest") +
              (specials ? " with NaN/Inf" : "");
          const auto x = values(n, 14, specials), dy = values(n, 15, specials);
          const auto m = matrices(s.n, s.h, s.w);
          check_parity("affine_transform_images " + what, [&](Run& r) {
            r.be.affine_transform_images(r.in(x), r.out(n), s.n, s.h, s.w, s.c, r.in(m), interp,
                                         mode, 0.25f);
          });
          check_parity("affine_transform_images_backward " + what, [&](Run& r) {
            r.be.affine_transform_images_backward(r.in(dy), r.out(n), s.n, s.h, s.w, s.c,
                                                  r.in(m), interp, mode);
          });
        }
}

TEST_CASE("CUDA flips and the random draws match the CPU", "[cuda][backend][image]") {
  for (const ImageCase& s : kImageCases) {
    const int64_t n = s.n * s.h * s.w * s.c;
    const auto x = values(n, 16, true);
    std::vector<float> flags(static_cast<size_t>(2 * s.n));
    for (int64_t i = 0; i < s.n; ++i) {
      flags[2 * i] = (i & 1) ? 1.0f : 0.0f;
      flags[2 * i + 1] = (i & 2) ? 1.0f : 0.0f;
    }
    check_parity("flip_images " + std::to_string(s.n) + "x" + std::to_string(s.h) + "x" +
                     std::to_string(s.w) + "x" + std::to_string(s.c),
                 [&](Run& r) {
                   r.be.flip_images(r.in(x), r.out(n), s.n, s.h, s.w, s.c, r.in(flags));
                 });
  }
  for (int64_t samples : {1, 7, 300})
    for (int64_t stream : {0, 7, 123456789}) {
      const std::string what =
          std::to_string(samples) + " samples, stream " + std::to_string(stream);
      for (int which = 0; which < 3; ++which) {
        ff::FlipSpec spec;
        spec.seed = 42;
        spec.horizontal = which != 1;
        spec.vertical = which != 0;
        const auto [c, g] = check_parity("random_flips " + what, [&](Run& r) {
          r.be.random_flips(spec, samples, r.out(2 * samples), r.state(stream, false));
        });
        CHECK(c.outputs[0] == g.outputs[0]);  // the same draws, exactly
      }
      for (ff::AffineKind kind :
           {ff::AffineKind::Translation, ff::AffineKind::Zoom, ff::AffineKind::Rotation})
        for (int has_width : {1, 0}) {
          ff::AffineSpec spec;
          spec.kind = kind;
          spec.seed = 1234;
          spec.height_lower = -0.3;
          spec.height_upper = 0.2;
          spec.width_lower = -0.1;
          spec.width_upper = 0.4;
          spec.has_width = has_width;
          check_parity("random_affine_matrices " + what + " kind " +
                           std::to_string(static_cast<int>(kind)),
                       [&](Run& r) {
                         r.be.random_affine_matrices(spec, samples, 9, 13, r.out(6 * samples),
                                                     r.state(stream, false));
                       });
        }
    }
}
