// CUDA versus CPU for the step-state, clipping, finiteness and optimizer kernels
// (backend/cuda/cuda_state.cu, cuda_optimizers.cu): every kernel on the same random inputs
// (with NaN and Inf, one element, 1000 and 3,000,001) agrees within 1e-5 relative, the state
// block agrees field by field after sequences of simulated steps (loss scaling, a skipped step,
// every schedule kind, a halted loop), ten Adam steps through the optimizer agree, and two CUDA
// runs give the same bits. Tagged [cuda]: they need a GPU (scripts/gpu-check.sh runs them).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backend/parity_util.h"
#include "backend/step_state.h"
#include "optimizers/optimizer.h"
#include "optimizers/schedules/learning_rate_schedule.h"
#include "test_util.h"

namespace {

namespace parity = fftest::parity;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int32_t kSums = 3;

// A step-state block with kSums sums on `be`'s device.
class Block {
 public:
  Block(ff::Backend& be, const ff::StepState& h, const std::vector<double>& sums)
      : device_(&be.device()),
        t_(ff::Tensor::zeros(be.device(), {static_cast<int64_t>(ff::step_state_bytes(kSums))},
                             ff::DType::UInt8)) {
    ff::StepState w = h;
    w.num_sums = kSums;
    device_->copy_from_host(get(), &w, sizeof w);
    set_sums(sums);
  }
  ff::StepState* get() const { return static_cast<ff::StepState*>(t_.raw()); }
  ff::StepState header() const {
    ff::StepState h;
    device_->copy_to_host(&h, get(), sizeof h);
    return h;
  }
  // The loop's sums then the step's partial sums (2 * kSums).
  std::vector<double> sums() const {
    std::vector<double> s(2 * kSums);
    device_->copy_to_host(s.data(), ff::loop_sums(get()), sizeof(double) * s.size());
    return s;
  }
  void set_sums(const std::vector<double>& s) {
    REQUIRE(s.size() == 2 * kSums);
    device_->copy_from_host(ff::loop_sums(get()), s.data(), sizeof(double) * s.size());
  }
  void set_step_sums(const std::vector<double>& s) {
    REQUIRE(s.size() == kSums);
    device_->copy_from_host(ff::step_sums(get(), kSums), s.data(), sizeof(double) * s.size());
  }
  std::vector<unsigned char> bytes() const {
    std::vector<unsigned char> b(static_cast<size_t>(t_.nbytes()));
    device_->copy_to_host(b.data(), t_.raw(), b.size());
    return b;
  }

 private:
  ff::Device* device_;
  ff::Tensor t_;
};

bool close(double a, double b, double rel) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-300;
}

// The fields that differ between two blocks: counters, flags and errors exactly, the loss scale
// exactly (powers of two), computed rates within `rel` (pow and cos may differ by a few ulp).
std::string compare_state(const ff::StepState& c, const ff::StepState& g, double rel = 1e-6) {
  std::ostringstream out;
#define FF_EXACT(field) \
  if (!(c.field == g.field))  \
    out << #field << ": cpu " << c.field << ", cuda " << g.field << "; ";
#define FF_CLOSE(field)                  \
  if (!close(c.field, g.field, rel)) \
    out << #field << ": cpu " << c.field << ", cuda " << g.field << "; ";
  FF_EXACT(step) FF_EXACT(rng_stream) FF_EXACT(iterations) FF_EXACT(loop_batch)
  FF_EXACT(samples) FF_EXACT(base_learning_rate) FF_CLOSE(learning_rate)
  FF_CLOSE(bias_correction1) FF_CLOSE(bias_correction2) FF_CLOSE(norm_squares)
  FF_EXACT(loss_scale) FF_EXACT(loss_scaling) FF_EXACT(loss_scale_counter)
  FF_EXACT(skipped_steps) FF_EXACT(grads_finite) FF_EXACT(apply_update) FF_EXACT(halted)
  FF_EXACT(error) FF_EXACT(error_where) FF_EXACT(error_pass) FF_EXACT(error_batch)
  FF_EXACT(error_index) FF_EXACT(error_value) FF_EXACT(num_sums)
#undef FF_EXACT
#undef FF_CLOSE
  return out.str();
}

std::string compare_sums(const std::vector<double>& c, const std::vector<double>& g) {
  for (size_t i = 0; i < c.size(); ++i)
    if (!close(c[i], g[i], 1e-12))
      return "sum " + std::to_string(i) + ": cpu " + std::to_string(c[i]) + ", cuda " +
             std::to_string(g[i]);
  return "";
}

