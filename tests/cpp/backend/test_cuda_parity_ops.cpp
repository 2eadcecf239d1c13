// CUDA versus CPU for the ff.ops kernels (backend/cuda/cuda_ops.cu against backend/cpu/ops.cpp):
// every unary, binary, where and reduction kind forward and backward, and strided copies, on
// odd, broadcast and large geometries (built by the op layers' own geometry functions) with NaN
// and +-Inf among the inputs, within 1e-5 relative; two CUDA runs bit-identical (no atomics);
// and an op-layer model trained on both. Tagged [cuda]: they run on a GPU machine
// (scripts/gpu-check.sh), never in ctest.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/parity_util.h"
#include "core/rng.h"
#include "layers/ops/broadcast.h"

namespace {

namespace parity = fftest::parity;
using ff::Shape;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kSentinel = -7.25f;

std::vector<float> values(int64_t n, uint64_t seed, float lo = -3.0f, float hi = 3.0f,
                          bool specials = true) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * ff::Philox::uniform(seed, 1, i);
  if (specials) {
    for (int64_t i = 13; i < n; i += 997) v[i] = kNaN;
    for (int64_t i = 29; i < n; i += 1009) v[i] = kInf;
    for (int64_t i = 41; i < n; i += 1013) v[i] = -kInf;
  }
  return v;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Buffers of one run on one backend.
class Run {
 public:
  explicit Run(ff::Backend& backend) : be(backend) {}
  ff::Backend& be;
  float* in(const std::vector<float>& v) {
    keep_.push_back(parity::put(be, {static_cast<int64_t>(v.size())}, v));
    return keep_.back().data<float>();
  }
  float* out(int64_t n) {
    outputs_.push_back(parity::put(
        be, {n}, std::vector<float>(static_cast<size_t>(n), kSentinel)));
    return outputs_.back().data<float>();
  }
  std::vector<std::vector<float>> result() const {
    std::vector<std::vector<float>> r;
    for (const auto& t : outputs_) r.push_back(parity::get<float>(t));
    return r;
  }

 private:
  std::vector<ff::Tensor> keep_, outputs_;
};

// `body` on the CPU and twice on CUDA: CUDA agrees with the CPU within `rel`, and its two runs
// give the same bits.
void check_parity(const std::string& what, const std::function<void(Run&)>& body,
                  double rel = 1e-5) {
  INFO(what);
  Run c(parity::cpu());
  body(c);
  const auto cpu = c.result();
  std::vector<std::vector<float>> gpu[2];
  for (auto& g : gpu) {
    Run r(parity::gpu());
    body(r);
    g = r.result();
  }
  REQUIRE(cpu.size() == gpu[0].size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    INFO("output " << i);
    CHECK(parity::compare(cpu[i], gpu[0][i], rel) == "");
    CHECK(std::memcmp(gpu[0][i].data(), gpu[1][i].data(), sizeof(float) * gpu[0][i].size()) == 0);
  }
}

// Operand shape pairs: equal, a row, a column, a leading 1, a scalar, odd and large.
const std::vector<std::pair<Shape, Shape>> kPairs = {
    {{1}, {1}},           {{127, 33}, {127, 33}}, {{127, 33}, {33}},  {{127, 33}, {127, 1}},
    {{3, 5, 7}, {5, 1}},  {{1, 33}, {127, 33}},   {{257, 1031}, {}},  {{9, 4, 6, 5}, {4, 1, 5}}};

}  // namespace

TEST_CASE("CUDA parity: op_unary and op_unary_backward", "[cuda][ops]") {
  const std::vector<ff::UnaryKind> kinds = {
      ff::UnaryKind::Negative, ff::UnaryKind::Exp,    ff::UnaryKind::Log,
      ff::UnaryKind::Sqrt,     ff::UnaryKind::Square, ff::UnaryKind::Abs,
      ff::UnaryKind::Sign,     ff::UnaryKind::Trunc,  ff::UnaryKind::NotZero,
      ff::UnaryKind::Clip,     ff::UnaryKind::Identity};
  for (int64_t n : {int64_t{1}, int64_t{33}, int64_t{4099}, int64_t{1} << 20}) {
    const auto x = values(n, 1);
    const auto dy = values(n, 2, -1.0f, 1.0f, false);
    for (ff::UnaryKind k : kinds) {
      check_parity("unary " + std::to_string(static_cast<int>(k)) + " n " + std::to_string(n),
                   [&](Run& r) {
                     const float* xp = r.in(x);
                     float* y = r.out(n);
                     r.be.op_unary(k, -0.5f, 1.5f, xp, y, n);
                     r.be.op_unary_backward(k, -0.5f, 1.5f, xp, y, r.in(dy), r.out(n), n);
                   });
    }
  }
}

