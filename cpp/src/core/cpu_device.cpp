// The CPU as a Device (see core/device.h): 64-byte aligned host memory, memcpy copies, one
// stream, events that are complete as soon as they are recorded.
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/device.h"

namespace ff {
namespace {

class CpuDevice final : public Device {
 public:
  DeviceType type() const override { return DeviceType::CPU; }
  std::string name() const override { return "cpu"; }

  void* allocate(size_t bytes) override {
    // 64-byte alignment for vector loads; size rounded up as aligned_alloc requires.
    const size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void deallocate(void* ptr, size_t) override { std::free(ptr); }
  void* allocate_pinned(size_t bytes) override { return allocate(bytes); }
  void deallocate_pinned(void* ptr, size_t bytes) override { deallocate(ptr, bytes); }

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
