// CUDA versus CPU, table-driven, for the elementwise, loss and metric kernels
// (backend/cuda/cuda_elementwise.cu, cuda_losses.cu, cuda_metrics.cu): every kernel forward and
// backward on random inputs with NaN and +-Inf, one row, odd and large shapes, within 1e-5
// relative (parity::compare); the step-state block's side effects (sums added, errors recorded,
// the first error winning) compared too; two CUDA runs of the same inputs bit-identical; and
// NaN propagation asserted outright for relu, clip, softmax and argmax. Tagged [cuda]: they run
// on a GPU machine (scripts/gpu-check.sh), never in ctest.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda_loader.h"
#include "backend/parity_util.h"
#include "core/rng.h"

namespace {

namespace parity = fftest::parity;
using ff::Activation;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kSentinel = -7.25f;  // outputs start as this on both devices: unwritten stays it

struct Shape2 {
  int64_t rows, cols;
};
// One row, a single element, odd shapes, a large one.
const std::vector<Shape2> kShapes = {{1, 1}, {1, 33}, {127, 33}, {64, 10}, {4096, 1000}};

std::string shape_name(Shape2 s) {
  return std::to_string(s.rows) + "x" + std::to_string(s.cols);
}

// Uniform values in [lo, hi); with `specials`, NaN, +Inf and -Inf at a few fixed positions.
std::vector<float> values(int64_t n, uint64_t seed, float lo = -3.0f, float hi = 3.0f,
                          bool specials = false) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * ff::Philox::uniform(seed, 1, i);
  if (specials) {
    for (int64_t i = 13; i < n; i += 997) v[i] = kNaN;
    for (int64_t i = 29; i < n; i += 1009) v[i] = kInf;
    for (int64_t i = 41; i < n; i += 1013) v[i] = -kInf;
    if (n == 1) v[0] = kNaN;
  }
  return v;
}

// Rows of probabilities (positive, summing to 1) or one-hot rows.
std::vector<float> probability_rows(int64_t rows, int64_t cols, uint64_t seed, bool one_hot) {
  std::vector<float> v(static_cast<size_t>(rows * cols), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    if (one_hot) {
      v[r * cols + static_cast<int64_t>(ff::Philox::uniform(seed, 2, r) * cols) % cols] = 1.0f;
      continue;
    }
    float s = 0.0f;
    for (int64_t c = 0; c < cols; ++c) s += v[r * cols + c] = 0.05f + ff::Philox::uniform(seed, 3, r * cols + c);
    for (int64_t c = 0; c < cols; ++c) v[r * cols + c] /= s;
  }
  return v;
}

std::vector<int64_t> label_values(int64_t rows, int64_t cols, uint64_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r)
    v[r] = static_cast<int64_t>(ff::Philox::uniform(seed, 4, r) * cols) % cols;
  return v;
}

constexpr int32_t kNumSums = 2;

// What one run of a kernel leaves: the outputs, the step-state header and its sums.
struct Result {
  std::vector<std::vector<float>> outputs;
  ff::StepState state{};
  std::vector<double> sums;
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
  int64_t* labels(const std::vector<int64_t>& v) {
    keep_.push_back(parity::put(be, {static_cast<int64_t>(v.size())}, v, ff::DType::Int64));
    return keep_.back().data<int64_t>();
  }
  // An output of n floats, starting as kSentinel (or `initial`), read back by result().
  float* out(int64_t n, float initial = kSentinel) {
    return out(std::vector<float>(static_cast<size_t>(n), initial));
  }
  float* out(const std::vector<float>& initial) {
    outputs_.push_back(parity::put(be, {static_cast<int64_t>(initial.size())}, initial));
    return outputs_.back().data<float>();
  }
  // The step-state block: rng_stream 7, loop_batch 3, the loop sums and the step's partial sums
  // starting at 0.25, -1.5, 0.5, 2 (so "adds into" is seen); `halted` when asked.
  ff::StepState* state(bool halted = false) {
    ff::StepState h{};
    h.step = 7;
    h.rng_stream = 7;
    h.loop_batch = 3;
    h.num_sums = kNumSums;
    h.loss_scale = 1.0f;
    h.grads_finite = 1;
    if (halted) {
      h.halted = 1;
      h.error = static_cast<int32_t>(ff::StepError::NonFinite);
      h.error_where = 9;
      h.error_index = -1;
    }
    const size_t bytes = ff::step_state_bytes(kNumSums);
    std::vector<float> raw(bytes / sizeof(float));
    const double sums[2 * kNumSums] = {0.25, -1.5, 0.5, 2.0};
    std::memcpy(raw.data(), &h, sizeof h);
    std::memcpy(reinterpret_cast<char*>(raw.data()) + sizeof h, sums, sizeof sums);
    state_ = parity::put(be, {static_cast<int64_t>(raw.size())}, raw);
    return reinterpret_cast<ff::StepState*>(state_.raw());
  }
  // The partial sum slot i of the block (backend memory; pointer arithmetic only).
  double* sum_slot(int32_t i) { return ff::step_sums(reinterpret_cast<ff::StepState*>(state_.raw()), kNumSums) + i; }

