// The CUDA device (see cuda_device.h). Memory comes from the GPU's default memory pool through
// cudaMallocAsync on the compute stream, with the pool's release threshold raised so that freed
// memory stays in the pool (allocation during a training step costs no driver call and is legal
// inside graph capture). Copies are asynchronous on their stream; the only waits are the blocking
// read_to_host, wait_event and synchronize_all.
#include "backend/cuda/cuda_device.h"

#include <cstdint>
#include <limits>
#include <new>

#include "backend/cuda/cuda_check.h"

namespace ff::cuda {

CudaDevice::CudaDevice(int index) : index_(index) {
  FF_CUDA_CHECK(cudaSetDevice(index_));
  cudaStream_t compute = nullptr;
  FF_CUDA_CHECK(cudaStreamCreateWithFlags(&compute, cudaStreamNonBlocking));
  streams_.push_back(compute);
  FF_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool_, index_));
  uint64_t keep = std::numeric_limits<uint64_t>::max();
  FF_CUDA_CHECK(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep));
}

CudaDevice::~CudaDevice() {
  // Errors are ignored here: a destructor must not throw, and at process exit the driver may
  // already be shutting down.
  cudaSetDevice(index_);
  for (cudaStream_t s : streams_) cudaStreamSynchronize(s);
  for (cudaGraphExec_t g : graphs_)
    if (g) cudaGraphExecDestroy(g);
  for (cudaEvent_t e : events_) cudaEventDestroy(e);
  for (cudaStream_t s : streams_) cudaStreamDestroy(s);
}

int64_t CudaDevice::memory_capacity() const {
  size_t free_bytes = 0, total_bytes = 0;
  memory_info(&free_bytes, &total_bytes);
  return static_cast<int64_t>(total_bytes);
}

int64_t CudaDevice::memory_free() const {
  size_t free_bytes = 0, total_bytes = 0;
  memory_info(&free_bytes, &total_bytes);
  uint64_t reserved = 0, used = 0;
  FF_CUDA_CHECK(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved));
  FF_CUDA_CHECK(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used));
  const uint64_t pooled = reserved > used ? reserved - used : 0;
  return static_cast<int64_t>(free_bytes + pooled);
}

void CudaDevice::memory_info(size_t* free_bytes, size_t* total_bytes) const {
  FF_CUDA_CHECK(cudaSetDevice(index_));
  FF_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}

cudaStream_t CudaDevice::stream(StreamId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (id < 0 || static_cast<size_t>(id) >= streams_.size())
    throw std::logic_error("CudaDevice: no stream " + std::to_string(id));
  return streams_[static_cast<size_t>(id)];
}

void* CudaDevice::allocate_bytes(size_t bytes) {
  void* p = nullptr;
  // Zero-byte tensors still get a distinct address (cudaMallocAsync(0) returns null).
  const cudaError_t status = cudaMallocAsync(&p, bytes == 0 ? 256 : bytes, stream(0));
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free error so later launches are not blamed
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    throw ResourceExhaustedError("out of GPU memory on " + name() + ": asked for " +
                                 std::to_string(bytes) + " bytes with " +
                                 std::to_string(free_bytes) + " of " +
                                 std::to_string(total_bytes) + " bytes free");
  }
  if (status != cudaSuccess) throw_cuda_error(status, "cudaMallocAsync", __FILE__, __LINE__);
  return p;
}

void CudaDevice::deallocate_bytes(void* ptr, size_t) {
  FF_CUDA_CHECK(cudaFreeAsync(ptr, stream(0)));
}

void* CudaDevice::allocate_pinned(size_t bytes) {
  void* p = nullptr;
  const cudaError_t status = cudaHostAlloc(&p, bytes == 0 ? 64 : bytes, cudaHostAllocDefault);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw ResourceExhaustedError("out of pinned host memory: asked for " +
                                 std::to_string(bytes) + " bytes");
  }
  if (status != cudaSuccess) throw_cuda_error(status, "cudaHostAlloc", __FILE__, __LINE__);
  return p;
}

void CudaDevice::deallocate_pinned(void* ptr, size_t) {
  if (ptr) FF_CUDA_CHECK(cudaFreeHost(ptr));
}

void CudaDevice::copy_from_host(void* dst, const void* host_src, size_t bytes, StreamId s) {
  if (bytes) FF_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream(s)));
}

