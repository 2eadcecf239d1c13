// The emulated GPU (see emulated_gpu.h): device memory at non-host-addressable addresses, every
// kernel the CPU backend's behind a wrapper that translates pointers, and faithful graph capture.
#include "emulated_gpu.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "backend/registry.h"
#include "test_util.h"

namespace fftest {

using ff::StreamId;

EmulatedGpuDevice::~EmulatedGpuDevice() {
  for (const auto& [addr, bytes] : allocations_) std::free(reinterpret_cast<void*>(addr));
}

int64_t EmulatedGpuDevice::memory_capacity() const {
  return capacity_ > 0 ? capacity_ : ff::cpu_device().memory_capacity();
}

void EmulatedGpuDevice::refuse_in_capture(const std::string& what) {
  if (!capturing_) return;
  if (capture_error_.empty()) capture_error_ = what;
  throw std::logic_error("emulated GPU: " + what + " during graph capture (not allowed on a GPU: "
                         "the capture is invalidated)");
}

void* EmulatedGpuDevice::allocate_bytes(size_t bytes) {
  refuse_in_capture("allocate");
  if (bytes > std::numeric_limits<size_t>::max() - 63) throw std::bad_alloc();
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw std::bad_alloc();
  std::lock_guard<std::mutex> lock(mu_);
  allocations_[reinterpret_cast<uintptr_t>(p)] = bytes == 0 ? 1 : bytes;
  return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) + kDeviceOffset);
}

void EmulatedGpuDevice::deallocate_bytes(void* ptr, size_t bytes) {
  void* r = real(ptr, "deallocate");
  if (capturing_) {
    // A destructor may free during capture: no throw here, end_capture reports it.
    if (capture_error_.empty()) capture_error_ = "deallocate";
    deferred_frees_.emplace_back(r, bytes);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  allocations_.erase(reinterpret_cast<uintptr_t>(r));
  access_.erase(reinterpret_cast<uintptr_t>(r));
  std::free(r);
}

bool EmulatedGpuDevice::is_device_pointer(const void* p) const {
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (a < kDeviceOffset) return false;
  const uintptr_t r = a - kDeviceOffset;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = allocations_.upper_bound(r);
  if (it == allocations_.begin()) return false;
  --it;
  return r < it->first + it->second;
}

void* EmulatedGpuDevice::real(const void* p, const char* what, size_t bytes) const {
  if (!p) return nullptr;
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (a < kDeviceOffset)
    throw std::logic_error(std::string("emulated GPU: ") + what +
                           " got a host pointer where device memory was expected");
  const uintptr_t r = a - kDeviceOffset;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = allocations_.upper_bound(r);
  // One past the end of an allocation is a valid (empty) range's start.
  if (it == allocations_.begin() || (--it, r > it->first + it->second) ||
      r + bytes > it->first + it->second)
    throw std::logic_error(std::string("emulated GPU: ") + what +
                           " got a pointer outside every live allocation");
  return reinterpret_cast<void*>(r);
}

void EmulatedGpuDevice::enqueue(std::function<void()> work, StreamId stream) {
  if (capturing_ && stream == capture_stream_) {
    recording_.push_back(std::move(work));
    return;
  }
  work();
}

void* EmulatedGpuDevice::kernel_argument(const void* p) {
  void* r = real(p, "a kernel argument");
  if (r) access(0, {}, {r});
  return r;
}

// ---- stream-order checks ----

void EmulatedGpuDevice::set_op_log(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  op_log_ = on;
  ops_.clear();
}

std::vector<EmulatedGpuDevice::Op> EmulatedGpuDevice::ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

void EmulatedGpuDevice::log_locked(const Op& op) {
  if (op_log_) ops_.push_back(op);
}

uintptr_t EmulatedGpuDevice::base_locked(uintptr_t r) const {
  auto it = allocations_.upper_bound(r);
  if (it == allocations_.begin()) return 0;
  --it;
  return r <= it->first + it->second ? it->first : 0;
}

std::vector<uint64_t>& EmulatedGpuDevice::clock_locked(StreamId stream) {
  const size_t n = static_cast<size_t>(streams_);
  if (clocks_.size() < n) clocks_.resize(n);
  for (auto& c : clocks_) c.resize(n, 0);
  host_clock_.resize(n, 0);
  return clocks_.at(static_cast<size_t>(stream));
}

uint64_t EmulatedGpuDevice::tick_locked(StreamId stream) {
  std::vector<uint64_t>& c = clock_locked(stream);
  // Work enqueued after a host wait comes after what the host waited for.
  for (size_t t = 0; t < c.size(); ++t) c[t] = std::max(c[t], host_clock_[t]);
  return ++c[static_cast<size_t>(stream)];
}

void EmulatedGpuDevice::check_locked(const Access& a, StreamId stream, uintptr_t base,
                                     const char* what) const {
  if (a.stream < 0 || a.stream == stream) return;
  const auto& c = clocks_.at(static_cast<size_t>(stream));
  if (c.at(static_cast<size_t>(a.stream)) >= a.time) return;
  throw std::logic_error("emulated GPU: race on the allocation at " +
                         std::to_string(base + kDeviceOffset) + ": stream " +
                         std::to_string(stream) + " accesses it without waiting for the " + what +
                         " of stream " + std::to_string(a.stream) +
                         " (record an event there and stream_wait_event it)");
}

void EmulatedGpuDevice::access(StreamId stream, std::initializer_list<const void*> reads,
                               std::initializer_list<const void*> writes) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool captured = capturing_ && stream == capture_stream_;
  std::vector<uintptr_t> rb, wb;
  for (const void* p : reads)
    if (uintptr_t b = p ? base_locked(reinterpret_cast<uintptr_t>(p)) : 0) rb.push_back(b);
  for (const void* p : writes)
    if (uintptr_t b = p ? base_locked(reinterpret_cast<uintptr_t>(p)) : 0) wb.push_back(b);
  if (captured) {
    capture_touched_.insert(rb.begin(), rb.end());
    capture_touched_.insert(wb.begin(), wb.end());
    return;
  }
  const uint64_t now = tick_locked(stream);
  for (uintptr_t b : rb) {
    AccessState& st = access_[b];
    check_locked(st.write, stream, b, "write");
  }
  for (uintptr_t b : wb) {
    AccessState& st = access_[b];
    check_locked(st.write, stream, b, "write");
    for (const Access& r : st.reads) check_locked(r, stream, b, "read");
  }
  for (uintptr_t b : rb) {
    AccessState& st = access_[b];
    auto it = std::find_if(st.reads.begin(), st.reads.end(),
                           [&](const Access& r) { return r.stream == stream; });
    if (it != st.reads.end()) it->time = now;
    else st.reads.push_back({stream, now});
  }
  for (uintptr_t b : wb) {
    AccessState& st = access_[b];
    st.write = {stream, now};
    st.reads.clear();
  }
}