  Result result() const {
    Result r;
    for (const auto& t : outputs_) r.outputs.push_back(parity::get<float>(t));
    if (state_.defined()) {
      const std::vector<float> raw = parity::get<float>(state_);
      std::memcpy(&r.state, raw.data(), sizeof r.state);
      r.sums.resize(2 * kNumSums);
      std::memcpy(r.sums.data(), reinterpret_cast<const char*>(raw.data()) + sizeof r.state,
                  sizeof(double) * r.sums.size());
    }
    return r;
  }

 private:
  std::vector<ff::Tensor> keep_, outputs_;
  ff::Tensor state_;
};

std::string compare_sums(const std::vector<double>& a, const std::vector<double>& b, double rel) {
  if (a.size() != b.size()) return "sum counts differ";
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::isinf(a[i]) || std::isinf(b[i])) {
      if (a[i] == b[i]) continue;
    } else if (std::fabs(a[i] - b[i]) <= 1e-9 + rel * std::max(std::fabs(a[i]), std::fabs(b[i]))) {
      continue;
    }
    return "sum " + std::to_string(i) + ": cpu " + std::to_string(a[i]) + ", cuda " +
           std::to_string(b[i]);
  }
  return "";
}

bool same_bits(const Result& a, const Result& b) {
  if (a.outputs.size() != b.outputs.size() || a.sums.size() != b.sums.size()) return false;
  for (size_t i = 0; i < a.outputs.size(); ++i)
    if (a.outputs[i].size() != b.outputs[i].size() ||
        std::memcmp(a.outputs[i].data(), b.outputs[i].data(), sizeof(float) * a.outputs[i].size()))
      return false;
  return std::memcmp(&a.state, &b.state, sizeof a.state) == 0 &&
         std::memcmp(a.sums.data(), b.sums.data(), sizeof(double) * a.sums.size()) == 0;
}

void check_state(const ff::StepState& c, const ff::StepState& g) {
  CHECK(g.halted == c.halted);
  CHECK(g.error == c.error);
  CHECK(g.error_where == c.error_where);
  CHECK(g.error_pass == c.error_pass);
  CHECK(g.error_batch == c.error_batch);
  CHECK(g.error_index == c.error_index);
  CHECK((g.error_value == c.error_value || (std::isnan(g.error_value) && std::isnan(c.error_value))));
  CHECK(g.step == c.step);
  CHECK(g.rng_stream == c.rng_stream);
}

// Runs `body` on the CPU and twice on CUDA: the CUDA results agree with the CPU's (within `rel`;
// rel 0: bit for bit) and the two CUDA runs give the same bits. Returns the CUDA result.
Result check_parity(const std::string& what, const std::function<void(Run&)>& body,
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
    CHECK(parity::compare(c.outputs[i], g[0].outputs[i], rel, rel == 0.0 ? 0.0 : 1e-6) == "");
  }
  CHECK(compare_sums(c.sums, g[0].sums, rel) == "");
  check_state(c.state, g[0].state);
  CHECK(same_bits(g[0], g[1]));
  return g[0];
}

