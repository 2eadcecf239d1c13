// Dataset: one node of an input pipeline (tf.data semantics). A Dataset is an immutable
// description: from_tensor_slices, map, shuffle, batch, prefetch, cache, repeat, take, skip,
// interleave, or a source (CSV rows, image files). Iterating makes an Iterator, a fresh pass
// over the data; the training loop makes one per epoch. Iterators may run worker threads
// (parallel map, prefetch); an iterator's destructor stops and joins them, so abandoning a pass
// early leaves no thread behind. An exception in a worker is kept and rethrown, with its original
// message, from the next() call that would have returned the element it was producing.
//
// Order is deterministic for a given seed whatever the number of worker threads: parallel
// stages return elements in input order, and random stages draw from Philox streams keyed by
// the seed and the pass number (see IteratorContext).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "data/element.h"

namespace ff::data {

constexpr int64_t kInfiniteCardinality = -1;  // tf.data.INFINITE_CARDINALITY
constexpr int64_t kUnknownCardinality = -2;   // tf.data.UNKNOWN_CARDINALITY
constexpr int64_t kAutotune = -1;             // tf.data.AUTOTUNE

class Iterator {
 public:
  virtual ~Iterator() = default;
  // The next element into `out`; false at the end of the sequence (out untouched).
  virtual bool next(Element& out) = 0;
};

class PinnedBufferPool;  // data/pinned_buffers.h

// What the consumer of a pass asks of it (an option of one iteration, not of the dataset).
struct IterationOptions {
  // The batches go to a device the host cannot address: the final batch op writes them into
  // blocks of this pool (page-locked memory; see HostBuffer). Null: ordinary memory. The
  // operations that hand the batch op's output on unchanged forward it (prefetch, repeat, take,
  // skip), and so does a map, which also writes the components its function creates into the
  // pool (data/map.cpp); an op that builds batches of its own from batches (shuffle, cache,
  // interleave) asks nothing of its input.
  std::shared_ptr<PinnedBufferPool> pinned;
  // Batches the ops between the batch op and the consumer may hold at once (prefetch buffers):
  // the batch op bounds the pool by it.
  int64_t queued = 0;
};

class Dataset : public std::enable_shared_from_this<Dataset> {
 public:
  virtual ~Dataset() = default;
  // A new pass over the data. Thread-safe: several iterators may run at once.
  virtual std::unique_ptr<Iterator> make_iterator() const = 0;
  // A new pass for a consumer with `options`; an op that does not use or forward them (the
  // default) makes a plain pass.
  virtual std::unique_ptr<Iterator> make_iterator_for(const IterationOptions& options) const {
    (void)options;
    return make_iterator();
  }
  // Number of elements, or kInfiniteCardinality / kUnknownCardinality.
  virtual int64_t cardinality() const = 0;
  // For error messages and repr: "BatchDataset", "CsvDataset" ...
  virtual std::string name() const = 0;
};

using DatasetPtr = std::shared_ptr<Dataset>;  // immutable by convention

}  // namespace ff::data
