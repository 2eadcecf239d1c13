// Element and Component: host arrays flowing through the input pipeline, and stack() which makes
// a batch of them.
#include "data/element.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/errors.h"
#include "data/pinned_buffers.h"

namespace ff::data {

size_t value_size(ValueType t) {
  switch (t) {
    case ValueType::Float32: return 4;
    case ValueType::Float64: return 8;
    case ValueType::Int32: return 4;
    case ValueType::Int64: return 8;
    case ValueType::UInt8: return 1;
    case ValueType::Bool: return 1;
    case ValueType::String: return 0;
  }
  return 0;
}

std::string value_type_name(ValueType t) {
  switch (t) {
    case ValueType::Float32: return "float32";
    case ValueType::Float64: return "float64";
    case ValueType::Int32: return "int32";
    case ValueType::Int64: return "int64";
    case ValueType::UInt8: return "uint8";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "str";
  }
  return "?";
}

namespace {
std::atomic<int64_t> live_buffers{0};
}  // namespace

std::shared_ptr<HostBuffer> HostBuffer::allocate(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw std::bad_alloc();
  ++live_buffers;
  return std::shared_ptr<HostBuffer>(new HostBuffer(p, bytes));
}

std::shared_ptr<HostBuffer> HostBuffer::allocate(size_t bytes,
                                                 const std::shared_ptr<PinnedBufferPool>& pinned) {
  if (pinned) {
    const PinnedBufferPool::Block b = pinned->take(bytes);
    if (b.data) {
      ++live_buffers;
      return std::shared_ptr<HostBuffer>(new HostBuffer(b.data, bytes, pinned, b.capacity));
    }
  }
  return allocate(bytes);
}

HostBuffer::~HostBuffer() {
  if (pool_) pool_->give_back({ptr_, block_});
  else std::free(ptr_);
  --live_buffers;
}

int64_t HostBuffer::live_count() { return live_buffers.load(); }

int64_t Component::numel() const { return shape_numel(shape); }

namespace {
thread_local const OutputPoolScope* innermost_scope = nullptr;  // this thread's, or null
}  // namespace

OutputPoolScope::OutputPoolScope(std::shared_ptr<PinnedBufferPool> pool)
    : pool_(std::move(pool)), previous_(innermost_scope) {
  innermost_scope = this;
}

OutputPoolScope::~OutputPoolScope() { innermost_scope = previous_; }

std::shared_ptr<PinnedBufferPool> OutputPoolScope::current() {
  return innermost_scope ? innermost_scope->pool_ : nullptr;
}

Component Component::make(ValueType type, const Shape& shape, void** out,
                          const std::shared_ptr<PinnedBufferPool>& pinned) {
  if (type == ValueType::String) throw ValueError("internal: Component::make for strings");
  Component c;
  c.type = type;
  c.shape = shape;
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * value_size(type);
  auto buffer = HostBuffer::allocate(bytes, pinned ? pinned : OutputPoolScope::current());
  *out = buffer->data();
  c.bytes = std::move(buffer);
  return c;
}

Component Component::make_strings(const Shape& shape, std::vector<std::string> values) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    throw ValueError("internal: " + std::to_string(values.size()) + " strings for shape " +
                     shape_str(shape));
  Component c;
  c.type = ValueType::String;
  c.shape = shape;
  c.strings = std::make_shared<const std::vector<std::string>>(std::move(values));
  return c;
}

Component Component::rows(int64_t begin, int64_t count) const {
  if (shape.empty()) throw ValueError("internal: rows() of a scalar component");
  if (begin < 0 || count < 0 || begin + count > shape[0])
    throw ValueError("internal: rows [" + std::to_string(begin) + ", " +
                     std::to_string(begin + count) + ") of a component with " +
                     std::to_string(shape[0]) + " rows");
  Component c = *this;
  c.shape[0] = count;
  const int64_t row_values = shape_row_size(shape);
  if (type == ValueType::String) c.string_offset += static_cast<size_t>(begin * row_values);
  else c.offset += static_cast<size_t>(begin * row_values) * value_size(type);
  return c;
}

Component Component::row(int64_t i) const {
  Component c = rows(i, 1);
  c.shape.erase(c.shape.begin());
  return c;
}

std::string Component::describe() const { return value_type_name(type) + " " + shape_str(shape); }

Element stack(const std::vector<Element>& elements,
              const std::shared_ptr<PinnedBufferPool>& pinned) {
  if (elements.empty()) throw ValueError("internal: stack() of no elements");
  const Element& first = elements.front();
  const int64_t count = static_cast<int64_t>(elements.size());
  Element out;
  out.reserve(first.size());
  for (size_t c = 0; c < first.size(); ++c) {
    const Component& proto = first[c];
    for (int64_t e = 1; e < count; ++e) {
      const Element& other = elements[static_cast<size_t>(e)];
      if (other.size() != first.size())
        throw ValueError("Cannot batch elements with different structures: element 0 of the "
                         "batch has " + std::to_string(first.size()) + " components, element " +
                         std::to_string(e) + " has " + std::to_string(other.size()));
      const Component& x = other[c];
      if (x.type != proto.type || x.shape != proto.shape)
        throw ValueError("Cannot batch elements with different shapes or dtypes: component " +
                         std::to_string(c) + " is " + proto.describe() + " in element 0 of the "
                         "batch but " + x.describe() + " in element " + std::to_string(e) +
                         ". Resize or pad the elements to one shape first (e.g. with map), or "
                         "use batch_size=1.");
    }
    Shape shape = proto.shape;
    shape.insert(shape.begin(), count);
    if (proto.type == ValueType::String) {
      std::vector<std::string> values;
      values.reserve(static_cast<size_t>(shape_numel(shape)));
      for (const Element& e : elements)
        for (int64_t i = 0; i < e[c].numel(); ++i) values.push_back(e[c].string_at(i));
      out.push_back(Component::make_strings(shape, std::move(values)));
      continue;
    }
    void* dst = nullptr;
    Component batched = Component::make(proto.type, shape, &dst, pinned);
    const size_t row_bytes = proto.nbytes();
    char* p = static_cast<char*>(dst);
    for (const Element& e : elements) {
      if (row_bytes) std::memcpy(p, e[c].data(), row_bytes);
      p += row_bytes;
    }
    out.push_back(std::move(batched));
  }
  return out;
}

}  // namespace ff::data