const std::vector<Activation> kActivations = {
    Activation::Linear, Activation::Relu,      Activation::Sigmoid,
    Activation::Tanh,   Activation::Softmax,   Activation::LeakyRelu,
    Activation::Elu,    Activation::Gelu,      Activation::Swish};

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Linear: return "linear";
    case Activation::Relu: return "relu";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
    case Activation::Softmax: return "softmax";
    case Activation::LeakyRelu: return "leaky_relu";
    case Activation::Elu: return "elu";
    case Activation::Gelu: return "gelu";
    case Activation::Swish: return "swish";
  }
  return "?";
}

}  // namespace

TEST_CASE("CUDA activations forward and backward match the CPU", "[cuda][backend]") {
  const float alpha = 0.3f;
  for (Shape2 s : kShapes)
    for (Activation act : kActivations)
      for (bool specials : {false, true}) {
        const int64_t n = s.rows * s.cols;
        const std::string what = std::string(activation_name(act)) + " " + shape_name(s) +
                                 (specials ? " with NaN/Inf" : "");
        const auto x = values(n, 1, -4.0f, 4.0f, specials);
        const auto bias = values(s.cols, 2);
        check_parity("activation_forward " + what, [&](Run& r) {
          r.be.activation_forward(act, alpha, r.in(x), r.out(n), s.rows, s.cols);
        });
        // in place, as layers call it
        check_parity("activation_forward in place " + what, [&](Run& r) {
          float* y = r.out(x);
          r.be.activation_forward(act, alpha, y, y, s.rows, s.cols);
        });
        check_parity("bias_activation with bias and preact " + what, [&](Run& r) {
          r.be.bias_activation(r.out(x), r.in(bias), s.rows, s.cols, act, alpha, r.out(n));
        });
        check_parity("bias_activation without bias " + what, [&](Run& r) {
          r.be.bias_activation(r.out(x), nullptr, s.rows, s.cols, act, alpha, nullptr);
        });
        // backward from the CPU's forward values, so that both devices start from the same y
        std::vector<float> y(static_cast<size_t>(n));
        parity::cpu().activation_forward(act, alpha, x.data(), y.data(), s.rows, s.cols);
        const auto dy = values(n, 3, -1.0f, 1.0f, specials);
        check_parity("activation_backward " + what, [&](Run& r) {
          r.be.activation_backward(act, alpha, r.in(x), r.in(y), r.in(dy), r.out(n), s.rows,
                                   s.cols);
        });
        check_parity("activation_backward in place " + what, [&](Run& r) {
          float* d = r.out(dy);
          r.be.activation_backward(act, alpha, r.in(x), r.in(y), d, d, s.rows, s.cols);
        });
      }
}

TEST_CASE("CUDA vector and row kernels match the CPU", "[cuda][backend]") {
  for (Shape2 s : kShapes)
    for (bool specials : {false, true}) {
      const int64_t n = s.rows * s.cols;
      const std::string what = shape_name(s) + (specials ? " with NaN/Inf" : "");
      const auto x = values(n, 11, -3.0f, 3.0f, specials);
      const auto other = values(n, 12, -2.0f, 2.0f, specials);
      check_parity("fill " + what, [&](Run& r) { r.be.fill(r.out(n), n, 3.5f); });
      // column sums: the CPU's order (rows in turn per column), so the same bits
      check_parity("column_sum " + what, [&](Run& r) {
        r.be.column_sum(r.in(x), s.rows, s.cols, r.out(s.cols));
      }, 0.0);
      check_parity("scale " + what, [&](Run& r) { r.be.scale(r.out(x), n, -0.37f); }, 0.0);
      check_parity("add " + what, [&](Run& r) { r.be.add(r.out(x), r.in(other), n); }, 0.0);
      check_parity("multiply " + what, [&](Run& r) { r.be.multiply(r.out(x), r.in(other), n); },
                   0.0);
      check_parity("clip " + what, [&](Run& r) { r.be.clip(r.out(x), n, -1.25f, 0.5f); }, 0.0);
      check_parity("scale_shift " + what, [&](Run& r) {
        r.be.scale_shift(r.in(x), r.out(n), n, 1.0f / 255.0f, -0.5f);
      }, 0.0);
      // a sub-block between matrices of other widths (Concatenate and its split)
      const int64_t cols = s.cols > 1 ? s.cols - 1 : 1;
      check_parity("copy_2d " + what, [&](Run& r) {
        r.be.copy_2d(r.out(s.rows * (s.cols + 5)) + 2, s.cols + 5, r.in(x), s.cols, s.rows, cols);
      }, 0.0);
      // Normalization: a negative variance gives NaN, a tiny one the 1e-7 floor
      auto variance = values(s.cols, 13, 0.0f, 4.0f);
      variance[0] = s.cols > 2 ? -1.0f : variance[0];
      if (s.cols > 3) variance[2] = 1e-20f;
      const auto mean = values(s.cols, 14);
      for (bool invert : {false, true}) {
        check_parity("normalize " + what + (invert ? " invert" : ""), [&](Run& r) {
          r.be.normalize(r.in(x), r.out(n), s.rows, s.cols, r.in(mean), r.in(variance), invert);
        }, 0.0);
        check_parity("normalize without mean " + what + (invert ? " invert" : ""), [&](Run& r) {
          r.be.normalize(r.in(x), r.out(n), s.rows, s.cols, nullptr, r.in(variance), invert);
        }, 0.0);
      }
    }
}