TEST_CASE("CUDA parity: op_binary and op_binary_backward with broadcasting", "[cuda][ops]") {
  const std::vector<ff::BinaryKind> kinds = {
      ff::BinaryKind::Add,     ff::BinaryKind::Subtract, ff::BinaryKind::Multiply,
      ff::BinaryKind::Divide,  ff::BinaryKind::Power,    ff::BinaryKind::Maximum,
      ff::BinaryKind::Minimum, ff::BinaryKind::Equal,    ff::BinaryKind::NotEqual,
      ff::BinaryKind::Less,    ff::BinaryKind::LessEqual, ff::BinaryKind::Greater,
      ff::BinaryKind::GreaterEqual};
  for (size_t p = 0; p < kPairs.size(); ++p) {
    const auto& [sa, sb] = kPairs[p];
    const Shape out = ff::ops::broadcast_shapes("parity", {sa, sb});
    const auto g = ff::ops::broadcast_geometry(out, {sa, sb});
    const int64_t n = numel(out);
    const auto a = values(numel(sa), 3), b = values(numel(sb), 4);
    const auto dy = values(n, 5, -1.0f, 1.0f, false);
    for (ff::BinaryKind k : kinds) {
      check_parity("binary " + std::to_string(static_cast<int>(k)) + " pair " + std::to_string(p),
                   [&](Run& r) {
                     const float* ap = r.in(a);
                     const float* bp = r.in(b);
                     r.be.op_binary(k, ap, 0, bp, 0, r.out(n), g);
                     r.be.op_binary_backward(k, ap, 0, bp, 0, r.in(dy), r.out(n), r.out(n), g);
                     // a scalar on either side
                     r.be.op_binary(k, nullptr, 1.5f, bp, 0, r.out(n), g);
                     r.be.op_binary_backward(k, ap, 0, nullptr, -0.5f, r.in(dy), r.out(n),
                                             nullptr, g);
                   });
    }
  }
}

TEST_CASE("CUDA parity: op_where and op_where_backward", "[cuda][ops]") {
  for (const auto& [sa, sb] : kPairs) {
    const Shape out = ff::ops::broadcast_shapes("parity", {sa, sb});
    const auto g = ff::ops::broadcast_geometry(out, {sb, sa, sb});
    const int64_t n = numel(out);
    auto cond = values(numel(sb), 6, -1.0f, 1.0f, false);
    for (auto& c : cond) c = c > 0 ? 1.0f : 0.0f;
    const auto x = values(numel(sa), 7), y = values(numel(sb), 8), dy = values(n, 9);
    check_parity("where " + ff::shape_str(sa) + " " + ff::shape_str(sb), [&](Run& r) {
      const float* c = r.in(cond);
      r.be.op_where(c, 0, r.in(x), 0, r.in(y), 0, r.out(n), g);
      r.be.op_where(c, 0, r.in(x), 0, nullptr, -2.0f, r.out(n), g);
      r.be.op_where_backward(c, 0, r.in(dy), r.out(n), r.out(n), g);
    });
  }
}

TEST_CASE("CUDA parity: op_reduce and op_reduce_backward over axes", "[cuda][ops]") {
  const std::vector<ff::ReduceKind> kinds = {
      ff::ReduceKind::Sum,    ff::ReduceKind::Mean,   ff::ReduceKind::Max,
      ff::ReduceKind::Min,    ff::ReduceKind::ArgMax, ff::ReduceKind::ArgMin,
      ff::ReduceKind::LogSumExp};
  const std::vector<std::pair<Shape, std::vector<int>>> cases = {
      {{1}, {0}},          {{127, 33}, {1}},     {{127, 33}, {0}},        {{3, 5, 7}, {0, 2}},
      {{3, 5, 7}, {1}},    {{4099, 257}, {0}},   {{257, 4099}, {1}},      {{9, 4, 6, 5}, {1, 3}},
      {{2, 3}, {0, 1}}};
  for (const auto& [shape, axes] : cases) {
    const auto geo = ff::ops::reduce_geometry(shape, axes);
    const int64_t n = numel(shape), m = geo.out_numel();
    for (bool specials : {false, true}) {
      const auto x = values(n, 10, -3.0f, 3.0f, specials);
      const auto dy = values(m, 11, -1.0f, 1.0f, false);
      for (ff::ReduceKind k : kinds) {
        check_parity("reduce " + std::to_string(static_cast<int>(k)) + " " + ff::shape_str(shape),
                     [&](Run& r) {
                       const float* xp = r.in(x);
                       float* y = r.out(m);
                       r.be.op_reduce(k, xp, y, geo);
                       r.be.op_reduce_backward(k, xp, y, r.in(dy), r.out(n), geo);
                     });
      }
    }
  }
}

TEST_CASE("CUDA parity: op_strided_copy (transposes)", "[cuda][ops]") {
  const std::vector<std::pair<Shape, std::vector<int>>> cases = {
      {{1}, {0}}, {{127, 33}, {1, 0}}, {{3, 5, 7}, {2, 0, 1}}, {{9, 4, 6, 5}, {0, 3, 1, 2}},
      {{1031, 257}, {1, 0}}};
  for (const auto& [shape, perm] : cases) {
    const auto geo = ff::ops::permute_geometry(shape, perm);
    const auto x = values(numel(shape), 12);
    check_parity("transpose " + ff::shape_str(shape), [&](Run& r) {
      r.be.op_strided_copy(r.in(x), r.out(numel(shape)), geo);
    }, 0.0);
  }
}

