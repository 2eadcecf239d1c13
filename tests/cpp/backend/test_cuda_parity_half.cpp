// [cuda] parity of the CUDA backend's 16-bit storage functions (backend.h's "16-bit storage"
// section; cuda_elementwise.cu, cuda_gemm.cu, cuda_conv.cu, cuda_pooling.cu,
// cuda_normalization.cu, cuda_state.cu) with the CPU backend's, in bfloat16 and float16 alike:
// the same inputs (16-bit bits made by core/half.h's encode_half) on both devices, the 16-bit
// outputs read back as bits. Odd sizes (1, 7, 1000003 elements), NaN, +-Inf and values past
// float16's range (65504: they encode to Inf), stride/padding combinations for convolutions and
// pooling, batch 1. Exact bits (any NaN for a NaN) where both backends do the same float32
// arithmetic in the same order (cast, add, relu/leaky-relu/linear, column sums, dropout, pooling,
// check-numerics), at most one 16-bit ulp where a math function (exp, tanh, erf) or a warp's sum
// order may fall on the other side of a rounding boundary, and a relative tolerance of one or two
// 16-bit ulps (1e-2 bfloat16, 2e-3 float16) where float32 accumulation order differs (GEMMs,
// convolutions). Every kernel also gives the same bits on a second CUDA run, a sequence of them
// the same bits from a captured CUDA graph, and a dtype that is not 16-bit is refused by name.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/conv_plan.h"
#include "backend/parity_util.h"
#include "backend/step_state.h"
#include "core/errors.h"
#include "core/half.h"
#include "core/rng.h"

namespace {

namespace parity = fftest::parity;
using ff::Activation;
using ff::DType;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr uint16_t kSentinel16 = 0x5555;  // finite in both types: an unwritten output stays it
constexpr float kSentinel = -7.25f;
constexpr int32_t kNumSums = 1;
const DType kHalves[] = {DType::BFloat16, DType::Float16};

constexpr Activation kActivations[] = {
    Activation::Linear, Activation::Relu,    Activation::Sigmoid,
    Activation::Tanh,   Activation::Softmax, Activation::LeakyRelu,
    Activation::Elu,    Activation::Gelu,    Activation::Swish};

const char* act_name(Activation a) {
  switch (a) {
    case Activation::Linear:
      return "linear";
    case Activation::Relu:
      return "relu";
    case Activation::Sigmoid:
      return "sigmoid";
    case Activation::Tanh:
      return "tanh";
    case Activation::Softmax:
      return "softmax";
    case Activation::LeakyRelu:
      return "leaky_relu";
    case Activation::Elu:
      return "elu";
    case Activation::Gelu:
      return "gelu";
    case Activation::Swish:
      return "swish";
  }
  return "?";
}

float act_alpha(Activation a) {
  return a == Activation::LeakyRelu ? 0.2f : a == Activation::Elu ? 1.0f : 0.0f;
}

// Activations whose rule is plain float32 arithmetic on both backends (the same bits); the
// others call exp, tanh or erf, whose last float32 bit may differ between the GPU's math library
// and the CPU's, which after rounding to 16 bits is at most one ulp.
bool exact_activation(Activation a) {
  return a == Activation::Linear || a == Activation::Relu || a == Activation::LeakyRelu;
}

// Uniform values in [lo, hi); with `specials`, NaN, +Inf, -Inf, values past float16's range
// (+-70000, -1e5: Inf in float16, finite in bfloat16) and below its smallest subnormal (3e-8,
// rounds to 0 or 2^-24) at fixed positions, short vectors included.
std::vector<float> values(int64_t n, uint64_t seed, float lo = -3.0f, float hi = 3.0f,
                          bool specials = false) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * ff::Philox::uniform(seed, 21, i);
  if (specials) {
    const float special[] = {kNaN, kInf, -kInf, 70000.0f, -1e5f, 3e-8f, -70000.0f};
    for (int64_t i = 0; i < n; ++i) {
      if (i % 97 == 5) v[i] = special[0];
      if (i % 89 == 11) v[i] = special[1];
      if (i % 83 == 17) v[i] = special[2];
      if (i % 79 == 3) v[i] = special[3];
      if (i % 73 == 7) v[i] = special[4];
      if (i % 71 == 1) v[i] = special[5];
    }
    if (n <= 16)  // short inputs get the specials too
      for (int64_t i = 0; i < n; ++i) v[i] = i % 2 ? v[i] : special[(i / 2) % 7];
  }
  return v;
}

bool is_bf16(DType half) { return half == DType::BFloat16; }

std::vector<uint16_t> encode(const std::vector<float>& v, DType half) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = ff::encode_half(is_bf16(half), v[i]);
  return h;
}

std::vector<float> decode(const std::vector<uint16_t>& h, DType half) {
  std::vector<float> v(h.size());
  for (size_t i = 0; i < h.size(); ++i) v[i] = ff::decode_half(is_bf16(half), h[i]);
  return v;
}

// The values of `half` rounded from v (inputs as the 16-bit layer sees them).
std::vector<float> rounded(const std::vector<float>& v, DType half) {
  return decode(encode(v, half), half);
}

// How far a CUDA output may be from the CPU's: 0 everywhere is "the same bits" (any NaN for a
// NaN); `ulps` 16-bit ulps (finite values); or |a - b| <= abs + rel * max(|a|, |b|).
struct Tol {
  int ulps = 0;
  double rel = 0.0;
  double abs = 0.0;
};
const Tol kExact{};
const Tol kOneUlp{1, 0.0, 0.0};

// One 16-bit ulp or two of a float32 sum in another order, rounded: 1e-2 bfloat16 (8 mantissa
// bits), 2e-3 float16 (11), plus `abs` near zero.
Tol sum_tol(DType half, double abs) { return {0, is_bf16(half) ? 1e-2 : 2e-3, abs}; }

int64_t ordered(uint16_t h) {
  return (h & 0x8000u) ? -static_cast<int64_t>(h & 0x7fffu) : static_cast<int64_t>(h & 0x7fffu);
}

std::string hex(uint16_t h) {
  const char* d = "0123456789abcdef";
  return std::string("0x") + d[h >> 12] + d[(h >> 8) & 15] + d[(h >> 4) & 15] + d[h & 15];
}

std::string compare16(const std::vector<uint16_t>& want, const std::vector<uint16_t>& got,
                      DType half, Tol tol) {
  if (want.size() != got.size())
    return "sizes differ: " + std::to_string(want.size()) + " vs " + std::to_string(got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const uint16_t a = want[i], b = got[i];
    if (a == b) continue;
    const float fa = ff::decode_half(is_bf16(half), a), fb = ff::decode_half(is_bf16(half), b);
    if (std::isnan(fa) && std::isnan(fb)) continue;
    if (std::isfinite(fa) && std::isfinite(fb)) {
      if (tol.ulps > 0 && std::llabs(ordered(a) - ordered(b)) <= tol.ulps) continue;
      if ((tol.rel > 0 || tol.abs > 0) &&
          std::fabs(static_cast<double>(fa) - fb) <=
              tol.abs + tol.rel * std::max(std::fabs(static_cast<double>(fa)),
                                           std::fabs(static_cast<double>(fb))))
        continue;
    }
    return "element " + std::to_string(i) + ": cpu " + std::to_string(fa) + " (" + hex(a) +
           "), cuda " + std::to_string(fb) + " (" + hex(b) + ")";
  }
  return "";
}