TEST_CASE("CUDA dropout draws the CPU's Philox mask from the step-state stream",
          "[cuda][backend]") {
  for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{4}, int64_t{4191}, int64_t{4096 * 1000}}) {
    const auto x = values(n, 21, -3.0f, 3.0f, true);
    for (float rate : {0.0f, 0.3f, 0.9f}) {
      const Result g = check_parity(
          "dropout n=" + std::to_string(n) + " rate=" + std::to_string(rate),
          [&](Run& r) {
            ff::StepState* st = r.state();
            r.be.dropout(r.in(x), r.out(n), n, rate, 1234567, st);
          },
          0.0);
      if (rate == 0.0f)  // nothing dropped
        CHECK(parity::compare(x, g.outputs[0], 0.0, 0.0) == "");
    }
  }
  // another stream gives another mask
  const int64_t n = 4096;
  const auto x = values(n, 22, 1.0f, 2.0f);
  Run a(parity::gpu()), b(parity::gpu());
  a.be.dropout(a.in(x), a.out(n), n, 0.5f, 99, a.state());
  ff::StepState* st = b.state();
  ff::StepState h{};
  b.be.device().copy_to_host(&h, st, sizeof h);
  h.rng_stream = 8;
  b.be.device().copy_from_host(st, &h, sizeof h);
  b.be.dropout(b.in(x), b.out(n), n, 0.5f, 99, st);
  CHECK(a.result().outputs[0] != b.result().outputs[0]);
}

TEST_CASE("CUDA round_to_precision rounds every kind of float32 to the CPU's bits",
          "[cuda][backend]") {
  // random bit patterns: normals, subnormals, infinities and NaNs with payloads
  const int64_t n = 1 << 20;
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = ff::Philox::block(31, 0, static_cast<uint64_t>(i) / 4)[i % 4];
    std::memcpy(&x[i], &bits, sizeof bits);
  }
  const float edges[] = {65504.0f, 65519.99f, 65520.0f, 6.1e-5f, 5.96e-8f, 2.98e-8f, 1e-45f,
                         -0.0f,    kInf,      -kInf,    kNaN,    3.3895314e38f, 3.4e38f};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; ++i) x[i] = edges[i];
  for (ff::DType dtype : {ff::DType::BFloat16, ff::DType::Float16}) {
    const Result g = check_parity("round_to_precision " + ff::dtype_name(dtype), [&](Run& r) {
      r.be.round_to_precision(r.out(n), r.in(x), n, dtype);
    }, 0.0);
    // bit for bit, NaN payloads included
    std::vector<float> want(static_cast<size_t>(n));
    parity::cpu().round_to_precision(want.data(), x.data(), n, dtype);
    CHECK(std::memcmp(want.data(), g.outputs[0].data(), sizeof(float) * n) == 0);
    check_parity("round_to_precision in place " + ff::dtype_name(dtype), [&](Run& r) {
      float* y = r.out(x);
      r.be.round_to_precision(y, y, n, dtype);
    }, 0.0);
  }
  Run r(parity::gpu());
  CHECK_THROWS_WITH(r.be.round_to_precision(r.out(4), r.in({1, 2, 3, 4}), 4, ff::DType::Int32),
                    Catch::Contains("not a 16-bit float type"));
}

