// The CPU as a Device (see core/device.h): 64-byte aligned host memory, memcpy copies, one
// stream, events that are complete as soon as they are recorded.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>

#include "core/device.h"

namespace ff {
namespace {

// Physical memory, or the cgroup (v2, then v1) memory limit of the container when lower: what
// the CPU can hold at most. Read once.
int64_t host_memory_capacity() {
  static const int64_t capacity = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    int64_t bytes = pages > 0 && page > 0 && pages <= std::numeric_limits<int64_t>::max() / page
                        ? static_cast<int64_t>(pages) * page
                        : std::numeric_limits<int64_t>::max();
    for (const char* path : {"/sys/fs/cgroup/memory.max",
                             "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
      std::ifstream f(path);
      long long limit = 0;
      if (f >> limit && limit > 0 && limit < bytes) bytes = limit;  // "max" reads as no number
    }
    return bytes;
  }();
  return capacity;
}

class CpuDevice final : public Device {
 public:
  DeviceType type() const override { return DeviceType::CPU; }
  std::string name() const override { return "cpu"; }

  int64_t memory_capacity() const override { return host_memory_capacity(); }
  void* allocate_pinned(size_t bytes) override { return allocate_bytes(bytes); }
  void deallocate_pinned(void* ptr, size_t bytes) override { deallocate_bytes(ptr, bytes); }

  void copy_from_host(void* dst, const void* src, size_t bytes, StreamId) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void copy(void* dst, const void* src, size_t bytes, StreamId) override {
    if (bytes && dst != src) std::memmove(dst, src, bytes);
  }
  void zero(void* dst, size_t bytes, StreamId) override {
    if (bytes) std::memset(dst, 0, bytes);
  }

  void* host_address(void* ptr) const override { return ptr; }

  StreamId create_stream() override { return 0; }
  EventId record_event(StreamId) override { return 0; }
  void stream_wait_event(StreamId, EventId) override {}
  void wait_event(EventId) override {}

 protected:
  void* allocate_bytes(size_t bytes) override {
    // 64-byte alignment for vector loads; size rounded up as aligned_alloc requires (a size
    // that the rounding would wrap is no allocation at all).
    if (bytes > std::numeric_limits<size_t>::max() - 63) throw std::bad_alloc();
    const size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void deallocate_bytes(void* ptr, size_t) override { std::free(ptr); }
  void read_to_host(void* dst, const void* src, size_t bytes, StreamId) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void read_to_host_async(void* dst, const void* src, size_t bytes, StreamId) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void synchronize_all() override {}
};

}  // namespace

Device& cpu_device() {
  static CpuDevice device;
  return device;
}

}  // namespace ff
