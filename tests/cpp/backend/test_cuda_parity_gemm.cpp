// [cuda] parity of the CUDA backend's matrix products (cuda_gemm.cu: cuBLASLt) with the CPU
// backend: gemm in every transpose combination, odd and large shapes, alpha/beta, leading
// dimensions wider than the rows, NaN/Inf, empty sizes; gemm_bf16; dense_forward for every
// activation with and without bias and pre-activation; the same bits on a second run and from a
// captured CUDA graph. Float32 without TF32: within 1e-5 of the result's scale.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

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

constexpr ff::Activation kActivations[] = {
    ff::Activation::Linear, ff::Activation::Relu,      ff::Activation::Sigmoid,
    ff::Activation::Tanh,   ff::Activation::Softmax,   ff::Activation::LeakyRelu,
    ff::Activation::Elu,    ff::Activation::Gelu,      ff::Activation::Swish};

std::vector<float> random_values(int64_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * (2.0f * ff::Philox::uniform(seed, 0, i) - 1.0f);
  return v;
}

int64_t span(int64_t rows, int64_t cols, int64_t ld) {
  return rows <= 0 || cols <= 0 ? 0 : (rows - 1) * ld + cols;
}

struct GemmCase {
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0, pad = 0;  // pad: leading dimensions wider than the rows
  float alpha = 1.0f, beta = 0.0f;
};

struct GemmData {
  int64_t lda = 0, ldb = 0, ldc = 0;
  std::vector<float> a, b, c;
};

GemmData make_data(const GemmCase& g, uint64_t seed) {
  GemmData d;
  d.lda = (g.ta ? g.m : g.k) + g.pad;
  d.ldb = (g.tb ? g.k : g.n) + g.pad;
  d.ldc = g.n + g.pad;
  d.a = random_values(span(g.ta ? g.k : g.m, g.ta ? g.m : g.k, d.lda), seed);
  d.b = random_values(span(g.tb ? g.n : g.k, g.tb ? g.k : g.n, d.ldb), seed + 1);
  d.c = random_values(span(g.m, g.n, d.ldc), seed + 2);
  return d;
}

// c after gemm (or gemm_bf16) on `be`, the whole strided buffer (gaps included).
std::vector<float> run_gemm(ff::Backend& be, const GemmCase& g, const GemmData& d,
                            bool bf16 = false) {
  auto a = put(be, {static_cast<int64_t>(d.a.size())}, d.a);
  auto b = put(be, {static_cast<int64_t>(d.b.size())}, d.b);
  auto c = put(be, {static_cast<int64_t>(d.c.size())}, d.c);
  if (bf16)
    be.gemm_bf16(g.ta, g.tb, g.m, g.n, g.k, a.data<float>(), d.lda, b.data<float>(), d.ldb,
                 c.data<float>(), d.ldc);
  else
    be.gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a.data<float>(), d.lda, b.data<float>(), d.ldb,
            g.beta, c.data<float>(), d.ldc);
  return get(c);
}

// Absolute tolerance for a k-term sum of values in [-1, 1]: 1e-5 of its typical size.
double gemm_abs(int64_t k) { return 1e-5 * std::sqrt(static_cast<double>(std::max<int64_t>(k, 1))); }

std::string describe(const GemmCase& g) {
  return "m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k) +
         " ta=" + std::to_string(g.ta) + " tb=" + std::to_string(g.tb) +
         " pad=" + std::to_string(g.pad) + " alpha=" + std::to_string(g.alpha) +
         " beta=" + std::to_string(g.beta);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("CUDA gemm agrees with the CPU for every transpose, shape, alpha, beta and stride",
          "[cuda]") {
  const int64_t shapes[][3] = {{1, 1, 1}, {1, 784, 512}, {127, 33, 65}, {4096, 1000, 512},
                               {128, 512, 784}, {3, 2, 1000}};
  uint64_t seed = 10;
  for (const auto& s : shapes)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (int64_t pad : {int64_t{0}, int64_t{3}})
          for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{0.5f, 2.0f}}) {
            if (s[0] == 4096 && (pad || beta != 0.0f)) continue;  // the large one once per op
            const GemmCase g{ta, tb, s[0], s[1], s[2], pad, alpha, beta};
            const GemmData d = make_data(g, seed += 3);
            INFO(describe(g));
            CHECK(compare(run_gemm(cpu(), g, d), run_gemm(gpu(), g, d), 1e-5,
                          gemm_abs(g.k) * (1 + g.beta)) == "");
          }
}