std::string compare32(const std::vector<float>& want, const std::vector<float>& got, Tol tol) {
  if (tol.rel > 0 || tol.abs > 0) return parity::compare(want, got, tol.rel, tol.abs);
  if (want.size() != got.size()) return "sizes differ";
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i])) continue;
    if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0)
      return "element " + std::to_string(i) + ": cpu " + std::to_string(want[i]) + ", cuda " +
             std::to_string(got[i]) + " (bits differ)";
  }
  return "";
}

// One output read back: 16-bit bits or float32 values.
struct Output {
  bool half = false;
  std::vector<uint16_t> bits;
  std::vector<float> values;
};
struct Result {
  std::vector<Output> outputs;
  std::vector<unsigned char> state;  // the step-state block's bytes (empty when none)
};

bool same_bits(const Result& a, const Result& b) {
  if (a.outputs.size() != b.outputs.size() || a.state != b.state) return false;
  for (size_t i = 0; i < a.outputs.size(); ++i)
    if (a.outputs[i].bits != b.outputs[i].bits ||
        a.outputs[i].values.size() != b.outputs[i].values.size() ||
        std::memcmp(a.outputs[i].values.data(), b.outputs[i].values.data(),
                    sizeof(float) * a.outputs[i].values.size()) != 0)
      return false;
  return true;
}

// Inputs and outputs of one run on one backend, for one 16-bit type.
class Run {
 public:
  Run(ff::Backend& backend, DType half_type) : be(backend), half(half_type) {}
  ff::Backend& be;
  const DType half;

  // v encoded in `half`.
  const void* in16(const std::vector<float>& v) { return bits(encode(v, half)); }
  const void* bits(const std::vector<uint16_t>& b) {
    keep_.push_back(parity::put(be, {static_cast<int64_t>(b.size())}, b, half));
    return keep_.back().raw();
  }
  const float* in32(const std::vector<float>& v) {
    keep_.push_back(parity::put(be, {static_cast<int64_t>(v.size())}, v));
    return keep_.back().data<float>();
  }
  // A 16-bit output of n values starting as kSentinel16 (or the bits of `initial`).
  void* out16(int64_t n) {
    return out16_bits(std::vector<uint16_t>(static_cast<size_t>(n), kSentinel16));
  }
  void* out16(const std::vector<float>& initial) { return out16_bits(encode(initial, half)); }
  void* out16_bits(const std::vector<uint16_t>& initial) {
    outputs_.emplace_back(true,
                          parity::put(be, {static_cast<int64_t>(initial.size())}, initial, half));
    return outputs_.back().second.raw();
  }
  float* out32(int64_t n) { return out32(std::vector<float>(static_cast<size_t>(n), kSentinel)); }
  float* out32(const std::vector<float>& initial) {
    outputs_.emplace_back(false, parity::put(be, {static_cast<int64_t>(initial.size())}, initial));
    return outputs_.back().second.data<float>();
  }
  // A step-state block: rng_stream `stream`, halted when asked, loss scaling at 1024 when asked
  // (a backward pass's overflow is then no error).
  ff::StepState* state(int64_t stream, bool halted = false, bool loss_scaling = false) {
    ff::StepState h{};
    h.step = stream;
    h.rng_stream = stream;
    h.num_sums = kNumSums;
    h.loss_scale = loss_scaling ? 1024.0f : 1.0f;
    h.loss_scaling = loss_scaling ? 1 : 0;
    h.grads_finite = 1;
    if (halted) {
      h.halted = 1;
      h.error = static_cast<int32_t>(ff::StepError::NonFinite);
      h.error_where = 9;
      h.error_index = -1;
    }
    std::vector<unsigned char> raw(ff::step_state_bytes(kNumSums), 0);
    std::memcpy(raw.data(), &h, sizeof h);
    state_ = parity::put(be, {static_cast<int64_t>(raw.size())}, raw, DType::UInt8);
    return static_cast<ff::StepState*>(state_.raw());
  }

  Result result() const {
    Result r;
    for (const auto& [is_half, t] : outputs_) {
      Output o;
      o.half = is_half;
      if (is_half)
        o.bits = parity::get<uint16_t>(t);
      else
        o.values = parity::get<float>(t);
      r.outputs.push_back(std::move(o));
    }
    if (state_.defined()) r.state = parity::get<unsigned char>(state_);
    return r;
  }

 private:
  std::vector<ff::Tensor> keep_;
  std::vector<std::pair<bool, ff::Tensor>> outputs_;
  ff::Tensor state_;
};

ff::StepState header(const Result& r) {
  ff::StepState h{};
  REQUIRE(r.state.size() >= sizeof h);
  std::memcpy(&h, r.state.data(), sizeof h);
  return h;
}

// Runs `body` on the CPU once and on CUDA twice: the CUDA outputs agree with the CPU's (16-bit
// outputs within t16, float32 ones within t32), the step-state blocks are byte for byte the
// CPU's, and the two CUDA runs give the same bits. Returns {cpu, cuda}.
std::pair<Result, Result> check_parity(const std::string& what, DType half,
                                       const std::function<void(Run&)>& body, Tol t16 = kExact,
                                       Tol t32 = kExact) {
  INFO(what << " in " << ff::dtype_name(half));
  Run cpu_run(parity::cpu(), half);
  body(cpu_run);
  const Result c = cpu_run.result();
  Result g[2];
  for (auto& r : g) {
    Run gpu_run(parity::gpu(), half);
    body(gpu_run);
    r = gpu_run.result();
  }
  REQUIRE(c.outputs.size() == g[0].outputs.size());
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    INFO("output " << i);
    if (c.outputs[i].half)
      CHECK(compare16(c.outputs[i].bits, g[0].outputs[i].bits, half, t16) == "");
    else
      CHECK(compare32(c.outputs[i].values, g[0].outputs[i].values, t32) == "");
  }
  CHECK(c.state == g[0].state);
  CHECK(same_bits(g[0], g[1]));
  return {c, g[0]};
}

// ---- geometries (as the float32 parity tests make them) ----

enum class Pad { Valid, Same, Causal };

struct ConvCase {
  int64_t N, H, W, C, KH, KW, F;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  Pad pad = Pad::Valid;
};