void EmulatedGpuDevice::access_bases_locked(StreamId stream, const std::set<uintptr_t>& writes) {
  const uint64_t now = tick_locked(stream);
  for (uintptr_t b : writes) {
    if (!allocations_.count(b)) continue;  // freed since the capture
    AccessState& st = access_[b];
    check_locked(st.write, stream, b, "write");
    for (const Access& r : st.reads) check_locked(r, stream, b, "read");
    st.write = {stream, now};
    st.reads.clear();
  }
}

void* EmulatedGpuDevice::allocate_pinned(size_t bytes) {
  refuse_in_capture("allocate_pinned");
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (!p) throw std::bad_alloc();
  std::lock_guard<std::mutex> lock(mu_);
  pinned_[reinterpret_cast<uintptr_t>(p)] = bytes == 0 ? 1 : bytes;
  return p;
}

void EmulatedGpuDevice::deallocate_pinned(void* ptr, size_t) {
  if (!ptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pinned_.erase(reinterpret_cast<uintptr_t>(ptr));
  }
  std::free(ptr);
}

bool EmulatedGpuDevice::is_pinned(const void* p, size_t bytes) const {
  const auto a = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pinned_.upper_bound(a);
  return it != pinned_.begin() && (--it, a + bytes <= it->first + it->second);
}

void EmulatedGpuDevice::copy_from_host(void* dst, const void* host_src, size_t bytes,
                                       StreamId stream) {
  if (!bytes) return;
  if (reinterpret_cast<uintptr_t>(host_src) >= kDeviceOffset)
    throw std::logic_error("emulated GPU: copy_from_host from device memory");
  void* d = real(dst, "copy_from_host", bytes);
  if (capturing_) {
    const auto a = reinterpret_cast<uintptr_t>(host_src);
    bool pinned = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pinned_.upper_bound(a);
      pinned = it != pinned_.begin() && (--it, a + bytes <= it->first + it->second);
    }
    if (!pinned && stream == capture_stream_)
      refuse_in_capture("copy_from_host from pageable host memory");
  }
  access(stream, {}, {d});
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_locked({Op::CopyFromHost, stream, 0, dst, host_src, bytes});
  }
  // The host source is read when the copy runs (at replay, for a captured copy).
  enqueue([d, host_src, bytes] { std::memcpy(d, host_src, bytes); }, stream);
}

void EmulatedGpuDevice::copy(void* dst, const void* src, size_t bytes, StreamId stream) {
  if (!bytes || dst == src) return;
  void* d = real(dst, "copy (destination)", bytes);
  void* s = real(src, "copy (source)", bytes);
  access(stream, {s}, {d});
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_locked({Op::Copy, stream, 0, dst, src, bytes});
  }
  enqueue([d, s, bytes] { std::memmove(d, s, bytes); }, stream);
}

void EmulatedGpuDevice::zero(void* dst, size_t bytes, StreamId stream) {
  if (!bytes) return;
  void* d = real(dst, "zero", bytes);
  access(stream, {}, {d});
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_locked({Op::Zero, stream, 0, dst, nullptr, bytes});
  }
  enqueue([d, bytes] { std::memset(d, 0, bytes); }, stream);
}

void EmulatedGpuDevice::read_to_host(void* host_dst, const void* src, size_t bytes,
                                     StreamId stream) {
  refuse_in_capture("copy_to_host");
  if (!bytes) return;
  if (reinterpret_cast<uintptr_t>(host_dst) >= kDeviceOffset)
    throw std::logic_error("emulated GPU: copy_to_host into device memory");
  void* s = real(src, "copy_to_host", bytes);
  access(stream, {s}, {});
  {
    // A blocking read: the host has waited for everything on `stream`.
    std::lock_guard<std::mutex> lock(mu_);
    const auto& c = clock_locked(stream);
    for (size_t t = 0; t < c.size(); ++t) host_clock_[t] = std::max(host_clock_[t], c[t]);
  }
  std::memcpy(host_dst, s, bytes);
}

void EmulatedGpuDevice::read_to_host_async(void* pinned_dst, const void* src, size_t bytes,
                                           StreamId stream) {
  refuse_in_capture("copy_to_host_async");
  read_to_host(pinned_dst, src, bytes, stream);
}

void EmulatedGpuDevice::synchronize_all() {
  refuse_in_capture("synchronize");
  std::lock_guard<std::mutex> lock(mu_);
  clock_locked(0);
  for (const auto& c : clocks_)
    for (size_t t = 0; t < c.size(); ++t) host_clock_[t] = std::max(host_clock_[t], c[t]);
}

StreamId EmulatedGpuDevice::create_stream() {
  refuse_in_capture("create_stream");
  std::lock_guard<std::mutex> lock(mu_);
  return streams_++;
}

ff::EventId EmulatedGpuDevice::record_event(StreamId stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stream < 0 || stream >= streams_)
    throw std::logic_error("emulated GPU: record_event on stream " + std::to_string(stream) +
                           ", which does not exist");
  const ff::EventId id = ++events_;
  // The event stands for all the work enqueued on the stream so far (and what it waited for).
  std::vector<uint64_t> c = clock_locked(stream);
  for (size_t t = 0; t < c.size(); ++t) c[t] = std::max(c[t], host_clock_[t]);
  event_clocks_[id] = std::move(c);
  log_locked({Op::Record, stream, id, nullptr, nullptr, 0});
  return id;
}