TEST_CASE("CUDA gemm propagates NaN and Inf as the CPU does", "[cuda]") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const GemmCase g{ta, tb, 127, 33, 65, 2, 1.0f, 0.0f};
      GemmData d = make_data(g, 50);
      // op(a)[5, 7] = NaN (row 5 NaN), op(a)[9, 2] = Inf (row 9 +-Inf), op(b)[4, 11] = -Inf
      // (column 11 +-Inf), and NaN in c, which beta 0 must not read.
      auto at_a = [&](int64_t i, int64_t p) -> float& {
        return ta ? d.a[p * d.lda + i] : d.a[i * d.lda + p];
      };
      auto at_b = [&](int64_t p, int64_t j) -> float& {
        return tb ? d.b[j * d.ldb + p] : d.b[p * d.ldb + j];
      };
      at_a(5, 7) = kNaN;
      at_a(9, 2) = kInf;
      at_b(4, 11) = -kInf;
      d.c[0] = kNaN;
      d.c[40 * d.ldc + 3] = kNaN;
      INFO(describe(g));
      const auto want = run_gemm(cpu(), g, d), got = run_gemm(gpu(), g, d);
      CHECK(compare(want, got, 1e-5, gemm_abs(g.k)) == "");
      CHECK(std::isnan(got[5 * d.ldc]));
      CHECK(std::isinf(got[0 * d.ldc + 11]));
      CHECK(std::isfinite(got[0]));
    }
}

TEST_CASE("CUDA gemm with an empty size behaves as the CPU", "[cuda]") {
  const GemmCase cases[] = {{false, false, 0, 5, 3, 0, 1.0f, 2.0f},
                            {false, false, 4, 0, 3, 0, 1.0f, 2.0f},
                            {false, true, 4, 5, 0, 1, 1.0f, 2.0f},
                            {true, false, 4, 5, 0, 0, 1.0f, 0.0f}};
  for (const GemmCase& g : cases) {
    GemmData d = make_data(g, 70);
    if (d.c.empty()) d.c = random_values(7, 71);  // c untouched when m or n is 0
    if (!d.c.empty() && g.beta == 0.0f) d.c[0] = kNaN;
    INFO(describe(g));
    const auto want = run_gemm(cpu(), g, d), got = run_gemm(gpu(), g, d);
    CHECK(compare(want, got, 1e-6, 0.0) == "");
    CHECK(same_bits(want, got));
  }
}

TEST_CASE("CUDA gemm gives the same bits on every run and from a captured graph", "[cuda]") {
  const GemmCase g{false, true, 4096, 1000, 512, 0, 1.0f, 0.0f};
  const GemmData d = make_data(g, 90);
  const auto first = run_gemm(gpu(), g, d);
  CHECK(same_bits(first, run_gemm(gpu(), g, d)));

  // A shape not planned yet, first called inside the capture: the plan is made there (no
  // allocation, no synchronisation), and the replay writes what an eager call writes.
  ff::Backend& be = gpu();
  const GemmCase h{true, false, 129, 257, 63, 1, 0.5f, 1.5f};
  const GemmData e = make_data(h, 91);
  auto a = put(be, {static_cast<int64_t>(e.a.size())}, e.a);
  auto b = put(be, {static_cast<int64_t>(e.b.size())}, e.b);
  auto c = put(be, {static_cast<int64_t>(e.c.size())}, e.c);
  ff::Device& dev = be.device();
  dev.synchronize();
  dev.begin_capture(0);
  be.gemm(h.ta, h.tb, h.m, h.n, h.k, h.alpha, a.data<float>(), e.lda, b.data<float>(), e.ldb,
          h.beta, c.data<float>(), e.ldc);
  const ff::GraphId graph = dev.end_capture(0);
  dev.launch_graph(graph, 0);
  const auto replayed = get(c);
  dev.destroy_graph(graph);
  CHECK(same_bits(replayed, run_gemm(be, h, e)));
}

TEST_CASE("CUDA gemm runs on TF32 only while it is enabled", "[cuda]") {
  ff::Backend& be = gpu();
  const GemmCase g{false, false, 512, 512, 512, 0, 1.0f, 0.0f};
  const GemmData d = make_data(g, 120);
  const auto exact = run_gemm(be, g, d);
  std::vector<float> fast;
  {
    MathScope tf32(true, true);
    fast = run_gemm(be, g, d);
  }
  CHECK(compare(run_gemm(cpu(), g, d), fast, 1e-2, 1e-2 * std::sqrt(512.0)) == "");
  CHECK_FALSE(same_bits(exact, fast));           // TF32's rounding shows in the bits
  CHECK(same_bits(exact, run_gemm(be, g, d)));   // off again: the float32 plan
}

