// ResidentArrays: fit's NumPy arrays kept on a device the host cannot address (a GPU), uploaded
// once per fit when they fit in a share of the device's free memory
// (ff.config.experimental.set_resident_array_fraction; Model::make_resident decides). Each batch
// is then gathered on the device (Backend::gather_rows, outside the captured step, like every
// batch load) into the plan's buffers: no host staging, no host-to-device copy per step.
//
// Shuffling: the epoch's order is Model::shuffled_order's (a Fisher-Yates shuffle driven by
// Philox, computed on the host), uploaded once per epoch as one small copy (8 bytes a row,
// through a pinned buffer: no host read, nothing per step), and the batches gather by it. Why not
// a permutation drawn on the device: the CPU's order is a sequential chain of swaps, which a GPU
// can only replay on one thread, and any parallel permutation (sorting random keys) would be a
// different order; uploading the host's order keeps it identical to the CPU path's by
// construction, for every seed, at the price of one copy an epoch.
//
// The arrays are converted as the model loads them (inputs to float32, targets to int64 class
// indices for a sparse loss or float32), in chunks through a pageable staging buffer.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace ff {

struct HostArray;

class ResidentArrays {
 public:
  // Uploads `xs` as float32 and each defined `ys[o]` as `target_dtypes[o]`. Called by
  // Model::make_resident, which checked the arrays and the memory.
  ResidentArrays(Device& device, const std::vector<HostArray>& xs,
                 const std::vector<HostArray>& ys, const std::vector<DType>& target_dtypes);
  ~ResidentArrays();
  ResidentArrays(const ResidentArrays&) = delete;
  ResidentArrays& operator=(const ResidentArrays&) = delete;

  int64_t rows() const { return rows_; }
  const std::vector<Tensor>& xs() const { return xs_; }
  const std::vector<Tensor>& ys() const { return ys_; }  // undefined: no targets for that output
  // Whether these are the device copies of exactly these host arrays (same memory, shapes and
  // dtypes): an ArraySource refuses a mismatch.
  bool matches(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys) const;

  // Uploads an epoch's order (every index in [0, rows), checked by the caller): one copy.
  void set_order(const std::vector<int64_t>& order);
  // The order on the device (valid after set_order).
  const int64_t* device_order() const { return static_cast<const int64_t*>(order_.raw()); }

  struct Stats {
    int64_t uploads = 0;        // array uploads (1: they happen once, in the constructor)
    int64_t bytes = 0;          // device bytes they take
    int64_t order_uploads = 0;  // epochs' orders uploaded
  };
  const Stats& stats() const { return stats_; }

  // The device bytes xs and ys would take (float32 inputs, targets in their dtypes), or -1 when
  // the count overflows.
  static int64_t bytes_needed(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys,
                              const std::vector<DType>& target_dtypes);

 private:
  Tensor upload(const HostArray& a, DType to);

  Device* device_;
  int64_t rows_ = 0;
  std::vector<Tensor> xs_, ys_;
  std::vector<const void*> host_data_;  // xs then ys: what they were uploaded from
  std::vector<Shape> host_shapes_;
  std::vector<DType> host_dtypes_;
  Tensor order_;
  void* pinned_order_ = nullptr;
  size_t pinned_bytes_ = 0;
  EventId order_copied_ = 0;
  Stats stats_;
};

}  // namespace ff