TEST_CASE("CUDA category_encode matches the CPU and records the first bad value",
          "[cuda][backend]") {
  const int64_t rows = 300, last = 7, tokens = 11;
  const int64_t numel = rows * last;
  std::vector<float> x(static_cast<size_t>(numel));
  for (int64_t i = 0; i < numel; ++i)
    x[i] = std::floor(ff::Philox::uniform(41, 0, i) * tokens);
  for (ff::CategoryMode mode :
       {ff::CategoryMode::OneHot, ff::CategoryMode::MultiHot, ff::CategoryMode::Count}) {
    const int64_t out_rows = mode == ff::CategoryMode::OneHot ? numel : rows;
    const std::string what = "mode " + std::to_string(static_cast<int>(mode));
    check_parity("category_encode " + what, [&](Run& r) {
      r.be.category_encode(r.in(x), numel, last, tokens, mode, false, r.out(out_rows * tokens),
                           r.state(), 5);
    }, 0.0);
    // skipped negatives (a lookup's mask token)
    auto masked = x;
    for (int64_t i = 3; i < numel; i += 17) masked[i] = -1.0f;
    check_parity("category_encode skip_negative " + what, [&](Run& r) {
      r.be.category_encode(r.in(masked), numel, last, tokens, mode, true,
                           r.out(out_rows * tokens), r.state(), 5);
    }, 0.0);
    // bad values: the smallest flat index wins (a fraction, a negative, NaN, too large), the
    // output is then incomplete and not compared
    auto bad = x;
    bad[1500] = 2.5f;
    bad[1900] = kNaN;
    bad[700] = -1.0f;
    bad[701] = static_cast<float>(tokens);
    for (bool halted : {false, true}) {
      Run c(parity::cpu()), g(parity::gpu());
      for (Run* run : {&c, &g})
        run->be.category_encode(run->in(bad), numel, last, tokens, mode, false,
                                run->out(out_rows * tokens), run->state(halted), 5);
      const Result rc = c.result(), rg = g.result();
      INFO(what << (halted ? " already halted" : ""));
      check_state(rc.state, rg.state);
      CHECK(rg.state.halted == 1);
      if (!halted) {
        CHECK(rg.state.error == static_cast<int32_t>(ff::StepError::BadCategory));
        CHECK(rg.state.error_index == 700);
        CHECK(rg.state.error_value == -1.0);
        CHECK(rg.state.error_where == 5);
        CHECK(rg.state.error_batch == 3);
      } else {
        CHECK(rg.state.error == static_cast<int32_t>(ff::StepError::NonFinite));  // kept
      }
    }
  }
}

