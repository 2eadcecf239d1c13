// The emulated GPU itself (emulated_gpu.h): memory the host cannot address, kernels through the
// CPU backend, and graph capture that records with frozen arguments and replays.
#include <catch2/catch.hpp>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "emulated_gpu.h"
#include "test_util.h"

namespace {

using fftest::EmulatedGpuDevice;

std::vector<float> read(ff::Device& d, const ff::Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  d.copy_to_host(out.data(), t.raw(), t.nbytes());
  return out;
}

}  // namespace

TEST_CASE("emulated GPU memory is not host-addressable and kernels see real memory",
          "[emulated_gpu]") {
  EmulatedGpuDevice& d = fftest::emulated_gpu_device();
  ff::Backend& be = fftest::emulated_gpu_backend();
  ff::Tensor t = ff::Tensor::zeros(d, {4});
  CHECK(d.host_address(t.raw()) == nullptr);
  // A non-canonical address: the host cannot dereference it.
  CHECK(reinterpret_cast<uintptr_t>(t.raw()) >= EmulatedGpuDevice::kDeviceOffset);
  CHECK(d.is_device_pointer(t.raw()));
  be.fill(t.data<float>(), 4, 2.5f);
  be.scale(t.data<float>(), 4, 2.0f);
  CHECK(read(d, t) == std::vector<float>(4, 5.0f));
  // A host pointer handed to a kernel or a copy is refused, as a GPU would fault.
  std::vector<float> host(4, 1.0f);
  CHECK_THROWS_WITH(be.scale(host.data(), 4, 2.0f), Catch::Contains("host pointer"));
  CHECK_THROWS_WITH(d.copy(t.raw(), host.data(), 16), Catch::Contains("host pointer"));
  CHECK_THROWS_WITH(d.copy_from_host(t.raw(), t.raw(), 16), Catch::Contains("from device memory"));
  // Past the end of an allocation is outside every allocation.
  CHECK_THROWS_WITH(d.copy_from_host(t.raw(), host.data(), 32), Catch::Contains("outside"));
}

TEST_CASE("emulated GPU counts host reads and synchronisations", "[emulated_gpu]") {
  EmulatedGpuDevice& d = fftest::emulated_gpu_device();
  ff::Tensor t = ff::Tensor::zeros(d, {4});
  const int64_t reads = d.host_reads(), syncs = d.synchronizations();
  std::vector<float> host(4);
  d.copy_to_host(host.data(), t.raw(), t.nbytes());
  void* pinned = d.allocate_pinned(t.nbytes());
  d.copy_to_host_async(pinned, t.raw(), t.nbytes());
  d.synchronize();
  d.deallocate_pinned(pinned, t.nbytes());
  CHECK(d.host_reads() - reads == 2);
  CHECK(d.synchronizations() - syncs == 1);
}

TEST_CASE("emulated GPU capture records with frozen arguments and replays", "[emulated_gpu]") {
  EmulatedGpuDevice& d = fftest::emulated_gpu_device();
  ff::Backend& be = fftest::emulated_gpu_backend();
  ff::Tensor t = ff::Tensor::zeros(d, {3});
  float* pinned = static_cast<float*>(d.allocate_pinned(3 * sizeof(float)));
  pinned[0] = pinned[1] = pinned[2] = 1.0f;
  float factor = 3.0f;
  d.begin_capture(0);
  CHECK(d.capturing());
  d.copy_from_host(t.raw(), pinned, 3 * sizeof(float));  // re-read at every replay
  be.scale(t.data<float>(), 3, factor);                    // factor frozen at 3
  const ff::GraphId g = d.end_capture(0);
  CHECK_FALSE(d.capturing());
  CHECK(d.last_graph_size() == 2);
  // Nothing ran during capture.
  CHECK(read(d, t) == std::vector<float>(3, 0.0f));
  factor = 10.0f;
  pinned[1] = 2.0f;
  d.launch_graph(g, 0);
  CHECK(read(d, t) == std::vector<float>{3.0f, 6.0f, 3.0f});
  pinned[1] = 4.0f;
  d.launch_graph(g, 0);
  CHECK(read(d, t) == std::vector<float>{3.0f, 12.0f, 3.0f});
  d.destroy_graph(g);
  CHECK_THROWS(d.launch_graph(g, 0));
  d.deallocate_pinned(pinned, 3 * sizeof(float));
}