// The state a kernel row starts from: an update applies, loss scaling at 4, a rate, Adam's
// bias corrections for t = 3, a norm already summed.
ff::StepState start_state() {
  ff::StepState h{};
  h.step = 5;
  h.rng_stream = 5;
  h.iterations = 2;
  h.loop_batch = 4;
  h.base_learning_rate = 0.01f;
  h.learning_rate = 0.01f;
  h.bias_correction1 = 1.0 - std::pow(0.9, 3.0);
  h.bias_correction2 = 1.0 - std::pow(0.999, 3.0);
  h.norm_squares = 2.5;
  h.loss_scale = 4.0f;
  h.loss_scaling = 1;
  h.grads_finite = 1;
  h.apply_update = 1;
  return h;
}

// Host inputs of the kernel rows: x (parameters / values), g (gradients, carrying the NaN and
// Inf of the variant), m (signed slot), v, w (non-negative slots).
struct Inputs {
  std::vector<float> x, g, m, v, w;
};

Inputs make_inputs(int64_t n, int special) {
  Inputs in;
  in.x = fftest::signed_values(n, 21, 0.1f, 2.0f);
  in.g = fftest::signed_values(n, 22, 0.001f, 3.0f);
  in.m = fftest::signed_values(n, 23, 0.0f, 0.5f);
  in.v = fftest::uniform_values(n, 24, 0.0f, 0.5f);
  in.w = fftest::uniform_values(n, 25, 0.0f, 0.5f);
  const size_t last = static_cast<size_t>(n) - 1;
  switch (special) {
    case 1: in.g[last / 2] = kNaN; break;                    // a NaN in the middle
    case 2: in.g[last] = kInf; break;                        // an Inf in the grid's last block
    case 3: in.g[0] = -kInf; in.g[last] = kNaN; break;       // both
    default: break;
  }
  return in;
}

const char* special_name(int special) {
  static const char* names[] = {"finite", "NaN", "+Inf at the end", "-Inf and NaN"};
  return names[special];
}

// The inputs on one backend, with a state block.
struct World {
  World(ff::Backend& backend, const Inputs& in, const ff::StepState& h)
      : be(backend),
        n(static_cast<int64_t>(in.x.size())),
        x(parity::put(be, {n}, in.x)),
        g(parity::put(be, {n}, in.g)),
        m(parity::put(be, {n}, in.m)),
        v(parity::put(be, {n}, in.v)),
        w(parity::put(be, {n}, in.w)),
        block(be, h, {1.0, 2.0, 3.0, 0.5, 0.25, 0.125}) {}
  ff::Backend& be;
  int64_t n;
  ff::Tensor x, g, m, v, w;
  Block block;
  ff::StepState* s() { return block.get(); }
  float* X() { return x.data<float>(); }
  float* G() { return g.data<float>(); }
  float* M() { return m.data<float>(); }
  float* V() { return v.data<float>(); }
  float* W() { return w.data<float>(); }
};

struct Row {
  const char* name;
  std::function<void(World&)> setup;  // changes the state before the kernel (may be empty)
  std::function<void(World&)> run;
};

void set_field(World& w, const std::function<void(ff::StepState&)>& change) {
  ff::StepState h = w.block.header();
  change(h);
  w.be.device().copy_from_host(w.s(), &h, sizeof h);
}