TEST_CASE("CUDA losses match the CPU in gradients and the sums added into the block", "[cuda][backend]") {
  for (Shape2 s : kShapes)
    for (bool specials : {false, true}) {
      const int64_t n = s.rows * s.cols;
      const std::string what = shape_name(s) + (specials ? " with NaN/Inf" : "");
      const auto pred = values(n, 51, -3.0f, 3.0f, specials);
      const auto target = values(n, 52, -3.0f, 3.0f);
      const float gs = 0.75f;  // grad_scale
      auto run_both_ways = [&](const std::string& name, const std::function<void(Run&, float*)>& f) {
        check_parity(name + " " + what, [&](Run& r) { f(r, r.out(n)); });
        check_parity(name + " without gradient " + what, [&](Run& r) { f(r, nullptr); });
      };
      run_both_ways("loss_mse", [&](Run& r, float* grad) {
        r.state();
        r.be.loss_mse(r.in(pred), r.in(target), s.rows, s.cols, r.sum_slot(0), grad, gs);
      });
      run_both_ways("loss_mae", [&](Run& r, float* grad) {
        r.state();
        r.be.loss_mae(r.in(pred), r.in(target), s.rows, s.cols, r.sum_slot(1), grad, gs);
      });
      run_both_ways("loss_huber", [&](Run& r, float* grad) {
        r.state();
        r.be.loss_huber(r.in(pred), r.in(target), s.rows, s.cols, 1.0f, r.sum_slot(0), grad, gs);
      });
      // binary crossentropy: logits anywhere, probabilities in [0, 1] (0 and 1 themselves clip)
      auto probs = values(n, 53, 0.0f, 1.0f, specials);
      for (int64_t i = 5; i < n; i += 71) probs[i] = (i / 71) % 2 ? 1.0f : 0.0f;
      const auto bin_target = values(n, 54, 0.0f, 1.0f);
      for (bool logits : {true, false})
        run_both_ways(std::string("loss_binary_crossentropy") + (logits ? " logits" : ""),
                      [&](Run& r, float* grad) {
                        r.state();
                        r.be.loss_binary_crossentropy(r.in(logits ? pred : probs),
                                                      r.in(bin_target), s.rows, s.cols, logits,
                                                      r.sum_slot(0), grad, gs);
                      });
      // categorical: soft and one-hot targets; probabilities from rows that sum to one
      auto row_probs = probability_rows(s.rows, s.cols, 55, false);
      if (specials) row_probs[0] = kNaN;
      for (bool one_hot : {false, true}) {
        const auto cat_target = probability_rows(s.rows, s.cols, 56, one_hot);
        for (bool logits : {true, false})
          run_both_ways(std::string("loss_categorical_crossentropy") + (logits ? " logits" : "") +
                            (one_hot ? " one-hot" : ""),
                        [&](Run& r, float* grad) {
                          r.state();
                          r.be.loss_categorical_crossentropy(
                              r.in(logits ? pred : row_probs), r.in(cat_target), s.rows, s.cols,
                              logits, r.sum_slot(1), grad, gs);
                        });
      }
      const auto labels = label_values(s.rows, s.cols, 57);
      for (bool logits : {true, false})
        run_both_ways(std::string("loss_sparse_categorical_crossentropy") +
                          (logits ? " logits" : ""),
                      [&](Run& r, float* grad) {
                        ff::StepState* st = r.state();
                        r.be.loss_sparse_categorical_crossentropy(
                            r.in(logits ? pred : row_probs), r.labels(labels), s.rows, s.cols,
                            logits, r.sum_slot(0), grad, gs, st, 2);
                      });
    }
}

TEST_CASE("CUDA sparse crossentropy records the first bad label and adds nothing",
          "[cuda][backend]") {
  const int64_t rows = 4096, cols = 10;
  const auto pred = values(rows * cols, 61);
  auto labels = label_values(rows, cols, 62);
  labels[3000] = cols;
  labels[1234] = -1;
  labels[4000] = 99;
  for (bool halted : {false, true})
    for (bool logits : {true, false}) {
      const Result g = check_parity(
          std::string("bad labels") + (logits ? " logits" : "") + (halted ? " halted" : ""),
          [&](Run& r) {
            ff::StepState* st = r.state(halted);
            r.be.loss_sparse_categorical_crossentropy(r.in(pred), r.labels(labels), rows, cols,
                                                      logits, r.sum_slot(0), nullptr, 1.0f, st,
                                                      4);
          });
      CHECK(g.state.halted == 1);
      CHECK(g.sums[kNumSums + 0] == 0.5);  // the partial sum is untouched
      if (!halted) {
        CHECK(g.state.error == static_cast<int32_t>(ff::StepError::BadLabel));
        CHECK(g.state.error_index == 1234);
        CHECK(g.state.error_value == -1.0);
        CHECK(g.state.error_where == 4);
        CHECK(g.state.error_batch == 3);
      }
    }
}

