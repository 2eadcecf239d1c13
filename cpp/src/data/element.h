// Element: what flows through an input pipeline. A dataset element is a flat list of Components
// (the Python side keeps the nesting: tuples, dicts); a component is one host array (numeric
// bytes or strings) with its shape. Components are immutable once made and share their storage,
// so a slice of a big array, a cached element or a batch handed to the model costs no copy.
// Batched components carry the batch as their leading dimension.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/shape.h"

namespace ff::data {

// The value types a pipeline carries (wider than the compute dtypes: users hand in float64 and
// uint8 arrays and string columns; conversion to float32/int64 happens at the model boundary).
enum class ValueType : uint8_t { Float32, Float64, Int32, Int64, UInt8, Bool, String };

size_t value_size(ValueType t);          // bytes per value (String: 0)
std::string value_type_name(ValueType t);  // NumPy's name: "float32", ..., "str"

class PinnedBufferPool;  // data/pinned_buffers.h

// Host memory for pipeline values: 64-byte aligned pageable memory, or, for the batches of a
// pipeline whose consumer copies them to a device the host cannot address (a GPU: the model asks
// for it when it starts iterating, data::IterationOptions), a block of page-locked memory from a
// PinnedBufferPool that the final batch op writes into, so the copy to the device runs on a side
// stream with no staging copy on the host. A pinned block goes back to its pool when the buffer
// is destroyed; a consumer that copies from it asynchronously must keep the buffer alive until it
// waited for its copy (data/pinned_buffers.h explains why this, not the pool, guards reuse).
class HostBuffer {
 public:
  // Pageable memory.
  static std::shared_ptr<HostBuffer> allocate(size_t bytes);
  // A block of `pinned`'s when one of this size is free, else pageable memory (pinned() tells).
  static std::shared_ptr<HostBuffer> allocate(size_t bytes,
                                              const std::shared_ptr<PinnedBufferPool>& pinned);
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  // Buffers alive in the process, pinned or not (a test checks that abandoned iterations free
  // theirs; a pinned block back in its pool is not a live buffer).
  static int64_t live_count();
  void* data() { return ptr_; }
  const void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  // Page-locked memory of a PinnedBufferPool.
  bool pinned() const { return pool_ != nullptr; }

 private:
  HostBuffer(void* p, size_t b, std::shared_ptr<PinnedBufferPool> pool = nullptr,
             size_t block = 0)
      : ptr_(p), bytes_(b), block_(block), pool_(std::move(pool)) {}
  void* ptr_;
  size_t bytes_;
  size_t block_;  // the pinned block's capacity
  std::shared_ptr<PinnedBufferPool> pool_;  // the block's pool (kept alive), or null: pageable
};

struct Component {
  ValueType type = ValueType::Float32;
  Shape shape;  // all dimensions known
  // Numeric types: `bytes` holds the values from byte `offset` on, row-major.
  std::shared_ptr<const HostBuffer> bytes;
  size_t offset = 0;
  // String type: values [string_offset, string_offset + numel) of `strings`.
  std::shared_ptr<const std::vector<std::string>> strings;
  size_t string_offset = 0;

  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * value_size(type); }
  const void* data() const { return static_cast<const char*>(bytes->data()) + offset; }
  const std::string& string_at(int64_t i) const { return (*strings)[string_offset + i]; }

  // A new numeric component of `shape` with uninitialised storage (written through `out`); in a
  // block of `pinned` when given and one is free; without `pinned`, in a block of the pool of
  // the OutputPoolScope open on this thread, if any (a map function's results).
  static Component make(ValueType type, const Shape& shape, void** out,
                        const std::shared_ptr<PinnedBufferPool>& pinned = nullptr);
  static Component make_strings(const Shape& shape, std::vector<std::string> values);
  // Row `i` of a component whose leading dimension is the row axis (no copy).
  Component row(int64_t i) const;
  // Rows [begin, begin + count) (no copy).
  Component rows(int64_t begin, int64_t count) const;
  // "float32 (28, 28)": for error messages.
  std::string describe() const;
};

using Element = std::vector<Component>;

// While one is alive on a thread, Component::make calls on that thread that name no pool take
// their storage from `pool` (a free block, else pageable memory as always); null: pageable.
// Scopes nest (the innermost wins; its end restores the one before).
//
// The map op opens one around each call of its function when its pass was asked for pinned
// batches (data/map.cpp): the components a function creates (a transform's, csv_dataset's
// one-hot widening, a Python function's results copied back from NumPy) are then written into
// page-locked memory on the worker thread that runs the function, whatever function it is, and
// the MapFn signature, every transform and the Python binding stay as they are. An explicit
// allocator handed to each function would have meant changing all of them, and any function
// that forgot to use it would silently stay pageable. What a scope also catches: anything else
// the function makes through Component::make on its thread during the call (a pipeline it
// iterates inline). That is harmless: the pool is bounded, a block goes back when its buffer is
// dropped, and a take() that finds none gives pageable memory.
class OutputPoolScope {
 public:
  explicit OutputPoolScope(std::shared_ptr<PinnedBufferPool> pool);
  ~OutputPoolScope();
  OutputPoolScope(const OutputPoolScope&) = delete;
  OutputPoolScope& operator=(const OutputPoolScope&) = delete;
  // The pool of the innermost scope on this thread (null when none is open, or its pool is).
  static std::shared_ptr<PinnedBufferPool> current();

 private:
  std::shared_ptr<PinnedBufferPool> pool_;
  const OutputPoolScope* previous_;
};

// Stacks `count` elements (all with the same component types and shapes) into one batched
// element whose leading dimension is `count`. A mismatch raises ValueError naming the component
// index, both shapes and the position in the batch (tf.data's "Cannot batch tensors with
// different shapes", with the detail that makes it fixable). Numeric components go into blocks
// of `pinned` when given and free (see HostBuffer).
Element stack(const std::vector<Element>& elements,
              const std::shared_ptr<PinnedBufferPool>& pinned = nullptr);

}  // namespace ff::data
