// The per-element rules shared by the CPU loops and the CUDA kernels (backend/optimizer_rules.h)
// and the error-recording pieces of backend/step_state.h that the CUDA kernels use: their
// values, their NaN behaviour, and that the CPU backend's kernels give exactly the bits of the
// rules applied one element at a time (so the GPU, which applies the same rules, can match it).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backend/optimizer_rules.h"
#include "backend/registry.h"
#include "backend/step_state.h"
#include "core/tensor.h"
#include "test_util.h"

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

ff::Backend& cpu() { return ff::backend_for(ff::DeviceType::CPU); }

// Equal bits, or both NaN (a NaN's payload may depend on operand order in vector code).
bool same(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

std::string first_difference(const std::vector<float>& want, const std::vector<float>& got) {
  if (want.size() != got.size()) return "sizes differ";
  for (size_t i = 0; i < want.size(); ++i)
    if (!same(want[i], got[i]))
      return "element " + std::to_string(i) + ": rule " + std::to_string(want[i]) +
             ", backend " + std::to_string(got[i]);
  return "";
}

// Random values with a NaN and infinities sprinkled in (when n allows).
std::vector<float> values(int64_t n, uint64_t seed, float lo, float hi, bool specials) {
  std::vector<float> v = fftest::signed_values(n, seed, lo, hi);
  if (specials && n > 40) {
    v[3] = kNaN;
    v[17] = kInf;
    v[static_cast<size_t>(n) - 2] = -kInf;
  }
  return v;
}

std::vector<float> positive(int64_t n, uint64_t seed) {
  return fftest::uniform_values(n, seed, 0.0f, 0.5f);
}

ff::Tensor on_cpu(const std::vector<float>& v) {
  ff::Tensor t = ff::Tensor::empty(cpu().device(), {static_cast<int64_t>(v.size())});
  cpu().device().copy_from_host(t.raw(), v.data(), t.nbytes());
  return t;
}

std::vector<float> read(const ff::Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  t.device().copy_to_host(out.data(), t.raw(), t.nbytes());
  return out;
}

// A host StepState whose update applies, with the given rate and bias corrections.
ff::StepState applying(float lr) {
  ff::StepState s{};
  s.apply_update = 1;
  s.grads_finite = 1;
  s.loss_scale = 1.0f;
  s.learning_rate = lr;
  s.bias_correction1 = 1.0 - std::pow(0.9, 3.0);
  s.bias_correction2 = 1.0 - std::pow(0.999, 3.0);
  return s;
}

}  // namespace

TEST_CASE("finite_residue is 0 exactly for finite values", "[optimizer_rules]") {
  for (float x : {0.0f, -0.0f, 1.0f, -3.5f, std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min()}) {
    CHECK(ff::finite_residue(x) == 0.0f);
    CHECK_FALSE(ff::is_nonfinite(x));
  }
  for (float x : {kNaN, kInf, -kInf}) {
    CHECK(std::isnan(ff::finite_residue(x)));
    CHECK(ff::is_nonfinite(x));
  }
}

TEST_CASE("norm_clip_factor scales only a norm above max_norm, never for NaN",
          "[optimizer_rules]") {
  float f = -1.0f;
  CHECK_FALSE(ff::norm_clip_factor(25.0, 5.0f, &f));  // norm 5 == max_norm: unchanged
  CHECK_FALSE(ff::norm_clip_factor(9.0, 5.0f, &f));
  CHECK(f == -1.0f);
  REQUIRE(ff::norm_clip_factor(25.0, 2.0f, &f));
  CHECK(f == static_cast<float>(2.0 / 5.0));
  CHECK_FALSE(ff::norm_clip_factor(std::nan(""), 2.0f, &f));
  REQUIRE(ff::norm_clip_factor(std::numeric_limits<double>::infinity(), 2.0f, &f));
  CHECK(f == 0.0f);
}