std::vector<Row> kernel_rows() {
  using W = World;
  return {
      {"clip_by_norm (clips)", {}, [](W& w) { w.be.clip_by_norm(w.G(), w.n, 0.5f); }},
      {"clip_by_norm (within the norm)", {},
       [](W& w) { w.be.clip_by_norm(w.G(), w.n, 1e30f); }},
      {"add_sum_squares + clip_by_global_norm", {},
       [](W& w) {
         w.be.add_sum_squares(w.G(), w.n, w.s());
         w.be.add_sum_squares(w.X(), w.n, w.s());
         w.be.clip_by_global_norm(w.G(), w.n, 1.0f, w.s());
         w.be.clip_by_global_norm(w.X(), w.n, 1.0f, w.s());
       }},
      {"check_finite", {}, [](W& w) { w.be.check_finite(w.G(), w.n, w.s()); }},
      {"check_finite + apply_loss_scale (unscale)", {},
       [](W& w) {
         w.be.check_finite(w.G(), w.n, w.s());
         w.be.apply_loss_scale(w.G(), w.n, w.s(), true);
       }},
      {"apply_loss_scale (scale)", {},
       [](W& w) { w.be.apply_loss_scale(w.G(), w.n, w.s(), false); }},
      {"check_numerics forward", {},
       [](W& w) { w.be.check_numerics(w.G(), w.n, w.s(), 3, ff::StepPass::Forward); }},
      {"check_numerics backward under a loss scale (exempt)", {},
       [](W& w) { w.be.check_numerics(w.G(), w.n, w.s(), 4, ff::StepPass::Backward); }},
      {"check_numerics backward without loss scaling",
       [](W& w) { set_field(w, [](ff::StepState& h) { h.loss_scaling = 0; h.loss_scale = 1; }); },
       [](W& w) { w.be.check_numerics(w.G(), w.n, w.s(), 5, ff::StepPass::Backward); }},
      {"check_numerics in a halted loop",
       [](W& w) {
         set_field(w, [](ff::StepState& h) {
           h.halted = 1;
           h.error = 1;
           h.error_where = 9;
         });
       },
       [](W& w) { w.be.check_numerics(w.G(), w.n, w.s(), 6, ff::StepPass::Forward); }},
      {"check_numerics twice: the first node wins", {},
       [](W& w) {
         w.be.check_numerics(w.G(), w.n, w.s(), 7, ff::StepPass::Forward);
         w.be.check_numerics(w.X(), w.n, w.s(), 8, ff::StepPass::Forward);
         w.be.check_numerics(w.G(), w.n, w.s(), 9, ff::StepPass::Forward);
       }},
      {"sgd", {},
       [](W& w) { w.be.sgd_update(w.X(), w.G(), nullptr, w.n, 0.0f, false, w.s()); }},
      {"sgd momentum", {},
       [](W& w) { w.be.sgd_update(w.X(), w.G(), w.M(), w.n, 0.9f, false, w.s()); }},
      {"sgd nesterov", {},
       [](W& w) { w.be.sgd_update(w.X(), w.G(), w.M(), w.n, 0.9f, true, w.s()); }},
      {"adam", {},
       [](W& w) {
         w.be.adam_update(w.X(), w.G(), w.M(), w.V(), nullptr, w.n, 0.9f, 0.999f, 1e-7f, w.s());
       }},
      {"adam amsgrad", {},
       [](W& w) {
         w.be.adam_update(w.X(), w.G(), w.M(), w.V(), w.W(), w.n, 0.9f, 0.999f, 1e-7f, w.s());
       }},
      {"adam, update not applied",
       [](W& w) { set_field(w, [](ff::StepState& h) { h.apply_update = 0; }); },
       [](W& w) {
         w.be.adam_update(w.X(), w.G(), w.M(), w.V(), w.W(), w.n, 0.9f, 0.999f, 1e-7f, w.s());
       }},
      {"rmsprop", {},
       [](W& w) {
         w.be.rmsprop_update(w.X(), w.G(), w.V(), nullptr, nullptr, w.n, 0.9f, 0.0f, 1e-7f, w.s());
       }},
      {"rmsprop centered", {},
       [](W& w) {
         w.be.rmsprop_update(w.X(), w.G(), w.V(), w.M(), nullptr, w.n, 0.9f, 0.0f, 1e-7f, w.s());
       }},
      {"rmsprop momentum", {},
       [](W& w) {
         w.be.rmsprop_update(w.X(), w.G(), w.V(), nullptr, w.W(), w.n, 0.9f, 0.5f, 1e-7f, w.s());
       }},
      {"rmsprop centered momentum", {},
       [](W& w) {
         w.be.rmsprop_update(w.X(), w.G(), w.V(), w.M(), w.W(), w.n, 0.9f, 0.5f, 1e-7f, w.s());
       }},
      {"adagrad", {}, [](W& w) { w.be.adagrad_update(w.X(), w.G(), w.V(), w.n, 1e-7f, w.s()); }},
      {"decay_weights", {}, [](W& w) { w.be.decay_weights(w.X(), w.n, 0.01f, w.s()); }},
      {"penalty: sum and gradient (add_loss and L1/L2 terms)", {},
       [](W& w) {
         ff::PenaltySpec p;
         p.linear = 0.5f;
         p.l1 = 0.01f;
         p.l2 = 0.02f;
         w.be.penalty(w.X(), w.n, p, ff::step_sums(w.s(), kSums) + 2, 3.0, w.M(), false, w.s());
       }},
      {"penalty: accumulated gradient over the values with NaN and Inf", {},
       [](W& w) {
         ff::PenaltySpec p;
         p.l2 = 0.5f;
         w.be.penalty(w.G(), w.n, p, ff::step_sums(w.s(), kSums) + 1, 1.0, w.W(), true, w.s());
       }},
      {"penalty: L1 gradient only (no sum)", {},
       [](W& w) {
         ff::PenaltySpec p;
         p.l1 = 0.25f;
         w.be.penalty(w.X(), w.n, p, nullptr, 1.0, w.V(), true, w.s());
       }},
      {"decay_weights, update not applied",
       [](W& w) { set_field(w, [](ff::StepState& h) { h.apply_update = 0; }); },
       [](W& w) { w.be.decay_weights(w.X(), w.n, 0.01f, w.s()); }},
  };
}