std::pair<int64_t, int64_t> resolve(int64_t in, int64_t k, int64_t s, int64_t d, Pad pad) {
  const int64_t span = ff::conv_span(k, d);
  switch (pad) {
    case Pad::Valid:
      return {0, (in - span) / s + 1};
    case Pad::Same: {
      const int64_t out = (in + s - 1) / s;
      return {std::max<int64_t>((out - 1) * s + span - in, 0) / 2, out};
    }
    case Pad::Causal:
      return {span - 1, (in - 1) / s + 1};
  }
  return {0, 0};
}

ff::Conv2DGeometry conv_geometry(const ConvCase& c, DType half) {
  ff::Conv2DGeometry g;
  g.N = c.N, g.H = c.H, g.W = c.W, g.C = c.C, g.KH = c.KH, g.KW = c.KW, g.F = c.F;
  g.stride_h = c.sh, g.stride_w = c.sw, g.dilation_h = c.dh, g.dilation_w = c.dw;
  std::tie(g.pad_top, g.OH) = resolve(c.H, c.KH, c.sh, c.dh, c.pad);
  std::tie(g.pad_left, g.OW) = resolve(c.W, c.KW, c.sw, c.dw, c.pad);
  g.compute = half;
  return g;
}

std::string conv_name(const ff::Conv2DGeometry& g) {
  return "N=" + std::to_string(g.N) + " HxWxC=" + std::to_string(g.H) + "x" + std::to_string(g.W) +
         "x" + std::to_string(g.C) + " K=" + std::to_string(g.KH) + "x" + std::to_string(g.KW) +
         " F=" + std::to_string(g.F) + " stride=" + std::to_string(g.stride_h) + "x" +
         std::to_string(g.stride_w) + " dilation=" + std::to_string(g.dilation_h) + "x" +
         std::to_string(g.dilation_w) + " pad=" + std::to_string(g.pad_top) + "x" +
         std::to_string(g.pad_left) + " direct=" + std::to_string(ff::symmetric_conv(g).direct);
}

const ConvCase kConvCases[] = {
    {2, 7, 5, 3, 1, 1, 4},                             // 1x1, odd sizes
    {1, 9, 9, 3, 3, 3, 8, 1, 1, 1, 1, Pad::Same},      // batch 1, symmetric same
    {3, 10, 12, 5, 3, 3, 6, 2, 2, 1, 1, Pad::Same},    // stride 2 same: padded copy
    {2, 11, 9, 4, 3, 3, 5, 2, 2, 1, 1, Pad::Valid},    // stride 2 valid, odd
    {2, 13, 11, 3, 5, 5, 4, 1, 1, 2, 2, Pad::Same},    // 5x5 dilated same
    {2, 17, 16, 2, 5, 5, 3, 3, 3, 1, 1, Pad::Valid},   // stride 3, rows left unread
    {2, 9, 14, 3, 3, 5, 4, 1, 2, 1, 1, Pad::Same},     // rectangular kernel and stride
    {4, 1, 20, 6, 1, 3, 5, 1, 1, 1, 2, Pad::Causal},   // causal Conv1D, dilated
    {1, 5, 5, 1, 5, 5, 1},                             // the window is the image
    {8, 28, 28, 1, 3, 3, 32},                          // the small CNN's first layer
    {4, 16, 16, 32, 3, 3, 64, 2, 2, 1, 1, Pad::Same},  // ResNet's downsampling, 8-aligned
};

struct PoolCase {
  int64_t N, H, W, C, KH, KW, sh, sw;
  bool same;
};

ff::Pool2DGeometry pool_geometry(const PoolCase& p) {
  ff::Pool2DGeometry g;
  g.N = p.N, g.H = p.H, g.W = p.W, g.C = p.C, g.KH = p.KH, g.KW = p.KW;
  g.stride_h = p.sh, g.stride_w = p.sw;
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

const PoolCase kPoolCases[] = {
    {2, 6, 6, 3, 2, 2, 2, 2, false},    // the plain 2x2 pool
    {2, 5, 7, 3, 2, 2, 2, 2, true},     // odd sizes, "same" padding
    {1, 6, 6, 4, 3, 3, 1, 1, false},    // batch 1, overlapping windows
    {3, 7, 5, 33, 3, 3, 2, 2, true},    // overlapping, odd, channels past a warp
    {2, 9, 9, 2, 3, 2, 2, 3, true},     // unequal pools and strides
    {2, 3, 3, 2, 7, 7, 1, 1, true},     // a pool larger than the input
    {1, 1, 1, 1, 1, 1, 1, 1, false},    // a single element
    {4, 13, 11, 7, 2, 3, 3, 2, false},  // stride larger than the pool: uncovered positions
};

}  // namespace

TEST_CASE("CUDA cast converts between float32 bfloat16 and float16 with the CPU's bits",
          "[cuda][half]") {
  const DType types[] = {DType::Float32, DType::BFloat16, DType::Float16};
  // Every 16-bit pattern (NaN payloads, subnormals, both infinities) as a 16-bit source.
  std::vector<uint16_t> all_bits(65536);
  for (size_t i = 0; i < all_bits.size(); ++i) all_bits[i] = static_cast<uint16_t>(i);
  // Float32 sources: the edges of both types (float16's largest finite 65504, its midpoint to
  // 65536 and beyond, float32's largest, a tie, subnormals) and random values with specials.
  const std::vector<float> edges = {
      0.0f,   -0.0f,         65504.0f,       65519.0f,    65520.0f,      -65520.0f,
      1e5f,   3.4028235e38f, -3.4028235e38f, 1.00390625f, 5.9604645e-8f, 2.9802322e-8f,
      1e-45f, kNaN,          -kNaN,          kInf,        -kInf,         1.0f / 3.0f};
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000003}})
    for (DType src : types)
      for (DType dst : types) {
        std::vector<float> f = values(n, 31, -7e4f, 7e4f, true);
        for (size_t i = 0; i < edges.size() && i < f.size(); ++i) f[i] = edges[i];
        const std::string what = "cast " + ff::dtype_name(src) + " to " + ff::dtype_name(dst) +
                                 " n=" + std::to_string(n);
        const DType half =
            dst == DType::Float32 ? (src == DType::Float32 ? DType::BFloat16 : src) : dst;
        INFO(what);
        const auto [c, g] = check_parity(what, half, [&](Run& r) {
          // Sources in their own type (a 16-bit source is put as its bits; the tensor's dtype
          // only sizes it).
          const void* in = nullptr;
          if (src == DType::Float32) {
            in = r.in32(f);
          } else {
            in = r.bits(encode(f, src));
          }
          void* out = dst == DType::Float32 ? static_cast<void*>(r.out32(n)) : r.out16(n);
          r.be.cast(out, dst, in, src, n);
        });
        // And the GPU's bits are those of core/half.h's functions (the shared rule) for a
        // 16-bit destination.
        if (dst != DType::Float32 && src == DType::Float32)
          CHECK(compare16(encode(f, dst), g.outputs[0].bits, dst, kExact) == "");
      }
  // All 65536 patterns of each 16-bit type to float32 and to both 16-bit types.
  for (DType src : {DType::BFloat16, DType::Float16})
    for (DType dst : types) {
      const int64_t n = static_cast<int64_t>(all_bits.size());
      const DType half = dst == DType::Float32 ? src : dst;  // the type 16-bit outputs hold
      check_parity("cast every " + ff::dtype_name(src) + " pattern to " + ff::dtype_name(dst), half,
                   [&](Run& r) {
                     void* out =
                         dst == DType::Float32 ? static_cast<void*>(r.out32(n)) : r.out16(n);
                     r.be.cast(out, dst, r.bits(all_bits), src, n);
                   });
    }
  // In place: float32 narrowed into the front of its own buffer, 16 bits widened over their own
  // buffer, and one 16-bit type converted to the other in place.
  for (DType half : kHalves)
    for (int64_t n : {int64_t{7}, int64_t{1000003}}) {
      const std::vector<float> f = values(2 * n, 35, -7e4f, 7e4f, true);
      const DType other = half == DType::BFloat16 ? DType::Float16 : DType::BFloat16;
      check_parity("cast float32 to 16 bits in place n=" + std::to_string(n), half, [&](Run& r) {
        float* p = r.out32(f);
        r.be.cast(p, half, p, DType::Float32, n);
      });
      check_parity("cast 16 bits to float32 in place n=" + std::to_string(n), half, [&](Run& r) {
        void* p = r.out16(f);  // 2n values: the first n are the source, all 4n bytes the result
        r.be.cast(p, DType::Float32, p, half, n);
      });
      check_parity("cast to " + ff::dtype_name(other) + " in place n=" + std::to_string(n), half,
                   [&](Run& r) {
                     void* p = r.out16(f);
                     r.be.cast(p, other, p, half, 2 * n);
                   });
    }
}

