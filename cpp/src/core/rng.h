// Counter-based random numbers (Philox-4x32-10, Salmon et al. 2011). A value depends only on
// (key, counter), never on call order, so initializers, dropout masks and shuffles are
// reproducible and a GPU kernel can later draw exactly the same numbers as the CPU.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace ff {

// Four 32-bit random words.
struct PhiloxWords {
  uint32_t w[4];
  FF_HD uint32_t operator[](int64_t i) const { return w[i]; }
  FF_HD bool operator==(const PhiloxWords& o) const {
    return w[0] == o.w[0] && w[1] == o.w[1] && w[2] == o.w[2] && w[3] == o.w[3];
  }
  FF_HD bool operator!=(const PhiloxWords& o) const { return !(*this == o); }
};

// Every function is FF_HD: CUDA kernels draw exactly the CPU's numbers from this one source.
struct Philox {
  // Four 32-bit random words for a 64-bit key and a 128-bit counter (hi, lo).
  FF_HD static PhiloxWords block(uint64_t key, uint64_t counter_hi, uint64_t counter_lo) {
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
    uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
    for (int round = 0; round < 10; ++round) {
      uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
      uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
      uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
      uint32_t n1 = static_cast<uint32_t>(p1);
      uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
      uint32_t n3 = static_cast<uint32_t>(p0);
      c0 = n0; c1 = n1; c2 = n2; c3 = n3;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    return PhiloxWords{{c0, c1, c2, c3}};
  }

  // Uniform float in [0, 1) from 24 random bits.
  FF_HD static float to_unit(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }

  // Element i of the uniform [0,1) stream (key, stream).
  FF_HD static float uniform(uint64_t key, uint64_t stream, uint64_t i) {
    return to_unit(block(key, stream, i / 4)[i % 4]);
  }

  // Element i of the standard normal stream (key, stream), by Box-Muller on one block.
  FF_HD static float normal(uint64_t key, uint64_t stream, uint64_t i) {
    auto b = block(key, stream, i / 2);
    int pair = static_cast<int>(i % 2) * 2;
    double u1 = (static_cast<double>(b[pair] >> 8) + 1.0) / 16777217.0;  // (0, 1]
    double u2 = static_cast<double>(b[pair + 1] >> 8) / 16777216.0;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
};

// Mixes two 64-bit values into one (splitmix64 finaliser): derives child seeds.
inline uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The process-wide seed source behind ff.utils.set_random_seed: every layer, model and fit
// draws its own seed from it in creation order, so a script that sets the seed first is
// reproducible run to run.
class GlobalSeed {
 public:
  static void set(uint64_t seed);
  // Next seed in the sequence (an unseeded process starts from a random seed).
  static uint64_t next();
  // The sequence's position, saved with a model so that a loaded model continues it exactly:
  // whether it has a seed yet, the seed, and how many seeds were drawn from it.
  struct State {
    bool initialised = false;
    uint64_t seed = 0;
    uint64_t counter = 0;
  };
  static State state();
  static void restore(const State& s);
};

}  // namespace ff
