// A per-thread cache of oneDNN primitives for the CPU kernels that use them (convolution,
// bfloat16 matmul): created once per key on first use; a key oneDNN has no implementation for
// is remembered as null (the caller then takes its other path). Only for builds with oneDNN.
#pragma once
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>

namespace ff::cpu {

// The primitives for `key` from `cache` (the caller's thread_local map), made by make() when
// missing; null when oneDNN refused. The cache is emptied when it holds max_cached entries.
template <class Key, class Primitives, class Make>
Primitives* cached_primitives(std::map<Key, std::unique_ptr<Primitives>>& cache,
                              size_t max_cached, const Key& key, Make&& make) {
  auto it = cache.find(key);
  if (it != cache.end()) return it->second.get();
  if (cache.size() >= max_cached) cache.clear();
  std::unique_ptr<Primitives> made;
  try {
    made = make();
  } catch (const dnnl::error&) {
    made = nullptr;
  }
  return cache.emplace(key, std::move(made)).first->second.get();
}

}  // namespace ff::cpu