void EmulatedGpuDevice::stream_wait_event(StreamId stream, ff::EventId event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = event_clocks_.find(event);
  if (it == event_clocks_.end() || stream < 0 || stream >= streams_)
    throw std::logic_error("emulated GPU: stream_wait_event(" + std::to_string(stream) + ", " +
                           std::to_string(event) + "): no such stream or event");
  std::vector<uint64_t>& c = clock_locked(stream);
  for (size_t t = 0; t < c.size() && t < it->second.size(); ++t)
    c[t] = std::max(c[t], it->second[t]);
  log_locked({Op::StreamWait, stream, event, nullptr, nullptr, 0});
}

void EmulatedGpuDevice::wait_event(ff::EventId event) {
  refuse_in_capture("wait_event");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = event_clocks_.find(event);
  if (it == event_clocks_.end())
    throw std::logic_error("emulated GPU: wait_event(" + std::to_string(event) + "): no such event");
  clock_locked(0);
  for (size_t t = 0; t < host_clock_.size() && t < it->second.size(); ++t)
    host_clock_[t] = std::max(host_clock_[t], it->second[t]);
  log_locked({Op::HostWait, -1, event, nullptr, nullptr, 0});
}

void EmulatedGpuDevice::begin_capture(StreamId stream) {
  if (capturing_) throw std::logic_error("emulated GPU: begin_capture while capturing");
  capturing_ = true;
  capture_stream_ = stream;
  capture_error_.clear();
  recording_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  capture_touched_.clear();
}