TEST_CASE("CUDA add_half matches the CPU bit for bit and overflows float16 to Inf",
          "[cuda][half]") {
  for (DType half : kHalves)
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000003}}) {
      auto y = values(n, 41, -4e4f, 4e4f, true);
      const auto x = values(n, 42, -4e4f, 4e4f, true);
      if (n >= 7) y[3] = 60000.0f;  // 60000 + x[3]: past 65504 in float16 when x[3] > 5504
      const auto [c, g] = check_parity("add_half n=" + std::to_string(n), half, [&](Run& r) {
        void* out = r.out16(y);
        r.be.add_half(out, r.in16(x), n, half);
      });
      // Against the rule itself: the float32 sum of the decoded values, rounded once.
      std::vector<float> want(static_cast<size_t>(n));
      const auto yr = rounded(y, half), xr = rounded(x, half);
      for (int64_t i = 0; i < n; ++i) want[i] = yr[i] + xr[i];
      CHECK(compare16(encode(want, half), g.outputs[0].bits, half, kExact) == "");
    }
}

TEST_CASE("CUDA activations in 16 bits match the CPU forward and backward", "[cuda][half]") {
  struct Shape2 {
    int64_t rows, cols;
  };
  const Shape2 shapes[] = {{1, 1}, {1, 7}, {7, 33}, {129, 1000}};
  uint64_t seed = 50;
  for (DType half : kHalves)
    for (const Shape2& s : shapes)
      for (Activation act : kActivations)
        for (bool specials : {false, true}) {
          const int64_t n = s.rows * s.cols;
          const float alpha = act_alpha(act);
          const std::string what = std::string(act_name(act)) + " " + std::to_string(s.rows) + "x" +
                                   std::to_string(s.cols) + (specials ? " with NaN/Inf" : "");
          const auto x = values(n, seed += 3, -4.0f, 4.0f, specials);
          const auto dy = values(n, seed += 3, -2.0f, 2.0f, specials);
          const auto bias = values(s.cols, seed += 3);
          const Tol fwd = exact_activation(act) ? kExact : kOneUlp;
          check_parity(
              "activation_forward_half " + what, half,
              [&](Run& r) {
                void* y = r.out16(n);
                r.be.activation_forward_half(act, alpha, r.in16(x), y, s.rows, s.cols, half);
              },
              fwd);
          for (bool with_bias : {false, true})
            for (bool with_preact : {false, true})
              // relu stores no pre-activation (its gradient needs y only): the CPU's 16-bit path
              // encodes zeros there, the float32 paths leave it, so relu's preact is not compared.
              if (!(with_preact && act == Activation::Relu))
                check_parity(
                    "bias_activation_half " + what + (with_bias ? " bias" : "") +
                        (with_preact ? " preact" : ""),
                    half,
                    [&](Run& r) {
                      void* y = r.out16(x);
                      void* pre = with_preact ? r.out16(n) : nullptr;
                      r.be.bias_activation_half(y, with_bias ? r.in16(bias) : nullptr, s.rows,
                                                s.cols, act, alpha, pre, half);
                    },
                    fwd);
          // Backward from the CPU's y (the same inputs on both).
          std::vector<uint16_t> y_bits;
          {
            Run r(parity::cpu(), half);
            void* y = r.out16(n);
            r.be.activation_forward_half(act, alpha, r.in16(x), y, s.rows, s.cols, half);
            y_bits = r.result().outputs[0].bits;
          }
          // exp/erf (gelu, swish) and softmax's dot in another order: one ulp, or 1e-6 absolute
          // where dy - dot cancels; the others are the same float32 arithmetic.
          const bool exact_backward =
              act != Activation::Gelu && act != Activation::Swish && act != Activation::Softmax;
          const Tol bwd = exact_backward ? kExact : Tol{1, 0.0, 1e-6};
          check_parity(
              "activation_backward_half " + what, half,
              [&](Run& r) {
                void* dx = r.out16(n);
                r.be.activation_backward_half(act, alpha, r.in16(x), r.bits(y_bits), r.in16(dy), dx,
                                              s.rows, s.cols, half);
              },
              bwd);
        }
  // One long vector through the elementwise paths (grid-stride loops past one grid).
  for (DType half : kHalves)
    for (Activation act : {Activation::Relu, Activation::Sigmoid}) {
      const int64_t n = 1000003;
      const auto x = values(n, 60, -4.0f, 4.0f, true), dy = values(n, 61, -1.0f, 1.0f, true);
      check_parity(
          std::string("activation_forward_half long ") + act_name(act), half,
          [&](Run& r) {
            void* y = r.out16(n);
            r.be.activation_forward_half(act, 0.0f, r.in16(x), y, 1, n, half);
          },
          exact_activation(act) ? kExact : kOneUlp);
      check_parity(std::string("activation_backward_half long ") + act_name(act), half,
                   [&](Run& r) {
                     void* dx = r.out16(n);
                     r.be.activation_backward_half(act, 0.0f, r.in16(x), r.in16(x), r.in16(dy), dx,
                                                   n, 1, half);
                   });
    }
}