TEST_CASE("emulated GPU refuses what CUDA refuses during capture", "[emulated_gpu]") {
  EmulatedGpuDevice& d = fftest::emulated_gpu_device();
  ff::Tensor t = ff::Tensor::zeros(d, {2});
  std::vector<float> host(2, 0.0f);
  auto refused = [&](auto&& call, const char* what) {
    d.begin_capture(0);
    CHECK_THROWS_WITH(call(), Catch::Contains(what) && Catch::Contains("graph capture"));
    CHECK(d.capturing());  // the capture stays open until end_capture, invalidated
    CHECK_THROWS_WITH(d.end_capture(0), Catch::Contains("invalidated"));
    CHECK_FALSE(d.capturing());
  };
  refused([&] { d.synchronize(); }, "synchronize");
  refused([&] { d.copy_to_host(host.data(), t.raw(), t.nbytes()); }, "copy_to_host");
  refused([&] { ff::Tensor::empty(d, {8}); }, "allocate");
  refused([&] { d.copy_from_host(t.raw(), host.data(), t.nbytes()); }, "pageable");
  refused([&] { d.wait_event(d.record_event(0)); }, "wait_event");
  // Freeing during capture cannot throw (destructors do it): end_capture reports it.
  {
    ff::Tensor scratch = ff::Tensor::empty(d, {8});
    d.begin_capture(0);
    scratch = ff::Tensor();
    CHECK_THROWS_WITH(d.end_capture(0), Catch::Contains("deallocate"));
  }
  CHECK_THROWS(d.end_capture(0));  // not capturing
}

TEST_CASE("emulated GPU streams: an access not ordered after another stream's write or read "
          "is a race", "[emulated_gpu]") {
  EmulatedGpuDevice& d = fftest::emulated_gpu_device();
  ff::Backend& be = fftest::emulated_gpu_backend();
  const ff::StreamId side = d.create_stream();
  ff::Tensor a = ff::Tensor::zeros(d, {4}), b = ff::Tensor::zeros(d, {4});
  std::vector<float> host(4, 3.0f);
  // Write after write: zeros() wrote `a` on the compute stream.
  CHECK_THROWS_WITH(d.copy_from_host(a.raw(), host.data(), a.nbytes(), side),
                    Catch::Contains("race"));
  d.stream_wait_event(side, d.record_event(0));
  // Read after write: the compute stream copies what the side stream wrote, without waiting.
  d.copy_from_host(a.raw(), host.data(), a.nbytes(), side);
  CHECK_THROWS_WITH(d.copy(b.raw(), a.raw(), a.nbytes(), 0), Catch::Contains("race"));
  // A kernel reading it on the compute stream is a race too.
  CHECK_THROWS_WITH(be.scale(a.data<float>(), 4, 2.0f), Catch::Contains("race"));
  // Ordered by an event: fine.
  d.stream_wait_event(0, d.record_event(side));
  d.copy(b.raw(), a.raw(), a.nbytes(), 0);
  // Write after read: the side stream overwrites `a` while the compute stream's copy of it may
  // still run...
  CHECK_THROWS_WITH(d.copy_from_host(a.raw(), host.data(), a.nbytes(), side),
                    Catch::Contains("race"));
  // ... unless it waits for an event recorded after that read.
  d.stream_wait_event(side, d.record_event(0));
  d.copy_from_host(a.raw(), host.data(), a.nbytes(), side);
  // A host wait for the side stream's event orders work enqueued after it on any stream.
  const ff::EventId done = d.record_event(side);
  d.wait_event(done);
  d.copy(b.raw(), a.raw(), a.nbytes(), 0);
  CHECK(read(d, b) == std::vector<float>(4, 3.0f));
  // A blocking read waits for its stream: later work on any stream is ordered after it.
  d.copy_from_host(a.raw(), host.data(), a.nbytes(), side);
  // Unknown events and streams are refused.
  CHECK_THROWS(d.stream_wait_event(0, 1 << 30));
  CHECK_THROWS(d.record_event(1 << 20));
}

TEST_CASE("emulated GPU streams: a captured graph accesses its buffers when launched",
          "[emulated_gpu]") {
  EmulatedGpuDevice& d = fftest::emulated_gpu_device();
  ff::Backend& be = fftest::emulated_gpu_backend();
  const ff::StreamId side = d.create_stream();
  ff::Tensor a = ff::Tensor::zeros(d, {4});
  d.begin_capture(0);
  be.scale(a.data<float>(), 4, 2.0f);
  const ff::GraphId g = d.end_capture(0);
  std::vector<float> host(4, 1.0f);
  d.stream_wait_event(side, d.record_event(0));  // after zeros()
  d.copy_from_host(a.raw(), host.data(), a.nbytes(), side);
  // The replayed kernel reads `a` on the compute stream: it must wait for the side stream.
  CHECK_THROWS_WITH(d.launch_graph(g, 0), Catch::Contains("race"));
  d.stream_wait_event(0, d.record_event(side));
  d.launch_graph(g, 0);
  CHECK(read(d, a) == std::vector<float>(4, 2.0f));  // the refused launch ran nothing
  d.destroy_graph(g);
}