// Every array and the block of two worlds agree; "" or what differs.
std::string compare_worlds(World& c, World& g) {
  const char* names[] = {"x", "g", "m", "v", "w"};
  const ff::Tensor* tc[] = {&c.x, &c.g, &c.m, &c.v, &c.w};
  const ff::Tensor* tg[] = {&g.x, &g.g, &g.m, &g.v, &g.w};
  for (int i = 0; i < 5; ++i) {
    const std::string d = parity::compare(parity::get(*tc[i]), parity::get(*tg[i]));
    if (!d.empty()) return std::string(names[i]) + ": " + d;
  }
  std::string d = compare_state(c.block.header(), g.block.header(), 1e-9);
  if (!d.empty()) return "state: " + d;
  return compare_sums(c.block.sums(), g.block.sums());
}

// The schedules of the state sequences, as the optimizer builds them (host memory).
std::vector<std::pair<const char*, std::shared_ptr<ff::LearningRateSchedule>>> schedules() {
  return {
      {"none", nullptr},
      {"exponential", ff::make_exponential_decay(0.1, 3.0, 0.5, false)},
      {"exponential staircase", ff::make_exponential_decay(0.1, 2.0, 0.7, true)},
      {"inverse time", ff::make_inverse_time_decay(0.1, 2.0, 0.5, false)},
      {"cosine", ff::make_cosine_decay(0.1, 5.0, 0.1, false, 0.0, 0.0)},
      {"cosine with warmup", ff::make_cosine_decay(0.01, 4.0, 0.0, true, 0.1, 3.0)},
      {"piecewise", ff::make_piecewise_constant_decay({1.0, 3.0}, {0.1, 0.05, 0.01})},
  };
}

// A schedule's spec with its piecewise arrays in `be`'s memory (kept alive by `keep`).
ff::ScheduleSpec spec_on(ff::Backend& be, const std::shared_ptr<ff::LearningRateSchedule>& s,
                         std::vector<ff::Tensor>& keep) {
  if (!s) return ff::ScheduleSpec();
  ff::ScheduleSpec spec = s->spec();
  if (spec.kind == ff::ScheduleKind::Piecewise) {
    const int64_t pieces = spec.pieces;
    keep.push_back(
        parity::put(be, {pieces}, std::vector<float>(spec.values, spec.values + pieces)));
    spec.values = keep.back().data<float>();
    keep.push_back(parity::put(be, {pieces - 1},
                               std::vector<double>(spec.boundaries, spec.boundaries + pieces - 1),
                               ff::DType::Float64));
    spec.boundaries = keep.back().data<double>();
  }
  return spec;
}