TEST_CASE("loss_scale_factor scales always and unscales only finite steps",
          "[optimizer_rules]") {
  ff::StepState s{};
  s.loss_scale = 8.0f;
  s.grads_finite = 0;
  float f = 0.0f;
  REQUIRE(ff::loss_scale_factor(&s, false, &f));
  CHECK(f == 8.0f);
  CHECK_FALSE(ff::loss_scale_factor(&s, true, &f));
  s.grads_finite = 1;
  REQUIRE(ff::loss_scale_factor(&s, true, &f));
  CHECK(f == 0.125f);
}

TEST_CASE("the step size and weight decay factor follow Keras's formulas", "[optimizer_rules]") {
  const ff::StepState s = applying(0.01f);
  CHECK(ff::adam_step_size(&s) ==
        static_cast<float>(static_cast<double>(0.01f) * std::sqrt(1.0 - std::pow(0.999, 3.0)) /
                           (1.0 - std::pow(0.9, 3.0))));
  CHECK(ff::weight_decay_factor(0.5f, 0.1f) == 1.0f - 0.5f * 0.1f);
}

TEST_CASE("the update rules compute Keras's updates", "[optimizer_rules]") {
  SECTION("sgd, momentum and nesterov") {
    float p = 1.0f, g = 0.5f, m = 0.25f;
    ff::sgd_element(&p, &g, 0, 0.1f);
    CHECK(p == 1.0f - 0.1f * 0.5f);
    p = 1.0f;
    ff::sgd_momentum_element(&p, &g, &m, 0, 0.1f, 0.9f, false);
    const float m1 = 0.9f * 0.25f - 0.1f * 0.5f;
    CHECK(m == m1);
    CHECK(p == 1.0f + m1);
    p = 1.0f;
    m = 0.25f;
    ff::sgd_momentum_element(&p, &g, &m, 0, 0.1f, 0.9f, true);
    CHECK(p == 1.0f + (0.9f * m1 - 0.1f * 0.5f));
  }
  SECTION("adam's first step from zero moments moves p by about alpha") {
    float p = 1.0f, g = 2.0f, m = 0.0f, v = 0.0f;
    ff::adam_element(&p, &g, &m, &v, 0, 0.001f, 0.1f, 0.001f, 1e-7f);
    CHECK(m == Approx(0.2f));
    CHECK(v == Approx(0.004f));
    CHECK(p == Approx(1.0f - 0.001f * 0.2f / std::sqrt(0.004f)));
  }
  SECTION("amsgrad keeps the larger second moment with std::max's NaN behaviour") {
    float p = 1.0f, g = 0.0f, m = 0.0f, v = 1.0f, vhat = 4.0f;
    ff::amsgrad_element(&p, &g, &m, &v, &vhat, 0, 0.1f, 0.1f, 0.5f, 0.0f);
    CHECK(v == 0.5f);
    CHECK(vhat == 4.0f);  // max(4, 0.5)
    g = kNaN;             // v becomes NaN: std::max(vhat, NaN) keeps vhat, as the CPU always did
    ff::amsgrad_element(&p, &g, &m, &v, &vhat, 0, 0.1f, 0.1f, 0.5f, 0.0f);
    CHECK(std::isnan(v));
    CHECK(vhat == 4.0f);
    CHECK(std::isnan(p));  // the NaN reaches p through m
  }
  SECTION("rmsprop plain, centered and with momentum") {
    float p = 1.0f, g = 2.0f, v = 1.0f, mg = 0.5f, mom = 0.1f;
    ff::rmsprop_element(&p, &g, &v, nullptr, nullptr, 0, 0.01f, 0.9f, 0.0f, 1e-7f);
    const float v1 = 0.9f * 1.0f + (1.0f - 0.9f) * 2.0f * 2.0f;
    CHECK(v == v1);
    CHECK(p == 1.0f - 0.01f * 2.0f / std::sqrt(v1 + 1e-7f));
    p = 1.0f;
    v = 1.0f;
    ff::rmsprop_element(&p, &g, &v, &mg, &mom, 0, 0.01f, 0.9f, 0.5f, 1e-7f);
    const float mg1 = 0.9f * 0.5f + (1.0f - 0.9f) * 2.0f;
    CHECK(mg == mg1);
    const float inc = 0.01f * 2.0f / std::sqrt(v1 - mg1 * mg1 + 1e-7f);
    CHECK(mom == 0.5f * 0.1f + inc);
    CHECK(p == 1.0f - (0.5f * 0.1f + inc));
  }
  SECTION("adagrad") {
    float p = 1.0f, g = 3.0f, acc = 0.1f;
    ff::adagrad_element(&p, &g, &acc, 0, 0.5f, 1e-7f);
    CHECK(acc == 0.1f + 9.0f);
    CHECK(p == 1.0f - 0.5f * 3.0f / std::sqrt(acc + 1e-7f));
  }
}