TEST_CASE("CUDA activations in 16 bits propagate NaN", "[cuda][half]") {
  for (DType half : kHalves) {
    Run r(parity::gpu(), half);
    const std::vector<float> x = {kNaN, -1.0f, 2.0f, kNaN, 0.5f, 0.25f};
    void* relu = r.out16(6);
    void* soft = r.out16(6);
    r.be.activation_forward_half(Activation::Relu, 0.0f, r.in16(x), relu, 1, 6, half);
    r.be.activation_forward_half(Activation::Softmax, 0.0f, r.in16(x), soft, 2, 3, half);
    const Result res = r.result();
    const auto relu_y = decode(res.outputs[0].bits, half),
               soft_y = decode(res.outputs[1].bits, half);
    CHECK(std::isnan(relu_y[0]));
    CHECK(relu_y[1] == 0.0f);
    CHECK(relu_y[2] == 2.0f);
    for (int i = 0; i < 6; ++i) CHECK(std::isnan(soft_y[i]));  // both rows hold a NaN
  }
}

TEST_CASE("CUDA column_sum_half and dropout_half match the CPU bit for bit", "[cuda][half]") {
  struct Shape2 {
    int64_t rows, cols;
  };
  for (DType half : kHalves) {
    for (const Shape2& s : {Shape2{1, 1}, Shape2{7, 1}, Shape2{1, 7}, Shape2{7, 33},
                            Shape2{1000003, 1}, Shape2{4096, 1000}})
      for (bool specials : {false, true}) {
        const int64_t n = s.rows * s.cols;
        const auto x = values(n, 70, -3.0f, 3.0f, specials);
        check_parity("column_sum_half " + std::to_string(s.rows) + "x" + std::to_string(s.cols) +
                         (specials ? " with NaN/Inf" : ""),
                     half, [&](Run& r) {
                       float* out = r.out32(s.cols);
                       r.be.column_sum_half(r.in16(x), s.rows, s.cols, out, half);
                     });
      }
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000003}})
      for (float rate : {0.0f, 0.3f, 0.9f}) {
        const auto x = values(n, 71, -3.0f, 3.0f, true);
        check_parity("dropout_half n=" + std::to_string(n) + " rate " + std::to_string(rate), half,
                     [&](Run& r) {
                       ff::StepState* state = r.state(11);
                       void* y = r.out16(n);
                       r.be.dropout_half(r.in16(x), y, n, rate, 1234, state, half);
                     });
      }
  }
}

TEST_CASE("CUDA gemm_half agrees with the CPU for every transpose and result type",
          "[cuda][half]") {
  struct GemmCase {
    bool ta, tb;
    int64_t m, n, k, pad;
  };
  const GemmCase cases[] = {{false, false, 1, 1, 1, 0},    {false, false, 7, 5, 3, 0},
                            {true, false, 33, 17, 65, 3},  {false, true, 128, 256, 512, 0},
                            {true, true, 129, 257, 63, 1}, {false, false, 1, 1000, 7, 0},
                            {false, true, 64, 64, 1000, 8}};
  uint64_t seed = 80;
  for (DType half : kHalves)
    for (const GemmCase& gc : cases)
      for (DType c_type : {DType::Float32, half})
        for (bool specials : {false, true}) {
          const int64_t lda = (gc.ta ? gc.m : gc.k) + gc.pad, ldb = (gc.tb ? gc.k : gc.n) + gc.pad;
          const int64_t ldc = gc.n + gc.pad;
          // A and B as whole rows of their leading dimension (the CPU reads rows x ld values);
          // C spans its last row's n values only.
          auto a = values((gc.ta ? gc.k : gc.m) * lda, seed += 3, -1, 1);
          auto b = values((gc.tb ? gc.n : gc.k) * ldb, seed += 3, -1, 1);
          if (specials) {
            a[0] = kNaN;                    // op(a)[0, 0]: row 0 of C is NaN
            b[0] = -kInf;                   // op(b)[0, 0]: column 0 of C is +-Inf (or NaN)
            if (a.size() > 2) a[2] = 1e5f;  // Inf in float16, finite in bfloat16
          }
          const int64_t c_n = (gc.m - 1) * ldc + gc.n;
          const std::string what = "gemm_half m=" + std::to_string(gc.m) +
                                   " n=" + std::to_string(gc.n) + " k=" + std::to_string(gc.k) +
                                   " ta=" + std::to_string(gc.ta) + " tb=" + std::to_string(gc.tb) +
                                   " pad=" + std::to_string(gc.pad) + " into " +
                                   ff::dtype_name(c_type) + (specials ? " with NaN/Inf" : "");
          const double abs = 1e-5 * std::sqrt(static_cast<double>(gc.k));
          check_parity(
              what, half,
              [&](Run& r) {
                void* c =
                    c_type == DType::Float32 ? static_cast<void*>(r.out32(c_n)) : r.out16(c_n);
                r.be.gemm_half(gc.ta, gc.tb, gc.m, gc.n, gc.k, r.in16(a), lda, r.in16(b), ldb, c,
                               ldc, c_type, half);
              },
              sum_tol(half, abs), Tol{0, 1e-5, abs});
        }
  // An empty sum writes zeros of the result type.
  for (DType half : kHalves)
    for (DType c_type : {DType::Float32, half})
      check_parity("gemm_half k=0 into " + ff::dtype_name(c_type), half, [&](Run& r) {
        void* c = c_type == DType::Float32 ? static_cast<void*>(r.out32(12)) : r.out16(12);
        r.be.gemm_half(false, false, 3, 4, 0, r.in16({1.0f, 2.0f, 3.0f}), 1, r.in16({1.0f}), 4, c,
                       4, c_type, half);
      });
}