// Six simulated training steps on `w`: loss-scaled gradients (step 2's hold an Inf: a skipped
// step), global clipping, weight decay, Adam; with `halt_at` >= 0, check-numerics finds a NaN in
// that step's forward pass and the rest of the loop changes nothing.
void simulate_steps(World& w, const ff::ScheduleSpec& spec, int halt_at) {
  ff::Backend& be = w.be;
  const int64_t n = w.n;
  for (int step = 0; step < 6; ++step) {
    be.step_begin(w.s(), true);
    w.block.set_step_sums({0.5 * step, 1.0 + step, 0.25});
    std::vector<float> grads = fftest::signed_values(n, 100 + static_cast<uint64_t>(step), 0.01f,
                                                     4.0f);
    for (float& x : grads) x *= 4.0f;  // carries the loss scale
    if (step == 2) grads[static_cast<size_t>(n) - 1] = kInf;
    be.device().copy_from_host(w.G(), grads.data(), sizeof(float) * grads.size());
    std::vector<float> act =
        fftest::signed_values(n, 200 + static_cast<uint64_t>(step), 0.1f, 1.0f);
    if (step == halt_at) act[0] = kNaN;
    be.device().copy_from_host(w.W(), act.data(), sizeof(float) * act.size());
    be.check_numerics(w.W(), n, w.s(), 2, ff::StepPass::Forward);
    be.check_numerics_sums(w.s(), 0, kSums, 0);
    be.check_numerics(w.G(), n, w.s(), 2, ff::StepPass::Backward);  // exempt: scaled gradient
    be.check_finite(w.G(), n, w.s());
    be.apply_loss_scale(w.G(), n, w.s(), true);
    be.loss_scale_update(w.s(), 2);
    be.prepare_update(w.s(), spec, 0.9f, 0.999f);
    be.add_sum_squares(w.G(), n, w.s());
    be.clip_by_global_norm(w.G(), n, 5.0f, w.s());
    be.decay_weights(w.X(), n, 0.004f, w.s());
    be.adam_update(w.X(), w.G(), w.M(), w.V(), nullptr, n, 0.9f, 0.999f, 1e-7f, w.s());
    be.finish_update(w.s());
    be.step_end(w.s(), true, 32.0);
  }
}

ff::StepState sequence_start() {
  ff::StepState h{};
  h.base_learning_rate = 0.05f;
  h.loss_scale = 4.0f;
  h.loss_scaling = 1;
  h.grads_finite = 1;
  return h;
}

std::vector<float> bits_of(const ff::Tensor& t) { return parity::get(t); }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

}  // namespace

TEST_CASE("CUDA state, clipping and optimizer kernels agree with the CPU", "[cuda]") {
  ff::Backend& gpu = parity::gpu();
  ff::Backend& cpu = parity::cpu();
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{3000001}}) {
    for (int special = 0; special < 4; ++special) {
      const Inputs in = make_inputs(n, special);
      for (const Row& row : kernel_rows()) {
        World c(cpu, in, start_state()), g(gpu, in, start_state());
        if (row.setup) {
          row.setup(c);
          row.setup(g);
        }
        row.run(c);
        row.run(g);
        INFO(row.name << ", n = " << n << ", " << special_name(special));
        CHECK(compare_worlds(c, g) == "");
      }
    }
  }
}

TEST_CASE("CUDA check_numerics_sums agrees with the CPU", "[cuda]") {
  ff::Backend& gpu = parity::gpu();
  ff::Backend& cpu = parity::cpu();
  const Inputs in = make_inputs(4, 0);
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  for (const auto& partial : std::vector<std::vector<double>>{
           {1.0, 2.0, 3.0}, {1.0, nan, 3.0}, {inf, 2.0, 3.0}, {1.0, 2.0, -inf}}) {
    for (int32_t first : {0, 1}) {
      World c(cpu, in, start_state()), g(gpu, in, start_state());
      c.block.set_step_sums(partial);
      g.block.set_step_sums(partial);
      cpu.check_numerics_sums(c.s(), first, kSums - first, 1);
      gpu.check_numerics_sums(g.s(), first, kSums - first, 1);
      INFO("partial sums " << partial[0] << " " << partial[1] << " " << partial[2] << " from "
                           << first);
      CHECK(compare_state(c.block.header(), g.block.header()) == "");
    }
  }
}

TEST_CASE("CUDA state sequences advance the block as the CPU does", "[cuda]") {
  ff::Backend& gpu = parity::gpu();
  ff::Backend& cpu = parity::cpu();
  const int64_t n = GENERATE(int64_t{1}, int64_t{1000}, int64_t{3000001});
  const Inputs in = make_inputs(n, 0);
  for (const auto& [name, schedule] : schedules()) {
    for (int halt_at : {-1, 3}) {
      std::vector<ff::Tensor> keep;
      World c(cpu, in, sequence_start()), g(gpu, in, sequence_start());
      simulate_steps(c, spec_on(cpu, schedule, keep), halt_at);
      simulate_steps(g, spec_on(gpu, schedule, keep), halt_at);
      INFO("schedule " << name << ", n = " << n << ", halted at step " << halt_at);
      const ff::StepState hc = c.block.header(), hg = g.block.header();
      CHECK(compare_state(hc, hg) == "");
      CHECK(compare_sums(c.block.sums(), g.block.sums()) == "");
      CHECK(parity::compare(parity::get(c.x), parity::get(g.x)) == "");
      CHECK(parity::compare(parity::get(c.m), parity::get(g.m)) == "");
      CHECK(parity::compare(parity::get(c.v), parity::get(g.v)) == "");
      // The sequence did what it meant to: one skipped step, and the halt where asked.
      CHECK(hg.skipped_steps == 1);
      CHECK(hg.halted == (halt_at >= 0 ? 1 : 0));
      CHECK(hg.step == (halt_at >= 0 ? halt_at : 6));
      CHECK(hg.iterations == (halt_at >= 0 ? halt_at - 1 : 5));
    }
  }
}

