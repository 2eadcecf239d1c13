// Helpers for the input-pipeline tests: int64 range datasets, draining a dataset into values,
// and counting this process's threads (to check that iterators leave none behind).
#pragma once
#include <dirent.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "data/ops.h"

namespace fftest {

// Elements 0..n-1 as int64 scalars.
inline ff::data::DatasetPtr range_dataset(int64_t n) {
  void* dst = nullptr;
  ff::data::Component c = ff::data::Component::make(ff::data::ValueType::Int64, {n}, &dst);
  for (int64_t i = 0; i < n; ++i) static_cast<int64_t*>(dst)[i] = i;
  return ff::data::from_tensor_slices({c});
}

inline int64_t scalar_of(const ff::data::Component& c) {
  return *static_cast<const int64_t*>(c.data());
}

// Every int64 value of the first component of every element, in order.
inline std::vector<int64_t> drain(const ff::data::DatasetPtr& d) {
  std::vector<int64_t> out;
  auto it = d->make_iterator();
  ff::data::Element e;
  while (it->next(e)) {
    const auto* p = static_cast<const int64_t*>(e[0].data());
    out.insert(out.end(), p, p + e[0].numel());
  }
  return out;
}

inline std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

// A MapFn multiplying int64 scalars by `k`.
inline ff::data::MapFn times(int64_t k) {
  return [k](const ff::data::Element& in, int64_t, uint64_t) {
    void* dst = nullptr;
    ff::data::Component c = ff::data::Component::make(ff::data::ValueType::Int64, {}, &dst);
    *static_cast<int64_t*>(dst) = scalar_of(in[0]) * k;
    return ff::data::Element{c};
  };
}

inline int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

inline int fd_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

}  // namespace fftest
