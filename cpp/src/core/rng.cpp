// The process-wide seed sequence (see rng.h).
#include "core/rng.h"

#include <mutex>
#include <random>

namespace ff {
namespace {
std::mutex g_mutex;
bool g_initialised = false;
uint64_t g_seed = 0;
uint64_t g_counter = 0;
}  // namespace

void GlobalSeed::set(uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_seed = seed;
  g_counter = 0;
  g_initialised = true;
}

uint64_t GlobalSeed::next() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_initialised) {
    std::random_device rd;
    g_seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    g_initialised = true;
  }
  return mix_seed(g_seed, g_counter++);
}

GlobalSeed::State GlobalSeed::state() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return State{g_initialised, g_seed, g_counter};
}

void GlobalSeed::restore(const State& s) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_initialised = s.initialised;
  g_seed = s.initialised ? s.seed : 0;
  g_counter = s.initialised ? s.counter : 0;
}

}  // namespace ff