ff::GraphId EmulatedGpuDevice::end_capture(StreamId) {
  if (!capturing_) throw std::logic_error("emulated GPU: end_capture without begin_capture");
  capturing_ = false;
  std::vector<std::function<void()>> recorded;
  recorded.swap(recording_);
  for (const auto& [r, bytes] : deferred_frees_) {
    std::lock_guard<std::mutex> lock(mu_);
    allocations_.erase(reinterpret_cast<uintptr_t>(r));
    access_.erase(reinterpret_cast<uintptr_t>(r));
    std::free(r);
  }
  deferred_frees_.clear();
  if (!capture_error_.empty()) {
    const std::string what = capture_error_;
    capture_error_.clear();
    throw std::logic_error("emulated GPU: the capture was invalidated by " + what);
  }
  last_graph_size_ = recorded.size();
  graphs_.push_back(std::make_unique<std::vector<std::function<void()>>>(std::move(recorded)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    graph_touched_.resize(graphs_.size());
    graph_touched_.back().swap(capture_touched_);
  }
  return static_cast<ff::GraphId>(graphs_.size());
}

void EmulatedGpuDevice::launch_graph(ff::GraphId graph, StreamId stream) {
  refuse_in_capture("launch_graph");
  if (graph < 1 || static_cast<size_t>(graph) > graphs_.size() || !graphs_[graph - 1])
    throw std::logic_error("emulated GPU: no graph " + std::to_string(graph));
  ++launches_;
  {
    // The graph's work accesses, on the launch stream, what it recorded.
    std::lock_guard<std::mutex> lock(mu_);
    access_bases_locked(stream, graph_touched_.at(static_cast<size_t>(graph - 1)));
    log_locked({Op::Launch, stream, 0, nullptr, nullptr, 0});
  }
  for (const auto& work : *graphs_[static_cast<size_t>(graph - 1)]) work();
}

void EmulatedGpuDevice::destroy_graph(ff::GraphId graph) {
  if (graph < 1 || static_cast<size_t>(graph) > graphs_.size()) return;
  graphs_[static_cast<size_t>(graph - 1)].reset();
}

int64_t EmulatedGpuDevice::live_graphs() const {
  int64_t n = 0;
  for (const auto& g : graphs_) n += g != nullptr;
  return n;
}

namespace {

// Every kernel: pointers translated to real addresses now (frozen), values captured by value,
// the CPU kernel run now or at replay.
class EmulatedGpuBackend final : public ff::Backend {
 public:
  explicit EmulatedGpuBackend(EmulatedGpuDevice& d)
      : Backend(d), dev_(&d), cpu_(&ff::backend_for(ff::DeviceType::CPU)) {
    set_half_storage(true);  // as the CUDA backend: mixed precision keeps 16-bit buffers
  }
  std::string name() const override { return "emulated-gpu"; }

 private:
  template <class T>
  T* r(T* p) const {
    return static_cast<T*>(dev_->kernel_argument(p));
  }
  template <class F>
  void run(F&& f) {
    dev_->enqueue(std::forward<F>(f));
  }
  ff::ScheduleSpec translate(const ff::ScheduleSpec& s) const {
    ff::ScheduleSpec t = s;
    t.boundaries = r(s.boundaries);
    t.values = r(s.values);
    return t;
  }

 public:
  void fill(float* x, int64_t n, float value) override {
    run([c = cpu_, x = r(x), n, value] { c->fill(x, n, value); });
  }
  void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
            int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) override {
    run([=, cp = cpu_, a = r(a), b = r(b), c = r(c)] {
      cp->gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    });
  }
  void gemm_bf16(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc) override {
    run([=, cp = cpu_, a = r(a), b = r(b), c = r(c)] {
      cp->gemm_bf16(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    });
  }
  void bias_activation(float* y, const float* bias, int64_t rows, int64_t cols, ff::Activation act,
                       float alpha, float* preact) override {
    run([=, cp = cpu_, y = r(y), bias = r(bias), preact = r(preact)] {
      cp->bias_activation(y, bias, rows, cols, act, alpha, preact);
    });
  }
  void activation_forward(ff::Activation act, float alpha, const float* x, float* y, int64_t rows,
                          int64_t cols) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->activation_forward(act, alpha, x, y, rows, cols); });
  }
  void activation_backward(ff::Activation act, float alpha, const float* x, const float* y,
                           const float* dy, float* dx, int64_t rows, int64_t cols) override {
    run([=, cp = cpu_, x = r(x), y = r(y), dy = r(dy), dx = r(dx)] {
      cp->activation_backward(act, alpha, x, y, dy, dx, rows, cols);
    });
  }
  void column_sum(const float* x, int64_t rows, int64_t cols, float* out) override {
    run([=, cp = cpu_, x = r(x), out = r(out)] { cp->column_sum(x, rows, cols, out); });
  }
  void dropout(const float* x, float* y, int64_t n, float rate, uint64_t seed,
               const ff::StepState* state) override {
    run([=, cp = cpu_, x = r(x), y = r(y), state = r(state)] {
      cp->dropout(x, y, n, rate, seed, state);
    });
  }
  void scale(float* x, int64_t n, float factor) override {
    run([=, cp = cpu_, x = r(x)] { cp->scale(x, n, factor); });
  }
  void round_to_precision(float* dst, const float* src, int64_t n, ff::DType dtype) override {
    run([=, cp = cpu_, dst = r(dst), src = r(src)] { cp->round_to_precision(dst, src, n, dtype); });
  }
  void add(float* y, const float* x, int64_t n) override {
    run([=, cp = cpu_, y = r(y), x = r(x)] { cp->add(y, x, n); });
  }
  void multiply(float* y, const float* x, int64_t n) override {
    run([=, cp = cpu_, y = r(y), x = r(x)] { cp->multiply(y, x, n); });
  }
  void copy_2d(float* dst, int64_t dst_ld, const float* src, int64_t src_ld, int64_t rows,
               int64_t cols) override {
    run([=, cp = cpu_, dst = r(dst), src = r(src)] {
      cp->copy_2d(dst, dst_ld, src, src_ld, rows, cols);
    });
  }
  void gather_rows(void* dst, const void* src, int64_t src_rows, int64_t row_bytes,
                   const int64_t* indices, int64_t count) override {
    run([=, cp = cpu_, dst = r(dst), src = r(src), indices = r(indices)] {
      cp->gather_rows(dst, src, src_rows, row_bytes, indices, count);
    });
  }
  void clip(float* x, int64_t n, float lo, float hi) override {
    run([=, cp = cpu_, x = r(x)] { cp->clip(x, n, lo, hi); });
  }
  void clip_by_norm(float* x, int64_t n, float max_norm) override {
    run([=, cp = cpu_, x = r(x)] { cp->clip_by_norm(x, n, max_norm); });
  }
  void penalty(const float* x, int64_t n, const ff::PenaltySpec& spec, double* sum,
               double sum_scale, float* grad, bool accumulate,
               const ff::StepState* state) override {
    run([=, cp = cpu_, x = r(x), sum = r(sum), grad = r(grad), state = r(state)] {
      cp->penalty(x, n, spec, sum, sum_scale, grad, accumulate, state);
    });
  }
  void random_values(ff::RandomKind kind, float a, float b, uint64_t seed, const float* x,
                     float* y, int64_t n, const ff::StepState* state, bool training) override {
    run([=, cp = cpu_, x = r(x), y = r(y), state = r(state)] {
      cp->random_values(kind, a, b, seed, x, y, n, state, training);
    });
  }
  void add_sum_squares(const float* x, int64_t n, ff::StepState* state) override {
    run([=, cp = cpu_, x = r(x), state = r(state)] { cp->add_sum_squares(x, n, state); });
  }
  void clip_by_global_norm(float* x, int64_t n, float max_norm,
                           const ff::StepState* state) override {
    run([=, cp = cpu_, x = r(x), state = r(state)] {
      cp->clip_by_global_norm(x, n, max_norm, state);
    });
  }
  void step_begin(ff::StepState* state, bool training) override {
    run([=, cp = cpu_, state = r(state)] { cp->step_begin(state, training); });
  }
  void step_end(ff::StepState* state, bool training, double count) override {
    run([=, cp = cpu_, state = r(state)] { cp->step_end(state, training, count); });
  }
  void prepare_update(ff::StepState* state, const ff::ScheduleSpec& schedule, float beta1,
                      float beta2) override {
    run([=, cp = cpu_, state = r(state), s = translate(schedule)] {
      cp->prepare_update(state, s, beta1, beta2);
    });
  }
  void finish_update(ff::StepState* state) override {
    run([=, cp = cpu_, state = r(state)] { cp->finish_update(state); });
  }
  void loss_scale_update(ff::StepState* state, int64_t growth_steps) override {
    run([=, cp = cpu_, state = r(state)] { cp->loss_scale_update(state, growth_steps); });
  }
  void check_finite(const float* x, int64_t n, ff::StepState* state) override {
    run([=, cp = cpu_, x = r(x), state = r(state)] { cp->check_finite(x, n, state); });
  }
  void apply_loss_scale(float* x, int64_t n, const ff::StepState* state, bool unscale) override {
    run([=, cp = cpu_, x = r(x), state = r(state)] { cp->apply_loss_scale(x, n, state, unscale); });
  }
  void check_numerics(const float* x, int64_t n, ff::StepState* state, int32_t node,
                      ff::StepPass pass) override {
    run([=, cp = cpu_, x = r(x), state = r(state)] {
      cp->check_numerics(x, n, state, node, pass);
    });
  }
  void check_numerics_sums(ff::StepState* state, int32_t first, int32_t count,
                           int32_t output) override {
    run([=, cp = cpu_, state = r(state)] { cp->check_numerics_sums(state, first, count, output); });
  }
  void loss_mse(const float* pred, const float* target, int64_t rows, int64_t cols,
                double* loss_sum, float* grad, float grad_scale) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), loss_sum = r(loss_sum), grad = r(grad)] {
      cp->loss_mse(pred, target, rows, cols, loss_sum, grad, grad_scale);
    });
  }
  void loss_mae(const float* pred, const float* target, int64_t rows, int64_t cols,
                double* loss_sum, float* grad, float grad_scale) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), loss_sum = r(loss_sum), grad = r(grad)] {
      cp->loss_mae(pred, target, rows, cols, loss_sum, grad, grad_scale);
    });
  }
  void loss_huber(const float* pred, const float* target, int64_t rows, int64_t cols, float delta,
                  double* loss_sum, float* grad, float grad_scale) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), loss_sum = r(loss_sum), grad = r(grad)] {
      cp->loss_huber(pred, target, rows, cols, delta, loss_sum, grad, grad_scale);
    });
  }
  void loss_binary_crossentropy(const float* pred, const float* target, int64_t rows, int64_t cols,
                                bool from_logits, double* loss_sum, float* grad,
                                float grad_scale) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), loss_sum = r(loss_sum), grad = r(grad)] {
      cp->loss_binary_crossentropy(pred, target, rows, cols, from_logits, loss_sum, grad,
                                   grad_scale);
    });
  }
  void loss_categorical_crossentropy(const float* pred, const float* target, int64_t rows,
                                     int64_t cols, bool from_logits, double* loss_sum, float* grad,
                                     float grad_scale) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), loss_sum = r(loss_sum), grad = r(grad)] {
      cp->loss_categorical_crossentropy(pred, target, rows, cols, from_logits, loss_sum, grad,
                                        grad_scale);
    });
  }
  void loss_sparse_categorical_crossentropy(const float* pred, const int64_t* labels, int64_t rows,
                                            int64_t cols, bool from_logits, double* loss_sum,
                                            float* grad, float grad_scale, ff::StepState* state,
                                            int32_t output) override {
    run([=, cp = cpu_, pred = r(pred), labels = r(labels), loss_sum = r(loss_sum), grad = r(grad),
         state = r(state)] {
      cp->loss_sparse_categorical_crossentropy(pred, labels, rows, cols, from_logits, loss_sum,
                                               grad, grad_scale, state, output);
    });
  }
  void metric_binary_accuracy(const float* pred, const float* target, int64_t rows, int64_t cols,
                              float threshold, double* sum) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), sum = r(sum)] {
      cp->metric_binary_accuracy(pred, target, rows, cols, threshold, sum);
    });
  }
  void metric_categorical_accuracy(const float* pred, const float* target, int64_t rows,
                                   int64_t cols, double* sum) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), sum = r(sum)] {
      cp->metric_categorical_accuracy(pred, target, rows, cols, sum);
    });
  }
  void metric_sparse_categorical_accuracy(const float* pred, const int64_t* labels, int64_t rows,
                                          int64_t cols, double* sum) override {
    run([=, cp = cpu_, pred = r(pred), labels = r(labels), sum = r(sum)] {
      cp->metric_sparse_categorical_accuracy(pred, labels, rows, cols, sum);
    });
  }
  void metric_mean_error(const float* pred, const float* target, int64_t rows, int64_t cols,
                         int power, double* sum) override {
    run([=, cp = cpu_, pred = r(pred), target = r(target), sum = r(sum)] {
      cp->metric_mean_error(pred, target, rows, cols, power, sum);
    });
  }
  void sgd_update(float* p, const float* g, float* momentum_buf, int64_t n, float momentum,
                  bool nesterov, const ff::StepState* state) override {
    run([=, cp = cpu_, p = r(p), g = r(g), mb = r(momentum_buf), state = r(state)] {
      cp->sgd_update(p, g, mb, n, momentum, nesterov, state);
    });
  }
  void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n,
                   float beta1, float beta2, float epsilon, const ff::StepState* state) override {
    run([=, cp = cpu_, p = r(p), g = r(g), m = r(m), v = r(v), vhat = r(vhat), state = r(state)] {
      cp->adam_update(p, g, m, v, vhat, n, beta1, beta2, epsilon, state);
    });
  }
  void rmsprop_update(float* p, const float* g, float* v, float* mean_grad, float* momentum_buf,
                      int64_t n, float rho, float momentum, float epsilon,
                      const ff::StepState* state) override {
    run([=, cp = cpu_, p = r(p), g = r(g), v = r(v), mg = r(mean_grad), mb = r(momentum_buf),
         state = r(state)] {
      cp->rmsprop_update(p, g, v, mg, mb, n, rho, momentum, epsilon, state);
    });
  }
  void adagrad_update(float* p, const float* g, float* acc, int64_t n, float epsilon,
                      const ff::StepState* state) override {
    run([=, cp = cpu_, p = r(p), g = r(g), acc = r(acc), state = r(state)] {
      cp->adagrad_update(p, g, acc, n, epsilon, state);
    });
  }
  void decay_weights(float* p, int64_t n, float weight_decay, const ff::StepState* state) override {
    run([=, cp = cpu_, p = r(p), state = r(state)] { cp->decay_weights(p, n, weight_decay, state); });
  }
  void conv2d_forward(const ff::Conv2DGeometry& g, const float* x, const float* kernel,
                      float* y) override {
    run([=, cp = cpu_, x = r(x), kernel = r(kernel), y = r(y)] {
      cp->conv2d_forward(g, x, kernel, y);
    });
  }
  void conv2d_backward_data(const ff::Conv2DGeometry& g, const float* dy, const float* kernel,
                            float* dx) override {
    run([=, cp = cpu_, dy = r(dy), kernel = r(kernel), dx = r(dx)] {
      cp->conv2d_backward_data(g, dy, kernel, dx);
    });
  }
  void conv2d_backward_filter(const ff::Conv2DGeometry& g, const float* x, const float* dy,
                              float* dkernel, float* dbias) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), dk = r(dkernel), db = r(dbias)] {
      cp->conv2d_backward_filter(g, x, dy, dk, db);
    });
  }
  void max_pool2d_forward(const ff::Pool2DGeometry& g, const float* x, float* y) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->max_pool2d_forward(g, x, y); });
  }
  void max_pool2d_backward(const ff::Pool2DGeometry& g, const float* x, const float* dy,
                           float* dx) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), dx = r(dx)] { cp->max_pool2d_backward(g, x, dy, dx); });
  }
  void avg_pool2d_forward(const ff::Pool2DGeometry& g, const float* x, float* y) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->avg_pool2d_forward(g, x, y); });
  }
  void avg_pool2d_backward(const ff::Pool2DGeometry& g, const float* dy, float* dx) override {
    run([=, cp = cpu_, dy = r(dy), dx = r(dx)] { cp->avg_pool2d_backward(g, dy, dx); });
  }
  void zero_pad2d_forward(const ff::Pad2DGeometry& g, const float* x, float* y) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->zero_pad2d_forward(g, x, y); });
  }
  void zero_pad2d_backward(const ff::Pad2DGeometry& g, const float* dy, float* dx) override {
    run([=, cp = cpu_, dy = r(dy), dx = r(dx)] { cp->zero_pad2d_backward(g, dy, dx); });
  }
  void batch_norm_forward_training(const float* x, float* y, int64_t rows, int64_t channels,
                                   const float* gamma, const float* beta, float epsilon,
                                   float momentum, float* moving_mean, float* moving_var,
                                   float* saved_mean, float* saved_inv_std,
                                   const ff::StepState* state) override {
    run([=, cp = cpu_, x = r(x), y = r(y), gamma = r(gamma), beta = r(beta), mm = r(moving_mean),
         mv = r(moving_var), sm = r(saved_mean), si = r(saved_inv_std), state = r(state)] {
      cp->batch_norm_forward_training(x, y, rows, channels, gamma, beta, epsilon, momentum, mm, mv,
                                      sm, si, state);
    });
  }
  void batch_norm_forward_inference(const float* x, float* y, int64_t rows, int64_t channels,
                                    const float* gamma, const float* beta,
                                    const float* moving_mean, const float* moving_var,
                                    float epsilon, float* saved_mean,
                                    float* saved_inv_std) override {
    run([=, cp = cpu_, x = r(x), y = r(y), gamma = r(gamma), beta = r(beta), mm = r(moving_mean),
         mv = r(moving_var), sm = r(saved_mean), si = r(saved_inv_std)] {
      cp->batch_norm_forward_inference(x, y, rows, channels, gamma, beta, mm, mv, epsilon, sm, si);
    });
  }
  void batch_norm_backward(const float* x, const float* dy, int64_t rows, int64_t channels,
                           const float* gamma, const float* saved_mean, const float* saved_inv_std,
                           bool batch_stats, float* dx, float* dgamma, float* dbeta) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), gamma = r(gamma), sm = r(saved_mean),
         si = r(saved_inv_std), dx = r(dx), dg = r(dgamma), db = r(dbeta)] {
      cp->batch_norm_backward(x, dy, rows, channels, gamma, sm, si, batch_stats, dx, dg, db);
    });
  }
  void scale_shift(const float* x, float* y, int64_t n, float s, float offset) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->scale_shift(x, y, n, s, offset); });
  }
  void normalize(const float* x, float* y, int64_t rows, int64_t channels, const float* mean,
                 const float* variance, bool invert) override {
    run([=, cp = cpu_, x = r(x), y = r(y), mean = r(mean), variance = r(variance)] {
      cp->normalize(x, y, rows, channels, mean, variance, invert);
    });
  }
  void affine_transform_images(const float* x, float* y, int64_t n, int64_t h, int64_t w,
                               int64_t c, const float* transforms, ff::Interpolation interpolation,
                               ff::FillMode fill_mode, float fill_value) override {
    run([=, cp = cpu_, x = r(x), y = r(y), t = r(transforms)] {
      cp->affine_transform_images(x, y, n, h, w, c, t, interpolation, fill_mode, fill_value);
    });
  }
  void affine_transform_images_backward(const float* dy, float* dx, int64_t n, int64_t h,
                                        int64_t w, int64_t c, const float* transforms,
                                        ff::Interpolation interpolation,
                                        ff::FillMode fill_mode) override {
    run([=, cp = cpu_, dy = r(dy), dx = r(dx), t = r(transforms)] {
      cp->affine_transform_images_backward(dy, dx, n, h, w, c, t, interpolation, fill_mode);
    });
  }
  void flip_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c,
                   const float* flips) override {
    run([=, cp = cpu_, x = r(x), y = r(y), f = r(flips)] { cp->flip_images(x, y, n, h, w, c, f); });
  }
  void random_flips(const ff::FlipSpec& spec, int64_t n, float* flags,
                    const ff::StepState* state) override {
    run([=, cp = cpu_, flags = r(flags), state = r(state)] {
      cp->random_flips(spec, n, flags, state);
    });
  }
  void random_affine_matrices(const ff::AffineSpec& spec, int64_t n, int64_t h, int64_t w,
                              float* matrices, const ff::StepState* state) override {
    run([=, cp = cpu_, m = r(matrices), state = r(state)] {
      cp->random_affine_matrices(spec, n, h, w, m, state);
    });
  }
  void category_encode(const float* x, int64_t numel, int64_t last, int64_t num_tokens,
                       ff::CategoryMode mode, bool skip_negative, float* y, ff::StepState* state,
                       int32_t node) override {
    run([=, cp = cpu_, x = r(x), y = r(y), state = r(state)] {
      cp->category_encode(x, numel, last, num_tokens, mode, skip_negative, y, state, node);
    });
  }
  void relu_forward(const float* x, float* y, int64_t n, float max_value, float negative_slope,
                    float threshold) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] {
      cp->relu_forward(x, y, n, max_value, negative_slope, threshold);
    });
  }
  void relu_backward(const float* x, const float* dy, float* dx, int64_t n, float max_value,
                     float negative_slope, float threshold) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), dx = r(dx)] {
      cp->relu_backward(x, dy, dx, n, max_value, negative_slope, threshold);
    });
  }
  void prelu_forward(const ff::PReluGeometry& g, const float* x, const float* alpha,
                     float* y) override {
    run([=, cp = cpu_, x = r(x), alpha = r(alpha), y = r(y)] { cp->prelu_forward(g, x, alpha, y); });
  }
  void prelu_backward(const ff::PReluGeometry& g, const float* x, const float* alpha,
                      const float* dy, float* dx, float* dalpha) override {
    run([=, cp = cpu_, x = r(x), alpha = r(alpha), dy = r(dy), dx = r(dx), da = r(dalpha)] {
      cp->prelu_backward(g, x, alpha, dy, dx, da);
    });
  }
  void upsample2d_forward(const ff::Upsample2DGeometry& g, const float* x, float* y) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->upsample2d_forward(g, x, y); });
  }
  void upsample2d_backward(const ff::Upsample2DGeometry& g, const float* dy, float* dx) override {
    run([=, cp = cpu_, dy = r(dy), dx = r(dx)] { cp->upsample2d_backward(g, dy, dx); });
  }
  void layer_norm_forward(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
                          const float* beta, float epsilon, float* saved_mean,
                          float* saved_inv_std) override {
    run([=, cp = cpu_, x = r(x), y = r(y), gamma = r(gamma), beta = r(beta), sm = r(saved_mean),
         si = r(saved_inv_std)] {
      cp->layer_norm_forward(x, y, rows, cols, gamma, beta, epsilon, sm, si);
    });
  }
  void layer_norm_backward(const float* x, const float* dy, int64_t rows, int64_t cols,
                           const float* gamma, const float* saved_mean, const float* saved_inv_std,
                           float* dx, float* dgamma, float* dbeta) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), gamma = r(gamma), sm = r(saved_mean),
         si = r(saved_inv_std), dx = r(dx), dg = r(dgamma), db = r(dbeta)] {
      cp->layer_norm_backward(x, dy, rows, cols, gamma, sm, si, dx, dg, db);
    });
  }
  void depthwise_conv2d_forward(const ff::Conv2DGeometry& g, const float* x, const float* k,
                                float* y) override {
    run([=, cp = cpu_, x = r(x), k = r(k), y = r(y)] { cp->depthwise_conv2d_forward(g, x, k, y); });
  }
  void depthwise_conv2d_backward_data(const ff::Conv2DGeometry& g, const float* dy, const float* k,
                                      float* dx) override {
    run([=, cp = cpu_, dy = r(dy), k = r(k), dx = r(dx)] {
      cp->depthwise_conv2d_backward_data(g, dy, k, dx);
    });
  }
  void depthwise_conv2d_backward_filter(const ff::Conv2DGeometry& g, const float* x,
                                        const float* dy, float* dk) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), dk = r(dk)] {
      cp->depthwise_conv2d_backward_filter(g, x, dy, dk);
    });
  }

  // ---- 16-bit storage: the CPU's reference implementations (decode, float32, encode) ----
  void cast(void* dst, ff::DType dt, const void* src, ff::DType st, int64_t n) override {
    run([=, cp = cpu_, dst = r(dst), src = r(src)] { cp->cast(dst, dt, src, st, n); });
  }
  void add_half(void* y, const void* x, int64_t n, ff::DType h) override {
    run([=, cp = cpu_, y = r(y), x = r(x)] { cp->add_half(y, x, n, h); });
  }
  void gemm_half(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                 const void* b, int64_t ldb, void* c, int64_t ldc, ff::DType ct,
                 ff::DType h) override {
    run([=, cp = cpu_, a = r(a), b = r(b), c = r(c)] {
      cp->gemm_half(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, ct, h);
    });
  }
  void dense_forward_half(const void* x, const void* w, const void* bias, int64_t rows,
                          int64_t in, int64_t units, ff::Activation act, float alpha, void* y,
                          void* preact, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), w = r(w), bias = r(bias), y = r(y), preact = r(preact)] {
      cp->dense_forward_half(x, w, bias, rows, in, units, act, alpha, y, preact, h);
    });
  }
  void bias_activation_half(void* y, const void* bias, int64_t rows, int64_t cols,
                            ff::Activation act, float alpha, void* preact, ff::DType h) override {
    run([=, cp = cpu_, y = r(y), bias = r(bias), preact = r(preact)] {
      cp->bias_activation_half(y, bias, rows, cols, act, alpha, preact, h);
    });
  }
  void activation_forward_half(ff::Activation act, float alpha, const void* x, void* y,
                               int64_t rows, int64_t cols, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] {
      cp->activation_forward_half(act, alpha, x, y, rows, cols, h);
    });
  }
  void activation_backward_half(ff::Activation act, float alpha, const void* x, const void* y,
                                const void* dy, void* dx, int64_t rows, int64_t cols,
                                ff::DType h) override {
    run([=, cp = cpu_, x = r(x), y = r(y), dy = r(dy), dx = r(dx)] {
      cp->activation_backward_half(act, alpha, x, y, dy, dx, rows, cols, h);
    });
  }
  void column_sum_half(const void* x, int64_t rows, int64_t cols, float* out,
                       ff::DType h) override {
    run([=, cp = cpu_, x = r(x), out = r(out)] { cp->column_sum_half(x, rows, cols, out, h); });
  }
  void dropout_half(const void* x, void* y, int64_t n, float rate, uint64_t seed,
                    const ff::StepState* state, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), y = r(y), state = r(state)] {
      cp->dropout_half(x, y, n, rate, seed, state, h);
    });
  }
  void conv2d_forward_half(const ff::Conv2DGeometry& g, const void* x, const void* kernel,
                           void* y, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), kernel = r(kernel), y = r(y)] {
      cp->conv2d_forward_half(g, x, kernel, y, h);
    });
  }
  void conv2d_backward_data_half(const ff::Conv2DGeometry& g, const void* dy, const void* kernel,
                                 void* dx, ff::DType h) override {
    run([=, cp = cpu_, dy = r(dy), kernel = r(kernel), dx = r(dx)] {
      cp->conv2d_backward_data_half(g, dy, kernel, dx, h);
    });
  }
  void conv2d_backward_filter_half(const ff::Conv2DGeometry& g, const void* x, const void* dy,
                                   float* dkernel, float* dbias, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), dk = r(dkernel), db = r(dbias)] {
      cp->conv2d_backward_filter_half(g, x, dy, dk, db, h);
    });
  }
  void max_pool2d_forward_half(const ff::Pool2DGeometry& g, const void* x, void* y,
                               ff::DType h) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->max_pool2d_forward_half(g, x, y, h); });
  }
  void max_pool2d_backward_half(const ff::Pool2DGeometry& g, const void* x, const void* dy,
                                void* dx, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), dx = r(dx)] {
      cp->max_pool2d_backward_half(g, x, dy, dx, h);
    });
  }
  void avg_pool2d_forward_half(const ff::Pool2DGeometry& g, const void* x, void* y,
                               ff::DType h) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->avg_pool2d_forward_half(g, x, y, h); });
  }
  void avg_pool2d_backward_half(const ff::Pool2DGeometry& g, const void* dy, void* dx,
                                ff::DType h) override {
    run([=, cp = cpu_, dy = r(dy), dx = r(dx)] { cp->avg_pool2d_backward_half(g, dy, dx, h); });
  }
  void batch_norm_forward_training_half(const void* x, void* y, int64_t rows, int64_t channels,
                                        const float* gamma, const float* beta, float epsilon,
                                        float momentum, float* moving_mean, float* moving_var,
                                        float* saved_mean, float* saved_inv_std,
                                        const ff::StepState* state, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), y = r(y), gamma = r(gamma), beta = r(beta), mm = r(moving_mean),
         mv = r(moving_var), sm = r(saved_mean), si = r(saved_inv_std), state = r(state)] {
      cp->batch_norm_forward_training_half(x, y, rows, channels, gamma, beta, epsilon, momentum,
                                           mm, mv, sm, si, state, h);
    });
  }
  void batch_norm_forward_inference_half(const void* x, void* y, int64_t rows, int64_t channels,
                                         const float* gamma, const float* beta,
                                         const float* moving_mean, const float* moving_var,
                                         float epsilon, float* saved_mean, float* saved_inv_std,
                                         ff::DType h) override {
    run([=, cp = cpu_, x = r(x), y = r(y), gamma = r(gamma), beta = r(beta), mm = r(moving_mean),
         mv = r(moving_var), sm = r(saved_mean), si = r(saved_inv_std)] {
      cp->batch_norm_forward_inference_half(x, y, rows, channels, gamma, beta, mm, mv, epsilon,
                                            sm, si, h);
    });
  }
  void batch_norm_backward_half(const void* x, const void* dy, int64_t rows, int64_t channels,
                                const float* gamma, const float* saved_mean,
                                const float* saved_inv_std, bool batch_stats, void* dx,
                                float* dgamma, float* dbeta, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), dy = r(dy), gamma = r(gamma), sm = r(saved_mean),
         si = r(saved_inv_std), dx = r(dx), dg = r(dgamma), db = r(dbeta)] {
      cp->batch_norm_backward_half(x, dy, rows, channels, gamma, sm, si, batch_stats, dx, dg, db,
                                   h);
    });
  }
  void check_numerics_half(const void* x, int64_t n, ff::StepState* state, int32_t node,
                           ff::StepPass pass, ff::DType h) override {
    run([=, cp = cpu_, x = r(x), state = r(state)] {
      cp->check_numerics_half(x, n, state, node, pass, h);
    });
  }

  // ==== ff.ops ====
  void op_unary(ff::UnaryKind op, float p0, float p1, const float* x, float* y,
                int64_t n) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->op_unary(op, p0, p1, x, y, n); });
  }
  void op_unary_backward(ff::UnaryKind op, float p0, float p1, const float* x, const float* y,
                         const float* dy, float* dx, int64_t n) override {
    run([=, cp = cpu_, x = r(x), y = r(y), dy = r(dy), dx = r(dx)] {
      cp->op_unary_backward(op, p0, p1, x, y, dy, dx, n);
    });
  }
  void op_binary(ff::BinaryKind op, const float* a, float as, const float* b, float bs, float* y,
                 const ff::BroadcastGeometry& g) override {
    run([=, cp = cpu_, a = r(a), b = r(b), y = r(y)] { cp->op_binary(op, a, as, b, bs, y, g); });
  }
  void op_binary_backward(ff::BinaryKind op, const float* a, float as, const float* b, float bs,
                          const float* dy, float* da, float* db,
                          const ff::BroadcastGeometry& g) override {
    run([=, cp = cpu_, a = r(a), b = r(b), dy = r(dy), da = r(da), db = r(db)] {
      cp->op_binary_backward(op, a, as, b, bs, dy, da, db, g);
    });
  }
  void op_where(const float* c, float cs, const float* x, float xs, const float* y, float ys,
                float* out, const ff::BroadcastGeometry& g) override {
    run([=, cp = cpu_, c = r(c), x = r(x), y = r(y), out = r(out)] {
      cp->op_where(c, cs, x, xs, y, ys, out, g);
    });
  }
  void op_where_backward(const float* c, float cs, const float* dy, float* dx, float* dy_out,
                         const ff::BroadcastGeometry& g) override {
    run([=, cp = cpu_, c = r(c), dy = r(dy), dx = r(dx), dyo = r(dy_out)] {
      cp->op_where_backward(c, cs, dy, dx, dyo, g);
    });
  }
  void op_reduce(ff::ReduceKind op, const float* x, float* y,
                 const ff::ReduceGeometry& g) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->op_reduce(op, x, y, g); });
  }
  void op_reduce_backward(ff::ReduceKind op, const float* x, const float* y, const float* dy,
                          float* dx, const ff::ReduceGeometry& g) override {
    run([=, cp = cpu_, x = r(x), y = r(y), dy = r(dy), dx = r(dx)] {
      cp->op_reduce_backward(op, x, y, dy, dx, g);
    });
  }
  void op_strided_copy(const float* x, float* y, const ff::BroadcastGeometry& g) override {
    run([=, cp = cpu_, x = r(x), y = r(y)] { cp->op_strided_copy(x, y, g); });
  }
  void op_take(const float* x, const float* idx, float* y, int64_t outer, int64_t size,
               int64_t n, int64_t inner, ff::StepState* state, int32_t node) override {
    run([=, cp = cpu_, x = r(x), idx = r(idx), y = r(y), state = r(state)] {
      cp->op_take(x, idx, y, outer, size, n, inner, state, node);
    });
  }
  void op_take_backward(const float* idx, const float* dy, float* dx, int64_t outer,
                        int64_t size, int64_t n, int64_t inner) override {
    run([=, cp = cpu_, idx = r(idx), dy = r(dy), dx = r(dx)] {
      cp->op_take_backward(idx, dy, dx, outer, size, n, inner);
    });
  }
  // ==== end of ff.ops ====

 private:
  EmulatedGpuDevice* dev_;
  ff::Backend* cpu_;
};

}  // namespace

EmulatedGpuDevice& emulated_gpu_device() {
  static EmulatedGpuDevice* device = new EmulatedGpuDevice();  // outlives every test's tensors
  return *device;
}

ff::Backend& emulated_gpu_backend() {
  static EmulatedGpuBackend* backend = new EmulatedGpuBackend(emulated_gpu_device());
  return *backend;
}

namespace {
// FORGEFLOW_TEST_DEVICE=emulated-gpu runs every test that asks fftest::backend() on the emulated
// GPU (a whole-suite sweep for host dereferences of device memory).
const bool kEnvOverride = [] {
  const char* env = std::getenv("FORGEFLOW_TEST_DEVICE");
  if (env && std::string(env) == "emulated-gpu") backend_override() = &emulated_gpu_backend();
  return true;
}();
}  // namespace

}  // namespace fftest