TEST_CASE("CUDA metrics match the CPU with argmax ties and NaN", "[cuda][backend]") {
  for (Shape2 s : kShapes)
    for (bool specials : {false, true}) {
      const int64_t n = s.rows * s.cols;
      const std::string what = shape_name(s) + (specials ? " with NaN/Inf" : "");
      // values on a coarse grid: many ties for argmax
      auto pred = values(n, 71, 0.0f, 1.0f, specials);
      for (float& v : pred)
        if (std::isfinite(v)) v = std::round(v * 4.0f) / 4.0f;
      const auto target = probability_rows(s.rows, s.cols, 72, true);
      const auto soft = values(n, 73, 0.0f, 1.0f);
      const auto labels = label_values(s.rows, s.cols, 74);
      const auto binary_target = values(n, 75, 0.0f, 1.0f);
      auto bin = binary_target;
      for (float& v : bin) v = v > 0.5f ? 1.0f : 0.0f;
      for (float threshold : {0.5f, 0.0f})
        check_parity("metric_binary_accuracy " + what, [&](Run& r) {
          r.state();
          r.be.metric_binary_accuracy(r.in(pred), r.in(bin), s.rows, s.cols, threshold,
                                      r.sum_slot(0));
        });
      for (const auto* t : {&target, &soft})
        check_parity("metric_categorical_accuracy " + what, [&](Run& r) {
          r.state();
          r.be.metric_categorical_accuracy(r.in(pred), r.in(*t), s.rows, s.cols, r.sum_slot(1));
        });
      check_parity("metric_sparse_categorical_accuracy " + what, [&](Run& r) {
        r.state();
        r.be.metric_sparse_categorical_accuracy(r.in(pred), r.labels(labels), s.rows, s.cols,
                                                r.sum_slot(0));
      });
      for (int power : {1, 2})
        check_parity("metric_mean_error power " + std::to_string(power) + " " + what, [&](Run& r) {
          r.state();
          r.be.metric_mean_error(r.in(pred), r.in(soft), s.rows, s.cols, power, r.sum_slot(1));
        });
    }
}

TEST_CASE("CUDA kernels propagate NaN through relu clip softmax and argmax", "[cuda][backend]") {
  ff::Backend& gpu = parity::gpu();
  const std::vector<float> x = {kNaN, -1.0f, 2.0f, kNaN, 0.0f, -kInf};
  Run r(gpu);
  float* relu = r.out(x);
  gpu.activation_forward(Activation::Relu, 0.0f, relu, relu, 1, 6);
  float* bias_relu = r.out(x);
  gpu.bias_activation(bias_relu, r.in({0, 0, 0, 0, 0, 0}), 1, 6, Activation::Relu, 0.0f, nullptr);
  float* clipped = r.out(x);
  gpu.clip(clipped, 6, -0.5f, 0.5f);
  float* softmax = r.out(6);
  gpu.activation_forward(Activation::Softmax, 0.0f, r.in({1, kNaN, 3, 1, 2, 3}), softmax, 2, 3);
  ff::StepState* st = r.state();
  // row 0's largest is NaN at index 1 (target argmax 1: a hit); row 1's first NaN is at 0
  gpu.metric_sparse_categorical_accuracy(r.in({0, kNaN, 5, kNaN, 9, kNaN}), r.labels({1, 0}), 2, 3,
                                         r.sum_slot(0));
  (void)st;
  const Result res = r.result();
  CHECK(std::isnan(res.outputs[0][0]));
  CHECK(std::isnan(res.outputs[0][3]));
  CHECK(res.outputs[0][1] == 0.0f);
  CHECK(res.outputs[0][2] == 2.0f);
  CHECK(std::isnan(res.outputs[1][0]));
  CHECK(std::isnan(res.outputs[1][3]));
  CHECK(std::isnan(res.outputs[2][0]));
  CHECK(std::isnan(res.outputs[2][3]));
  CHECK(res.outputs[2][1] == -0.5f);
  CHECK(res.outputs[2][2] == 0.5f);
  CHECK(res.outputs[2][5] == -0.5f);
  for (int i = 0; i < 3; ++i) CHECK(std::isnan(res.outputs[3][i]));
  CHECK(res.outputs[3][3] + res.outputs[3][4] + res.outputs[3][5] == Approx(1.0f));
  CHECK(res.sums[kNumSums + 0] == 0.5 + 2.0);
}