TEST_CASE("CUDA parity: random_values (ff.random's normal, uniform and dropout)", "[cuda][ops]") {
  // The same Philox draws on both: a training step's stream and an inference batch's.
  for (bool training : {true, false}) {
    for (int64_t n : {int64_t{1}, int64_t{1031}, int64_t{262147}}) {
      const auto x = values(n, 13);
      check_parity("random_values n=" + std::to_string(n), [&](Run& r) {
        ff::StepState h{};
        h.rng_stream = 41;
        h.loop_batch = 3;
        h.loss_scale = 1.0f;
        ff::Tensor block = ff::Tensor::zeros(r.be.device(),
                                             {static_cast<int64_t>(ff::step_state_bytes(0))},
                                             ff::DType::UInt8);
        r.be.device().copy_from_host(block.raw(), &h, sizeof h);
        const auto* s = static_cast<const ff::StepState*>(block.raw());
        r.be.random_values(ff::RandomKind::Normal, 1.0f, 2.0f, 7, nullptr, r.out(n), n, s,
                           training);
        r.be.random_values(ff::RandomKind::Uniform, -1.0f, 3.0f, 8, nullptr, r.out(n), n, s,
                           training);
        r.be.random_values(ff::RandomKind::Dropout, 0.3f, 0.0f, 9, r.in(x), r.out(n), n, s,
                           training);
        r.be.device().synchronize();
      }, 1e-5);
    }
  }
}

namespace {

// Indices for ff.ops.take into an axis of `size`: every position, negatives, repeats.
std::vector<float> take_indices(int64_t n, int64_t size, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    const auto k = static_cast<int64_t>(ff::Philox::uniform(seed, 2, j) * 2 * size) - size;
    v[j] = static_cast<float>(k < -size ? -size : (k >= size ? size - 1 : k));
  }
  return v;
}

// The step state an op_take call recorded (a fresh block on r's device).
ff::StepState take_with_state(ff::Backend& be, const std::vector<float>& x,
                              const std::vector<float>& idx, int64_t outer, int64_t size,
                              int64_t inner) {
  Run r(be);
  const auto n = static_cast<int64_t>(idx.size());
  ff::StepState h{};
  h.loss_scale = 1.0f;
  ff::Tensor block = ff::Tensor::zeros(be.device(), {static_cast<int64_t>(ff::step_state_bytes(0))},
                                       ff::DType::UInt8);
  be.device().copy_from_host(block.raw(), &h, sizeof h);
  be.op_take(r.in(x), r.in(idx), r.out(outer * n * inner), outer, size, n, inner,
             static_cast<ff::StepState*>(block.raw()), 5);
  be.device().copy_to_host(&h, block.raw(), sizeof h);
  return h;
}

}  // namespace

TEST_CASE("CUDA parity: op_take and its scatter-add gradient", "[cuda][ops]") {
  struct Case { int64_t outer, size, n, inner; };
  const std::vector<Case> cases = {{1, 1, 1, 1},     {1, 7, 20, 1},   {3, 5, 4, 7},
                                   {1, 1000, 4099, 33}, {257, 9, 3, 1}, {2, 64, 300, 129}};
  for (const Case& c : cases) {
    const auto x = values(c.outer * c.size * c.inner, 14);
    const auto dy = values(c.outer * c.n * c.inner, 15, -3.0f, 3.0f, false);
    const auto idx = take_indices(c.n, c.size, 16);
    check_parity("take outer=" + std::to_string(c.outer) + " size=" + std::to_string(c.size) +
                     " n=" + std::to_string(c.n) + " inner=" + std::to_string(c.inner),
                 [&](Run& r) {
                   const float* pi = r.in(idx);
                   r.be.op_take(r.in(x), pi, r.out(c.outer * c.n * c.inner), c.outer, c.size,
                                c.n, c.inner, nullptr, 0);
                   r.be.op_take_backward(pi, r.in(dy), r.out(c.outer * c.size * c.inner),
                                         c.outer, c.size, c.n, c.inner);
                 },
                 1e-5);
  }
  SECTION("a bad index: the same first position recorded") {
    std::vector<float> idx = take_indices(5000, 10, 17);
    idx[3001] = 10.0f;
    idx[4000] = -11.0f;
    idx[4500] = 0.5f;
    const auto x = values(2 * 10 * 3, 18);
    const ff::StepState c = take_with_state(parity::cpu(), x, idx, 2, 10, 3);
    const ff::StepState g = take_with_state(parity::gpu(), x, idx, 2, 10, 3);
    CHECK(c.halted == 1);
    CHECK(g.halted == 1);
    CHECK(c.error_index == 3001);
    CHECK(g.error_index == 3001);
    CHECK(g.error_value == 10.0);
    CHECK(g.error_where == 5);
  }
}
