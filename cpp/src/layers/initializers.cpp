// Keras initializers (keras/src/initializers): variance scaling uses a normal truncated at two
// standard deviations with stddev / 0.87962566103423978, as Keras 3 does.
#include "layers/initializers.h"

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/rng.h"

namespace ff {
namespace {

const char* kKnown =
    "zeros, ones, glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, "
    "lecun_normal, random_uniform, random_normal, truncated_normal";

// Keras's compute_fans: dense kernel (in, out); conv kernels (..., in, out) with receptive field.
void fans(const Shape& s, double& fan_in, double& fan_out) {
  if (s.size() < 1) { fan_in = fan_out = 1; return; }
  if (s.size() == 1) { fan_in = fan_out = static_cast<double>(s[0]); return; }
  if (s.size() == 2) { fan_in = static_cast<double>(s[0]); fan_out = static_cast<double>(s[1]); return; }
  double receptive = 1;
  for (size_t i = 0; i + 2 < s.size(); ++i) receptive *= static_cast<double>(s[i]);
  fan_in = static_cast<double>(s[s.size() - 2]) * receptive;
  fan_out = static_cast<double>(s[s.size() - 1]) * receptive;
}

float truncated_normal(uint64_t seed, uint64_t i) {
  // Redraw from successive streams until |z| <= 2 (deterministic per element).
  for (uint64_t attempt = 0;; ++attempt) {
    float z = Philox::normal(seed, attempt, i);
    if (std::fabs(z) <= 2.0f) return z;
  }
}

}  // namespace

void check_initializer_name(const std::string& name) {
  static const char* names[] = {"zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform",
                                "he_normal", "lecun_uniform", "lecun_normal", "random_uniform",
                                "random_normal", "truncated_normal"};
  for (const char* n : names)
    if (name == n) return;
  throw ValueError("Unknown initializer: '" + name + "'. Expected one of: " + kKnown);
}

void initialize(Tensor& t, const std::string& name, uint64_t seed) {
  check_initializer_name(name);
  const int64_t n = t.numel();
  std::vector<float> host(static_cast<size_t>(n));
  double fan_in, fan_out;
  fans(t.shape(), fan_in, fan_out);
  auto uniform = [&](double limit) {
    for (int64_t i = 0; i < n; ++i)
      host[i] = static_cast<float>((2.0 * Philox::uniform(seed, 0, i) - 1.0) * limit);
  };
  auto variance_scaling_normal = [&](double fan) {
    double stddev = std::sqrt(1.0 / fan) / 0.87962566103423978;
    for (int64_t i = 0; i < n; ++i) host[i] = static_cast<float>(stddev * truncated_normal(seed, i));
  };
  if (name == "zeros") std::fill(host.begin(), host.end(), 0.0f);
  else if (name == "ones") std::fill(host.begin(), host.end(), 1.0f);
  else if (name == "glorot_uniform") uniform(std::sqrt(6.0 / (fan_in + fan_out)));
  else if (name == "glorot_normal") variance_scaling_normal((fan_in + fan_out) / 2.0);
  else if (name == "he_uniform") uniform(std::sqrt(6.0 / fan_in));
  else if (name == "he_normal") variance_scaling_normal(fan_in / 2.0);
  else if (name == "lecun_uniform") uniform(std::sqrt(3.0 / fan_in));
  else if (name == "lecun_normal") variance_scaling_normal(fan_in);
  else if (name == "random_uniform") uniform(0.05);
  else if (name == "random_normal")
    for (int64_t i = 0; i < n; ++i) host[i] = 0.05f * Philox::normal(seed, 0, i);
  else if (name == "truncated_normal")
    for (int64_t i = 0; i < n; ++i) host[i] = 0.05f * truncated_normal(seed, i);
  t.device().copy_from_host(t.raw(), host.data(), host.size() * sizeof(float));
}

}  // namespace ff