TEST_CASE("CUDA dense_forward_half agrees with the CPU for every activation bias and preact",
          "[cuda][half]") {
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {127, 65, 33}, {128, 784, 512}};
  for (DType half : kHalves)
    for (const auto& s : shapes) {
      const int64_t rows = s[0], in = s[1], units = s[2];
      auto x = values(rows * in, 90, -1.0f, 1.0f);
      const float scale = 2.0f / std::sqrt(static_cast<float>(in));  // pre-activations ~ 1
      const auto w = values(in * units, 91, -scale, scale);
      const auto bias = values(units, 92);
      x[0] = kNaN;                         // row 0 NaN: ReLU and softmax must keep it
      if (rows > 2) x[2 * in + 1] = kInf;  // row 2 +-Inf
      for (Activation act : kActivations)
        for (bool with_bias : {false, true})
          for (bool with_preact : {false, true}) {
            if (with_preact && act == Activation::Relu) continue;  // as bias_activation_half's
            const std::string what = "dense_forward_half rows " + std::to_string(rows) + " in " +
                                     std::to_string(in) + " units " + std::to_string(units) + " " +
                                     act_name(act) + (with_bias ? " bias" : "") +
                                     (with_preact ? " preact" : "");
            const double abs = 1e-4 * std::sqrt(static_cast<double>(in));
            const auto [c, g] = check_parity(
                what, half,
                [&](Run& r) {
                  void* y = r.out16(rows * units);
                  void* pre = with_preact ? r.out16(rows * units) : nullptr;
                  r.be.dense_forward_half(r.in16(x), r.in16(w), with_bias ? r.in16(bias) : nullptr,
                                          rows, in, units, act, act_alpha(act), y, pre, half);
                },
                sum_tol(half, abs));
            CHECK(std::isnan(ff::decode_half(is_bf16(half), g.outputs[0].bits[0])));
          }
      // No inputs (in = 0): zeros, then the bias and activation, exactly.
      check_parity(
          "dense_forward_half in=0", half,
          [&](Run& r) {
            void* y = r.out16(rows * units);
            void* pre = r.out16(rows * units);
            r.be.dense_forward_half(r.in16({1.0f}), r.in16({1.0f}), r.in16(bias), rows, 0, units,
                                    Activation::Sigmoid, 0.0f, y, pre, half);
          },
          kOneUlp);
    }
}

TEST_CASE("CUDA convolutions in 16 bits agree with the CPU for every padding stride and kernel",
          "[cuda][half]") {
  uint64_t seed = 300;
  for (DType half : kHalves)
    for (const ConvCase& cc : kConvCases)
      for (bool specials : {false, true}) {
        const ff::Conv2DGeometry g = conv_geometry(cc, half);
        const int64_t nx = g.N * g.H * g.W * g.C, nk = g.KH * g.KW * g.C * g.F;
        const int64_t ny = g.N * g.OH * g.OW * g.F;
        auto x = values(nx, seed += 5, -1.0f, 1.0f), kernel = values(nk, seed += 5, -1.0f, 1.0f);
        auto dy = values(ny, seed += 5, -1.0f, 1.0f);
        if (specials) {  // a NaN and an Inf in x and in dy
          x[nx / 2] = kNaN;
          x[nx - 1] = kInf;
          dy[ny / 3] = kNaN;
          dy[0] = -kInf;
        }
        const std::string what = conv_name(g) + (specials ? " with NaN/Inf" : "");
        const double taps = static_cast<double>(g.KH * g.KW * g.C);
        check_parity(
            "conv2d_forward_half " + what, half,
            [&](Run& r) {
              void* y = r.out16(ny);
              r.be.conv2d_forward_half(g, r.in16(x), r.in16(kernel), y, half);
            },
            sum_tol(half, 1e-4 * std::sqrt(taps)));
        check_parity(
            "conv2d_backward_data_half " + what, half,
            [&](Run& r) {
              void* dx = r.out16(nx);
              r.be.conv2d_backward_data_half(g, r.in16(dy), r.in16(kernel), dx, half);
            },
            sum_tol(half, 1e-4 * std::sqrt(static_cast<double>(g.KH * g.KW * g.F))));
        // dkernel holds 16-bit values (rounded once): one or two ulps of the 16-bit type; dbias
        // is the float32 sum of the 16-bit dy in the CPU's order: its bits.
        const double rows = static_cast<double>(g.N * g.OH * g.OW);
        const Tol dk = sum_tol(half, 1e-4 * std::sqrt(rows));
        const auto [c, gg] = check_parity(
            "conv2d_backward_filter_half " + what, half,
            [&](Run& r) {
              float* dkernel = r.out32(nk);
              float* dbias = r.out32(g.F);
              r.be.conv2d_backward_filter_half(g, r.in16(x), r.in16(dy), dkernel, dbias, half);
            },
            kExact, dk);
        CHECK(compare32(c.outputs[1].values, gg.outputs[1].values, kExact) == "");
        // dkernel's values are 16-bit values.
        for (float v : gg.outputs[0].values)
          if (!std::isnan(v)) CHECK(rounded({v}, half)[0] == v);
        check_parity(
            "conv2d_backward_filter_half without dbias " + what, half,
            [&](Run& r) {
              float* dkernel = r.out32(nk);
              r.be.conv2d_backward_filter_half(g, r.in16(x), r.in16(dy), dkernel, nullptr, half);
            },
            kExact, dk);
      }
}

TEST_CASE("CUDA 16-bit pooling matches the CPU bit for bit", "[cuda][half][pooling]") {
  for (DType half : kHalves)
    for (const PoolCase& p : kPoolCases)
      for (int variant = 0; variant < 3; ++variant) {
        const bool specials = variant == 1, ties = variant == 2;
        const ff::Pool2DGeometry g = pool_geometry(p);
        const int64_t in = g.N * g.H * g.W * g.C, out = g.N * g.OH * g.OW * g.C;
        auto x = values(in, 100 + variant, -3.0f, 3.0f, specials);
        if (ties)  // halves: many equal maxima (the first one wins)
          for (float& v : x) v = std::floor(v * 2.0f) / 2.0f;
        const auto dy = values(out, 103, -3.0f, 3.0f, specials);
        const std::string what =
            pool_name(p) + (specials ? " with NaN/Inf" : "") + (ties ? " with ties" : "");
        check_parity("max_pool2d_forward_half " + what, half, [&](Run& r) {
          void* y = r.out16(out);
          r.be.max_pool2d_forward_half(g, r.in16(x), y, half);
        });
        check_parity("max_pool2d_backward_half " + what, half, [&](Run& r) {
          void* dx = r.out16(in);
          r.be.max_pool2d_backward_half(g, r.in16(x), r.in16(dy), dx, half);
        });
        check_parity("avg_pool2d_forward_half " + what, half, [&](Run& r) {
          void* y = r.out16(out);
          r.be.avg_pool2d_forward_half(g, r.in16(x), y, half);
        });
        check_parity("avg_pool2d_backward_half " + what, half, [&](Run& r) {
          void* dx = r.out16(in);
          r.be.avg_pool2d_backward_half(g, r.in16(dy), dx, half);
        });
      }
}