// The CPU backend's vectorised, threaded loops give exactly the bits of the rules applied one
// element at a time: the CUDA kernels apply the same rules, so CPU/GPU parity rests on this.
TEST_CASE("the CPU optimizer kernels give the bits of the shared rules", "[optimizer_rules]") {
  const int64_t n = GENERATE(int64_t{1}, int64_t{1000}, int64_t{100003});
  const bool specials = true;
  const std::vector<float> p0 = values(n, 1, 0.1f, 2.0f, false);
  const std::vector<float> g = values(n, 2, 0.01f, 3.0f, specials);
  const std::vector<float> s1 = values(n, 3, 0.0f, 0.5f, false);
  const std::vector<float> s2 = positive(n, 4), s3 = positive(n, 5);
  ff::StepState hs = applying(0.05f);
  ff::Tensor block = ff::Tensor::zeros(cpu().device(),
                                       {static_cast<int64_t>(ff::step_state_bytes(0))},
                                       ff::DType::UInt8);
  cpu().device().copy_from_host(block.raw(), &hs, sizeof hs);
  const auto* state = static_cast<const ff::StepState*>(block.raw());
  const float lr = hs.learning_rate;

  SECTION("sgd") {
    for (int variant = 0; variant < 3; ++variant) {
      ff::Tensor p = on_cpu(p0), gt = on_cpu(g), m = on_cpu(s1);
      cpu().sgd_update(p.data<float>(), gt.data<float>(), variant ? m.data<float>() : nullptr, n,
                       0.9f, variant == 2, state);
      std::vector<float> wp = p0, wm = s1;
      for (int64_t i = 0; i < n; ++i)
        if (variant)
          ff::sgd_momentum_element(wp.data(), g.data(), wm.data(), i, lr, 0.9f, variant == 2);
        else
          ff::sgd_element(wp.data(), g.data(), i, lr);
      INFO("variant " << variant);
      CHECK(first_difference(wp, read(p)) == "");
      CHECK(first_difference(wm, read(m)) == "");
    }
  }
  SECTION("adam and amsgrad") {
    for (bool amsgrad : {false, true}) {
      ff::Tensor p = on_cpu(p0), gt = on_cpu(g), m = on_cpu(s1), v = on_cpu(s2), vh = on_cpu(s3);
      cpu().adam_update(p.data<float>(), gt.data<float>(), m.data<float>(), v.data<float>(),
                        amsgrad ? vh.data<float>() : nullptr, n, 0.9f, 0.999f, 1e-7f, state);
      std::vector<float> wp = p0, wm = s1, wv = s2, wvh = s3;
      const float alpha = ff::adam_step_size(&hs);
      for (int64_t i = 0; i < n; ++i)
        if (amsgrad)
          ff::amsgrad_element(wp.data(), g.data(), wm.data(), wv.data(), wvh.data(), i, alpha,
                              1.0f - 0.9f, 1.0f - 0.999f, 1e-7f);
        else
          ff::adam_element(wp.data(), g.data(), wm.data(), wv.data(), i, alpha, 1.0f - 0.9f,
                           1.0f - 0.999f, 1e-7f);
      INFO("amsgrad " << amsgrad);
      CHECK(first_difference(wp, read(p)) == "");
      CHECK(first_difference(wm, read(m)) == "");
      CHECK(first_difference(wv, read(v)) == "");
      CHECK(first_difference(wvh, read(vh)) == "");
    }
  }
  SECTION("rmsprop") {
    for (int variant = 0; variant < 4; ++variant) {
      const bool centered = variant & 1, momentum = variant & 2;
      ff::Tensor p = on_cpu(p0), gt = on_cpu(g), v = on_cpu(s2), mg = on_cpu(s1),
                 mom = on_cpu(s3);
      cpu().rmsprop_update(p.data<float>(), gt.data<float>(), v.data<float>(),
                           centered ? mg.data<float>() : nullptr,
                           momentum ? mom.data<float>() : nullptr, n, 0.9f, 0.5f, 1e-7f, state);
      std::vector<float> wp = p0, wv = s2, wmg = s1, wmom = s3;
      for (int64_t i = 0; i < n; ++i)
        ff::rmsprop_element(wp.data(), g.data(), wv.data(), centered ? wmg.data() : nullptr,
                            momentum ? wmom.data() : nullptr, i, lr, 0.9f, 0.5f, 1e-7f);
      INFO("centered " << centered << ", momentum " << momentum);
      CHECK(first_difference(wp, read(p)) == "");
      CHECK(first_difference(wv, read(v)) == "");
      CHECK(first_difference(wmg, read(mg)) == "");
      CHECK(first_difference(wmom, read(mom)) == "");
    }
  }
  SECTION("adagrad and weight decay") {
    ff::Tensor p = on_cpu(p0), gt = on_cpu(g), acc = on_cpu(s2);
    cpu().adagrad_update(p.data<float>(), gt.data<float>(), acc.data<float>(), n, 1e-7f, state);
    std::vector<float> wp = p0, wacc = s2;
    for (int64_t i = 0; i < n; ++i)
      ff::adagrad_element(wp.data(), g.data(), wacc.data(), i, lr, 1e-7f);
    CHECK(first_difference(wp, read(p)) == "");
    CHECK(first_difference(wacc, read(acc)) == "");
    ff::Tensor q = on_cpu(p0);
    cpu().decay_weights(q.data<float>(), n, 0.01f, state);
    std::vector<float> wq = p0;
    for (float& x : wq) x *= ff::weight_decay_factor(0.01f, lr);
    CHECK(first_difference(wq, read(q)) == "");
  }
}