TEST_CASE("CUDA gemm_bf16 agrees with the CPU's", "[cuda]") {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t pad : {int64_t{0}, int64_t{2}}) {
        const GemmCase g{ta, tb, 127, 33, 65, pad, 1.0f, 0.0f};
        GemmData d = make_data(g, 110);
        d.a[3] = kNaN;
        INFO(describe(g));
        // The same bfloat16 values on both sides; only the order of float32 sums differs.
        CHECK(compare(run_gemm(cpu(), g, d, true), run_gemm(gpu(), g, d, true), 1e-5,
                      gemm_abs(g.k)) == "");
      }
}

TEST_CASE("CUDA dense_forward agrees with the CPU for every activation, bias and preact",
          "[cuda]") {
  const int64_t shapes[][3] = {{127, 65, 33}, {128, 784, 512}, {1, 3, 10}};  // rows, in, units
  for (const auto& s : shapes) {
    const int64_t rows = s[0], in = s[1], units = s[2];
    auto x = random_values(rows * in, 130);
    // Weights of a Glorot-like scale: pre-activations of order 1, where every activation bends.
    const auto w = random_values(in * units, 131, 2.0f / std::sqrt(static_cast<float>(in)));
    const auto bias = random_values(units, 132);
    x[0] = kNaN;                                 // row 0 NaN: ReLU and softmax must keep it
    if (rows > 2) x[2 * in + 1] = kInf;          // row 2 +-Inf
    for (ff::Activation act : kActivations)
      for (bool with_bias : {false, true})
        for (bool with_preact : {false, true}) {
          INFO("rows " << rows << " in " << in << " units " << units << " activation "
                       << static_cast<int>(act) << " bias " << with_bias << " preact "
                       << with_preact);
          const float alpha = act == ff::Activation::LeakyRelu ? 0.2f
                              : act == ff::Activation::Elu     ? 1.0f
                                                               : 0.0f;
          std::vector<float> y[2], pre[2];
          int side = 0;
          for (ff::Backend* be : {&cpu(), &gpu()}) {
            auto tx = put(*be, {rows, in}, x);
            auto tw = put(*be, {in, units}, w);
            auto tb = put(*be, {units}, bias);
            auto ty = put(*be, {rows, units}, std::vector<float>(rows * units, -3.0f));
            auto tp = put(*be, {rows, units}, std::vector<float>(rows * units, -4.0f));
            be->dense_forward(tx.data<float>(), tw.data<float>(),
                              with_bias ? tb.data<float>() : nullptr, rows, in, units, act, alpha,
                              ty.data<float>(), with_preact ? tp.data<float>() : nullptr);
            y[side] = get(ty);
            pre[side] = get(tp);
            ++side;
          }
          CHECK(compare(y[0], y[1]) == "");
          CHECK(compare(pre[0], pre[1]) == "");
          CHECK(std::isnan(y[1][0]));
        }
  }
}

TEST_CASE("CUDA dense_forward gives the same bits on every run and from a captured graph",
          "[cuda]") {
  ff::Backend& be = gpu();
  const int64_t rows = 128, in = 784, units = 512;
  const auto x = random_values(rows * in, 150);
  const auto w = random_values(in * units, 151, 0.07f);
  const auto bias = random_values(units, 152);
  auto tx = put(be, {rows, in}, x);
  auto tw = put(be, {in, units}, w);
  auto tb = put(be, {units}, bias);
  for (ff::Activation act : {ff::Activation::Relu, ff::Activation::Linear, ff::Activation::Gelu}) {
    INFO("activation " << static_cast<int>(act));
    auto ty = ff::Tensor::zeros(be.device(), {rows, units});
    auto tp = ff::Tensor::zeros(be.device(), {rows, units});
    float* preact = act == ff::Activation::Gelu ? tp.data<float>() : nullptr;
    be.dense_forward(tx.data<float>(), tw.data<float>(), tb.data<float>(), rows, in, units, act,
                     0.0f, ty.data<float>(), preact);
    const auto first = get(ty), first_pre = get(tp);
    be.device().zero(ty.raw(), ty.nbytes());
    be.device().zero(tp.raw(), tp.nbytes());
    be.device().synchronize();
    be.device().begin_capture(0);
    be.dense_forward(tx.data<float>(), tw.data<float>(), tb.data<float>(), rows, in, units, act,
                     0.0f, ty.data<float>(), preact);
    const ff::GraphId graph = be.device().end_capture(0);
    for (int replay = 0; replay < 2; ++replay) be.device().launch_graph(graph, 0);
    CHECK(same_bits(first, get(ty)));
    CHECK(same_bits(first_pre, get(tp)));
    be.device().destroy_graph(graph);
  }
}