TEST_CASE("CUDA 16-bit batch normalization matches the CPU", "[cuda][half][normalization]") {
  struct BnCase {
    int64_t rows, channels;
  };
  // One row, one channel, odd; 20000 x 3 spans several of the CPU's reduction chunks; 1000003
  // rows of 1 channel many more.
  for (DType half : kHalves)
    for (const BnCase& s : {BnCase{1, 1}, BnCase{1, 7}, BnCase{7, 3}, BnCase{100, 33},
                            BnCase{20000, 3}, BnCase{1000003, 1}})
      for (bool specials : {false, true})
        for (bool affine : {true, false}) {
          const int64_t n = s.rows * s.channels, C = s.channels;
          const std::string what = std::to_string(s.rows) + "x" + std::to_string(C) +
                                   (specials ? " with NaN/Inf" : "") +
                                   (affine ? " gamma/beta" : " no gamma/beta");
          auto x = values(n, 110, -2.0f, 5.0f);
          auto dy = values(n, 111, -3.0f, 3.0f);
          if (specials && n > 3) {  // one channel gets a NaN, another an Inf
            x[1] = kNaN;
            dy[2] = kInf;
          }
          const auto gamma = values(C, 112, 0.5f, 1.5f), beta = values(C, 113);
          const auto mm = values(C, 114), mv = values(C, 115, 0.1f, 2.0f);
          const float eps = 1e-3f, momentum = 0.99f;
          // The statistics are double sums in the CPU's chunk order (the same float32 bits);
          // y and dx one 16-bit ulp at most.
          const Tol t32{0, 1e-6, 1e-7};
          for (int st = 0; st < 3; ++st)
            check_parity(
                "batch_norm_forward_training_half " + what + " state " + std::to_string(st), half,
                [&](Run& r) {
                  ff::StepState* state = st == 0 ? nullptr : r.state(7, st == 2);
                  void* y = r.out16(n);
                  float* moving_mean = r.out32(mm);
                  float* moving_var = r.out32(mv);
                  float* saved_mean = r.out32(C);
                  float* saved_inv_std = r.out32(C);
                  r.be.batch_norm_forward_training_half(
                      r.in16(x), y, s.rows, C, affine ? r.in32(gamma) : nullptr,
                      affine ? r.in32(beta) : nullptr, eps, momentum, moving_mean, moving_var,
                      saved_mean, saved_inv_std, state, half);
                },
                kOneUlp, t32);
          check_parity(
              "batch_norm_forward_inference_half " + what, half,
              [&](Run& r) {
                void* y = r.out16(n);
                r.be.batch_norm_forward_inference_half(
                    r.in16(x), y, s.rows, C, affine ? r.in32(gamma) : nullptr,
                    affine ? r.in32(beta) : nullptr, r.in32(mm), r.in32(mv), eps, r.out32(C),
                    r.out32(C), half);
              },
              kOneUlp, t32);
          // Backward from the CPU's saved statistics (the same inputs on both).
          std::vector<float> saved_mean, saved_inv;
          {
            Run r(parity::cpu(), half);
            void* y = r.out16(n);
            float* sm = r.out32(C);
            float* si = r.out32(C);
            r.be.batch_norm_forward_training_half(r.in16(x), y, s.rows, C, nullptr, nullptr, eps,
                                                  momentum, nullptr, nullptr, sm, si, nullptr,
                                                  half);
            const Result res = r.result();
            saved_mean = res.outputs[1].values;
            saved_inv = res.outputs[2].values;
          }
          for (bool batch_stats : {true, false})
            check_parity(
                "batch_norm_backward_half " + what +
                    (batch_stats ? " batch stats" : " moving stats"),
                half,
                [&](Run& r) {
                  void* dx = r.out16(n);
                  float* dgamma = r.out32(C);
                  float* dbeta = r.out32(C);
                  r.be.batch_norm_backward_half(
                      r.in16(x), r.in16(dy), s.rows, C, affine ? r.in32(gamma) : nullptr,
                      r.in32(saved_mean), r.in32(saved_inv), batch_stats, dx, dgamma, dbeta, half);
                },
                kOneUlp, t32);
        }
}

TEST_CASE("CUDA check_numerics_half records what the CPU records", "[cuda][half]") {
  for (DType half : kHalves)
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000003}}) {
      const auto clean = values(n, 120, -3.0f, 3.0f);
      auto nan_last = clean, inf_first = clean, overflow = clean;
      nan_last[n - 1] = kNaN;
      inf_first[0] = -kInf;
      overflow[n / 2] = 70000.0f;  // finite in bfloat16, Inf in float16
      struct Row {
        const char* name;
        const std::vector<float>* x;
        ff::StepPass pass;
        bool halted, loss_scaling;
      };
      const Row rows[] = {
          {"clean", &clean, ff::StepPass::Forward, false, false},
          {"NaN last", &nan_last, ff::StepPass::Forward, false, false},
          {"-Inf first", &inf_first, ff::StepPass::Backward, false, false},
          {"past float16's range", &overflow, ff::StepPass::Forward, false, false},
          {"backward under a loss scale (exempt)", &nan_last, ff::StepPass::Backward, false, true},
          {"in a halted loop", &nan_last, ff::StepPass::Forward, true, false}};
      for (const Row& row : rows) {
        const auto [c, g] =
            check_parity(std::string("check_numerics_half ") + row.name + " n=" + std::to_string(n),
                         half, [&](Run& r) {
                           ff::StepState* state = r.state(3, row.halted, row.loss_scaling);
                           r.be.check_numerics_half(r.in16(*row.x), n, state, 5, row.pass, half);
                         });
        const ff::StepState h = header(g);
        const bool nonfinite = row.x != &clean && !(row.x == &overflow && half == DType::BFloat16);
        if (!row.halted && !row.loss_scaling) {
          CHECK(h.halted == (nonfinite ? 1 : 0));
          if (nonfinite) CHECK(h.error_where == 5);
        }
      }
    }
}

TEST_CASE("the CUDA backend keeps 16-bit buffers for mixed precision", "[cuda][half]") {
  CHECK(parity::gpu().half_storage());
  CHECK_FALSE(parity::cpu().half_storage());
}