TEST_CASE("ten Adam steps through the optimizer agree on CUDA and the CPU", "[cuda]") {
  ff::Backend& gpu = parity::gpu();
  ff::Backend& cpu = parity::cpu();
  const int64_t n = 100003;
  const std::vector<ff::Segment> segments = {{0, 60000}, {60000, n - 60000}};
  const std::vector<float> p0 = fftest::signed_values(n, 31, 0.1f, 1.0f);
  for (int variant = 0; variant < 3; ++variant) {
    ff::OptimizerOptions o;
    o.learning_rate = 0.01f;
    if (variant == 1) {
      o.clipnorm = 2.0f;
      o.weight_decay = 0.004f;
    }
    if (variant == 2) o.global_clipnorm = 1.0f;
    ff::AdamOptions a;
    a.amsgrad = variant == 2;
    auto oc = ff::make_adam(o, a), og = ff::make_adam(o, a);
    if (variant == 1) {
      oc->set_schedule(ff::make_cosine_decay(0.01, 8.0, 0.1, true, 0.02, 2.0));
      og->set_schedule(ff::make_cosine_decay(0.01, 8.0, 0.1, true, 0.02, 2.0));
    }
    ff::Tensor pc = parity::put(cpu, {n}, p0), pg = parity::put(gpu, {n}, p0);
    ff::Tensor gc = ff::Tensor::zeros(cpu.device(), {n}), gg = ff::Tensor::zeros(gpu.device(), {n});
    oc->build(cpu, n);
    og->build(gpu, n);
    for (int step = 0; step < 10; ++step) {
      const std::vector<float> grads =
          fftest::signed_values(n, 40 + static_cast<uint64_t>(step), 0.001f, 2.0f);
      cpu.device().copy_from_host(gc.raw(), grads.data(), sizeof(float) * grads.size());
      gpu.device().copy_from_host(gg.raw(), grads.data(), sizeof(float) * grads.size());
      oc->apply(cpu, pc, gc, segments);
      og->apply(gpu, pg, gg, segments);
    }
    INFO("variant " << variant);
    CHECK(og->iterations() == 10);
    CHECK(oc->iterations() == og->iterations());
    CHECK(parity::compare(parity::get(pc), parity::get(pg)) == "");
    for (size_t i = 0; i < oc->slots().size(); ++i) {
      INFO("slot " << oc->slot_names()[i]);
      CHECK(parity::compare(parity::get(oc->slots()[i]), parity::get(og->slots()[i])) == "");
    }
  }
}

TEST_CASE("two CUDA runs of the state and optimizer kernels give the same bits", "[cuda]") {
  ff::Backend& gpu = parity::gpu();
  const int64_t n = 3000001;
  const Inputs in = make_inputs(n, 0);
  const auto schedule = ff::make_cosine_decay(0.01, 4.0, 0.0, true, 0.1, 3.0);
  std::vector<std::vector<float>> runs[2];
  std::vector<unsigned char> blocks[2];
  for (int run = 0; run < 2; ++run) {
    std::vector<ff::Tensor> keep;
    World w(gpu, in, sequence_start());
    simulate_steps(w, spec_on(gpu, schedule, keep), -1);
    gpu.clip_by_norm(w.M(), n, 0.5f);  // a reduction over 3M values, then a scale
    gpu.add_sum_squares(w.V(), n, w.s());
    runs[run] = {bits_of(w.x), bits_of(w.g), bits_of(w.m), bits_of(w.v), bits_of(w.w)};
    blocks[run] = w.block.bytes();
  }
  for (size_t i = 0; i < runs[0].size(); ++i) {
    INFO("array " << i);
    CHECK(same_bits(runs[0][i], runs[1][i]));
  }
  CHECK(blocks[0] == blocks[1]);
}