void CudaDevice::copy(void* dst, const void* src, size_t bytes, StreamId s) {
  if (bytes && dst != src)
    FF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream(s)));
}

void CudaDevice::zero(void* dst, size_t bytes, StreamId s) {
  if (bytes) FF_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream(s)));
}

void CudaDevice::read_to_host(void* host_dst, const void* src, size_t bytes, StreamId s) {
  if (!bytes) return;
  cudaStream_t st = stream(s);
  FF_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, st));
  FF_CUDA_CHECK(cudaStreamSynchronize(st));
}

void CudaDevice::read_to_host_async(void* pinned_dst, const void* src, size_t bytes,
                                    StreamId s) {
  if (bytes)
    FF_CUDA_CHECK(cudaMemcpyAsync(pinned_dst, src, bytes, cudaMemcpyDeviceToHost, stream(s)));
}

StreamId CudaDevice::create_stream() {
  FF_CUDA_CHECK(cudaSetDevice(index_));
  cudaStream_t s = nullptr;
  FF_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::lock_guard<std::mutex> lock(mu_);
  streams_.push_back(s);
  return static_cast<StreamId>(streams_.size() - 1);
}

EventId CudaDevice::record_event(StreamId s) {
  cudaStream_t st = stream(s);
  cudaEvent_t e = nullptr;
  EventId id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (events_.size() < kEventRing) {
      FF_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      events_.push_back(e);
      id = static_cast<EventId>(events_.size());
    } else {
      id = static_cast<EventId>(next_event_ % kEventRing) + 1;
      e = events_[static_cast<size_t>(id - 1)];
    }
    ++next_event_;
  }
  FF_CUDA_CHECK(cudaEventRecord(e, st));
  return id;
}

void CudaDevice::stream_wait_event(StreamId s, EventId event) {
  cudaStream_t st = stream(s);
  cudaEvent_t e = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (event < 1 || static_cast<size_t>(event) > events_.size())
      throw std::logic_error("CudaDevice: no event " + std::to_string(event));
    e = events_[static_cast<size_t>(event - 1)];
  }
  FF_CUDA_CHECK(cudaStreamWaitEvent(st, e, 0));
}

void CudaDevice::wait_event(EventId event) {
  cudaEvent_t e = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (event < 1 || static_cast<size_t>(event) > events_.size())
      throw std::logic_error("CudaDevice: no event " + std::to_string(event));
    e = events_[static_cast<size_t>(event - 1)];
  }
  FF_CUDA_CHECK(cudaEventSynchronize(e));
}

void CudaDevice::synchronize_all() {
  std::vector<cudaStream_t> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams = streams_;
  }
  for (cudaStream_t s : streams) FF_CUDA_CHECK(cudaStreamSynchronize(s));
}

void CudaDevice::begin_capture(StreamId s) {
  FF_CUDA_CHECK(cudaStreamBeginCapture(stream(s), cudaStreamCaptureModeThreadLocal));
}

GraphId CudaDevice::end_capture(StreamId s) {
  cudaGraph_t graph = nullptr;
  FF_CUDA_CHECK(cudaStreamEndCapture(stream(s), &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  if (status != cudaSuccess) throw_cuda_error(status, "cudaGraphInstantiate", __FILE__, __LINE__);
  std::lock_guard<std::mutex> lock(mu_);
  graphs_.push_back(exec);
  return static_cast<GraphId>(graphs_.size());
}

void CudaDevice::launch_graph(GraphId graph, StreamId s) {
  cudaStream_t st = stream(s);
  cudaGraphExec_t exec = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (graph < 1 || static_cast<size_t>(graph) > graphs_.size() || !graphs_[graph - 1])
      throw std::logic_error("CudaDevice: no graph " + std::to_string(graph));
    exec = graphs_[static_cast<size_t>(graph - 1)];
  }
  FF_CUDA_CHECK(cudaGraphLaunch(exec, st));
}

void CudaDevice::destroy_graph(GraphId graph) {
  cudaGraphExec_t exec = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (graph < 1 || static_cast<size_t>(graph) > graphs_.size()) return;
    exec = graphs_[static_cast<size_t>(graph - 1)];
    graphs_[static_cast<size_t>(graph - 1)] = nullptr;
  }
  if (exec) FF_CUDA_CHECK(cudaGraphExecDestroy(exec));
}

}  // namespace ff::cuda