TEST_CASE("CUDA 16-bit functions refuse a dtype that is not 16-bit, naming themselves",
          "[cuda][half]") {
  ff::Backend& be = parity::gpu();
  auto buf = ff::Tensor::empty(be.device(), {64}, DType::Float32);
  void* p = buf.raw();
  CHECK_THROWS_AS(be.add_half(p, p, 4, DType::Float32), ff::ValueError);
  CHECK_THROWS_WITH(be.add_half(p, p, 4, DType::Float32),
                    Catch::Contains("add_half") && Catch::Contains("float32"));
  CHECK_THROWS_WITH(be.activation_forward_half(Activation::Relu, 0.0f, p, p, 1, 4, DType::Int32),
                    Catch::Contains("activation_forward_half") && Catch::Contains("int32"));
  CHECK_THROWS_WITH(be.cast(p, DType::Int64, p, DType::Float32, 4),
                    Catch::Contains("cast") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(
      be.gemm_half(false, false, 2, 2, 2, p, 2, p, 2, p, 2, DType::Float16, DType::BFloat16),
      Catch::Contains("gemm_half") && Catch::Contains("float16"));
  ff::Pool2DGeometry g = pool_geometry({1, 2, 2, 1, 2, 2, 2, 2, false});
  CHECK_THROWS_WITH(be.max_pool2d_forward_half(g, p, p, DType::Float32),
                    Catch::Contains("max_pool2d_forward_half"));
  CHECK_THROWS_WITH(be.batch_norm_forward_inference_half(p, p, 1, 1, nullptr, nullptr,
                                                         buf.data<float>(), buf.data<float>(),
                                                         1e-3f, nullptr, nullptr, DType::Int64),
                    Catch::Contains("batch_norm_forward_inference_half"));
  CHECK_THROWS_WITH(be.conv2d_forward_half(conv_geometry({1, 3, 3, 1, 1, 1, 1}, DType::Float32), p,
                                           p, p, DType::Float32),
                    Catch::Contains("conv2d_forward_half"));
}

TEST_CASE("CUDA 16-bit kernels give the same bits from a captured graph", "[cuda][half]") {
  ff::Backend& be = parity::gpu();
  ff::Device& dev = be.device();
  for (DType half : kHalves) {
    INFO(ff::dtype_name(half));
    const int64_t rows = 64, in = 96, units = 48;
    const ff::Conv2DGeometry cg =
        conv_geometry({8, 12, 12, 16, 3, 3, 16, 2, 2, 1, 1, Pad::Same}, half);
    const ff::Pool2DGeometry pg = pool_geometry({8, 6, 6, 16, 3, 3, 2, 2, true});
    REQUIRE(cg.OH == pg.H);
    const int64_t nx = cg.N * cg.H * cg.W * cg.C, ny = cg.N * cg.OH * cg.OW * cg.F;
    const int64_t npool = pg.N * pg.OH * pg.OW * pg.C;
    auto put16 = [&](int64_t n) {
      return parity::put(be, {n}, std::vector<uint16_t>(static_cast<size_t>(n), kSentinel16), half);
    };
    auto x32 = parity::put(be, {rows * in}, values(rows * in, 130, -1.0f, 1.0f));
    auto w =
        parity::put(be, {in * units}, encode(values(in * units, 131, -0.2f, 0.2f), half), half);
    auto bias = parity::put(be, {units}, encode(values(units, 132), half), half);
    auto img = parity::put(be, {nx}, encode(values(nx, 133, -1.0f, 1.0f), half), half);
    auto kernel =
        parity::put(be, {cg.KH * cg.KW * cg.C * cg.F},
                    encode(values(cg.KH * cg.KW * cg.C * cg.F, 134, -0.3f, 0.3f), half), half);
    auto gamma = parity::put(be, {cg.F}, values(cg.F, 135, 0.5f, 1.5f));
    auto beta = parity::put(be, {cg.F}, values(cg.F, 136));
    std::vector<unsigned char> raw(ff::step_state_bytes(kNumSums), 0);
    {
      ff::StepState h{};
      h.rng_stream = 4;
      h.num_sums = kNumSums;
      h.loss_scale = 1.0f;
      h.grads_finite = 1;
      std::memcpy(raw.data(), &h, sizeof h);
    }
    auto state = parity::put(be, {static_cast<int64_t>(raw.size())}, raw, DType::UInt8);
    auto x16 = put16(rows * in), y = put16(rows * units), pre = put16(rows * units);
    auto dx = put16(rows * units), drop = put16(rows * units), conv = put16(ny);
    auto bn = put16(ny), pooled = put16(npool), dpool = put16(ny);
    auto dbias = parity::put(be, {units}, std::vector<float>(static_cast<size_t>(units), 0.0f));
    auto* st = static_cast<ff::StepState*>(state.raw());
    // The sequence of one mixed-precision step's kernels (no moving statistics: replays would
    // move them).
    auto sequence = [&] {
      be.cast(x16.raw(), half, x32.data<float>(), DType::Float32, rows * in);
      be.dense_forward_half(x16.raw(), w.raw(), bias.raw(), rows, in, units, Activation::Gelu, 0.0f,
                            y.raw(), pre.raw(), half);
      be.activation_backward_half(Activation::Gelu, 0.0f, pre.raw(), y.raw(), y.raw(), dx.raw(),
                                  rows, units, half);
      be.column_sum_half(dx.raw(), rows, units, dbias.data<float>(), half);
      be.dropout_half(dx.raw(), drop.raw(), rows * units, 0.25f, 77, st, half);
      be.conv2d_forward_half(cg, img.raw(), kernel.raw(), conv.raw(), half);
      be.batch_norm_forward_training_half(conv.raw(), bn.raw(), ny / cg.F, cg.F,
                                          gamma.data<float>(), beta.data<float>(), 1e-3f, 0.99f,
                                          nullptr, nullptr, nullptr, nullptr, st, half);
      be.max_pool2d_forward_half(pg, bn.raw(), pooled.raw(), half);
      be.max_pool2d_backward_half(pg, bn.raw(), pooled.raw(), dpool.raw(), half);
      be.check_numerics_half(dpool.raw(), ny, st, 1, ff::StepPass::Backward, half);
    };
    auto snapshot = [&] {
      std::vector<std::vector<uint16_t>> s;
      for (const ff::Tensor* t : {&x16, &y, &pre, &dx, &drop, &conv, &bn, &pooled, &dpool})
        s.push_back(parity::get<uint16_t>(*t));
      const auto db = parity::get<float>(dbias);
      std::vector<uint16_t> db_bits(db.size() * 2);
      std::memcpy(db_bits.data(), db.data(), db.size() * sizeof(float));
      s.push_back(db_bits);
      s.push_back(std::vector<uint16_t>(raw.size() / 2));
      const auto st_bytes = parity::get<unsigned char>(state);
      std::memcpy(s.back().data(), st_bytes.data(), raw.size() / 2 * 2);
      return s;
    };
    auto reset = [&] {
      for (ff::Tensor* t : {&x16, &y, &pre, &dx, &drop, &conv, &bn, &pooled, &dpool}) {
        const std::vector<uint16_t> fill(static_cast<size_t>(t->numel()), kSentinel16);
        dev.copy_from_host(t->raw(), fill.data(), t->nbytes());
      }
    };
    sequence();  // eager: plans made, workspaces sized
    const auto eager = snapshot();
    reset();
    dev.synchronize();
    dev.begin_capture(0);
    sequence();
    const ff::GraphId graph = dev.end_capture(0);
    for (int replay = 0; replay < 2; ++replay) {
      reset();
      dev.launch_graph(graph, 0);
      const auto replayed = snapshot();
      REQUIRE(replayed.size() == eager.size());
      for (size_t i = 0; i < eager.size(); ++i) {
        INFO("buffer " << i << " replay " << replay);
        CHECK(replayed[i] == eager[i]);
      }
    }
    dev.destroy_graph(graph);
    // And the state saw no error (the sequence's values are finite).
    ff::StepState h{};
    std::memcpy(&h, parity::get<unsigned char>(state).data(), sizeof h);
    CHECK(h.halted == 0);
  }
}