TEST_CASE("an error is written once: record_step_error takes halted, write_step_error fills it",
          "[optimizer_rules]") {
  ff::StepState s{};
  s.loop_batch = 7;
  ff::write_step_error(&s, ff::StepError::BadCategory, 3, 0, 11, 2.5);
  CHECK(s.halted == 0);  // taking `halted` is the caller's (atomically on a GPU)
  CHECK(s.error == static_cast<int32_t>(ff::StepError::BadCategory));
  CHECK(s.error_batch == 7);
  CHECK(s.error_index == 11);
  ff::StepState r{};
  ff::record_step_error(&r, ff::StepError::NonFinite, 1, 0, -1, 0.0);
  ff::record_step_error(&r, ff::StepError::BadLabel, 2, 0, 5, 9.0);  // the first one wins
  CHECK(r.halted == 1);
  CHECK(r.error == static_cast<int32_t>(ff::StepError::NonFinite));
  CHECK(r.error_where == 1);
}

TEST_CASE("a non-finite gradient under a loss scale above 1 is no error", "[optimizer_rules]") {
  ff::StepState s{};
  s.loss_scale = 1.0f;
  CHECK(ff::nonfinite_is_error(&s, ff::StepPass::Backward));
  s.loss_scaling = 1;
  CHECK(ff::nonfinite_is_error(&s, ff::StepPass::Backward));  // a scale of 1 hides nothing
  s.loss_scale = 2.0f;
  CHECK_FALSE(ff::nonfinite_is_error(&s, ff::StepPass::Backward));
  CHECK(ff::nonfinite_is_error(&s, ff::StepPass::Forward));
  CHECK(ff::nonfinite_is_error(&s, ff::StepPass::Loss));
  ff::state_nonfinite(&s, 4, ff::StepPass::Backward);
  CHECK(s.halted == 0);
  ff::state_nonfinite(&s, 4, ff::StepPass::Forward);
  CHECK(s.halted == 1);
  CHECK(s.error_where == 4);
}
