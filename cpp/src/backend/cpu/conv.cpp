// CPU convolution (NHWC, float32 storage): oneDNN's convolution primitives where the build has
// oneDNN (forward, data gradient, and the filter gradient over fixed groups of samples; bfloat16
// primitives for layers computing in bfloat16), im2col + the backend's GEMM otherwise.
//
// Why (measured 2026-11-23 on the project's 2-core AMD EPYC VM, AVX-512, oneDNN 2.6.3; the small
// CNN of benchmarks/bench_cnn.py, batch 128, one thread, ms per call, im2col + oneDNN sgemm
// vs oneDNN primitive; filter gradient without the bias sum):
//   conv 28x28x1 -> 32 3x3     forward 1.15 vs 0.47-0.53   filter gradient 1.19 vs 0.35
//   conv 13x13x32 -> 64 3x3    forward 2.88 vs 2.45-2.52   filter gradient 3.12 vs 2.46
//                              data gradient 3.38-3.44 vs 2.87-2.90
// Whole training step of that CNN through model.fit (2 threads): im2col everywhere 12,930-13,000
// samples/s; oneDNN forward + data gradient 14,380-14,560 samples/s (PyTorch 1.13 CPU eager on the
// same machine: 3,900). So forward and data gradient use oneDNN (its brgconv / jit kernels; the
// kernel is reordered from Keras's HWIO layout into the primitive's blocked layout on each call,
// 18K floats at most here). oneDNN's filter gradient is faster too, but it splits the batch
// reduction over threads, so its bits change with the thread count (checked: its forward and
// data gradient give identical bits for 1 and 2 threads, its filter gradient does not); the CPU
// backend promises results independent of the thread count, so the filter gradient stays on
// im2col + GEMM over fixed groups of samples (below). If oneDNN has no primitive for a geometry,
// that geometry runs im2col.
//
// bfloat16 (a layer under mixed_bfloat16, Conv2DGeometry::compute): forward and data gradient run
// oneDNN's bfloat16 primitives (AVX-512 BF16 where the CPU has it), reading x / dy converted to
// bfloat16 (exact: the model rounded them) and the kernel reordered to bfloat16, accumulating and
// writing float32. Where oneDNN has no bfloat16 primitive, the float32 one runs on the same values.
//
// Filter gradient through oneDNN (added after the measurements above, when ResNet-18's 64-512
// channel convolutions showed im2col's filter gradient at about 2.5x the forward's time): fixed
// groups of samples (an eighth of the batch, at most 32; geometry only), each group's
// backward-weights primitive created and run on a single thread (the thread count of this file's
// own parallel region's threads set to 1, so the primitive plans no cross-thread reduction), the
// partial gradients added in group order: the same bits for any number of threads. Where oneDNN
// has no primitive, the im2col path below runs.
//
// im2col path: the batch is processed in chunks of samples whose column matrix stays near
// kColumnBudget bytes (cache-sized; the chunk depends on the geometry only).
//   forward          col = im2col(x chunk); y chunk = col (rows x K) * kernel (K x F)
//   filter gradient  partial[g] = col^T * dy for fixed groups of samples (kFilterGroupBudget of
//                    columns each, groups over threads), added in group order; dbias = column
//                    sums of dy in fixed blocks of rows added in order
//   data gradient    dcol = dy chunk * kernel^T; dx = col2im(dcol), written as a gather (each
//                    input pixel sums its own window taps in a fixed order): no races, the same
//                    bits for any number of threads.
// K = KH*KW*C, the kernel's (kh, kw, c) rows in Keras's (KH, KW, C, F) layout, so no kernel
// transpose is ever needed. A 1x1 kernel with stride 1 and no padding skips im2col entirely.
// im2col/col2im split rows over OpenMP threads (cpu::parallel_for); the GEMM threads itself.
#include "backend/cpu/conv.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <vector>
#ifdef FORGEFLOW_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include "backend/cpu/onednn_cache.h"
#endif

#include "backend/cpu/matmul_bf16.h"
#include "backend/cpu/parallel.h"
#include "core/errors.h"
#include "core/shape.h"

namespace ff::cpu {
namespace {

constexpr int64_t kColumnBudget = int64_t{4} << 20;  // bytes of column matrix per chunk
constexpr int64_t kFilterGroupBudget = int64_t{1} << 20;  // per group of the filter gradient
constexpr int64_t kBiasRowBlock = 256;               // rows per partial sum of the bias gradient

#ifdef FORGEFLOW_HAVE_ONEDNN
std::atomic<ConvImpl> g_impl{ConvImpl::OneDnn};
#else
std::atomic<ConvImpl> g_impl{ConvImpl::Im2col};
#endif

// A grow-only, 64-byte aligned buffer per calling thread (the model's step runs on one thread;
// concurrent predict calls from several threads each get their own).
float* workspace(int64_t floats) {
  struct Buffer {
    float* ptr = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(ptr); }
  };
  thread_local Buffer buf;
  if (buf.size < floats) {
    std::free(buf.ptr);
    buf.ptr = nullptr;
    buf.size = 0;
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
    buf.ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!buf.ptr) throw std::bad_alloc();
    buf.size = floats;
  }
  return buf.ptr;
}

bool pointwise(const Conv2DGeometry& g) {
  return g.KH == 1 && g.KW == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.OH == g.H && g.OW == g.W;
}

int64_t taps(const Conv2DGeometry& g) { return g.KH * g.KW * g.C; }

// The im2col column matrix of one sample is OH*OW x KH*KW*C floats: within the element limits
// of the output and the kernel, but their product can pass int64 or any memory (a huge kernel on
// a huge image is a valid config). Checked here, on the calling thread, before a chunk size is
// derived from it or a parallel region allocates it; a ValueError naming the geometry otherwise.
void check_column_size(Backend& be, const Conv2DGeometry& g) {
  int64_t bytes = 0;
  const bool overflow = __builtin_mul_overflow(g.OH * g.OW, taps(g), &bytes) ||
                        __builtin_mul_overflow(bytes, static_cast<int64_t>(sizeof(float)), &bytes);
  if (!overflow && bytes <= be.device().memory_capacity()) return;
  throw ValueError("convolution of a " + std::to_string(g.H) + "x" + std::to_string(g.W) + "x" +
                   std::to_string(g.C) + " input with a " + std::to_string(g.KH) + "x" +
                   std::to_string(g.KW) + " kernel: its column matrix (" +
                   std::to_string(g.OH * g.OW) + " positions x " + std::to_string(taps(g)) +
                   " taps per sample) needs " +
                   (overflow ? std::string("more than 2^63 - 1 bytes")
                             : bytes_str(static_cast<double>(bytes))) +
                   " per sample, more than the " +
                   bytes_str(static_cast<double>(be.device().memory_capacity())) + " of memory of the " +
                   be.name() + " backend");
}

int64_t samples_within(const Conv2DGeometry& g, int64_t budget) {
  const int64_t per_sample = g.OH * g.OW * taps(g) * static_cast<int64_t>(sizeof(float));
  return std::max<int64_t>(1, std::min<int64_t>(g.N, budget / std::max<int64_t>(per_sample, 1)));
}
int64_t chunk_samples(const Conv2DGeometry& g) { return samples_within(g, kColumnBudget); }
// At most kFilterGroupBudget of columns, and at least 8 groups when the batch allows (work for
// every thread); a function of the geometry only.
int64_t filter_group_samples(const Conv2DGeometry& g) {
  return std::min(samples_within(g, kFilterGroupBudget), std::max<int64_t>(1, g.N / 8));
}

inline void copy_floats(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}
inline void zero_floats(float* dst, int64_t n) { std::memset(dst, 0, sizeof(float) * n); }
inline void add_floats(float* __restrict dst, const float* __restrict src, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Column rows for the (sample, output row) pairs [r0, r1) of a chunk starting at sample n0:
// col[(r*OW + ow), (kh, kw, c)] = x[n0 + r/OH, ih, iw, c], zero outside the input.
void im2col_rows(const Conv2DGeometry& g, const float* x, float* col, int64_t n0, int64_t r0,
                 int64_t r1) {
  const int64_t K = taps(g), C = g.C, KWC = g.KW * g.C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = n0 + r / g.OH, oh = r % g.OH;
    const float* xn = x + n * g.H * g.W * C;
    float* out = col + r * g.OW * K;
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      float* o = out + ow * K;
      const int64_t iw0 = ow * g.stride_w - g.pad_left;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
        float* ok = o + kh * KWC;
        if (ih < 0 || ih >= g.H) {
          zero_floats(ok, KWC);
          continue;
        }
        const float* row = xn + ih * g.W * C;
        if (g.dilation_w == 1) {
          // The taps kw = 0..KW-1 are consecutive pixels: one run of in-range values.
          const int64_t lo = std::max<int64_t>(0, -iw0), hi = std::min<int64_t>(g.KW, g.W - iw0);
          if (lo >= hi) {
            zero_floats(ok, KWC);
            continue;
          }
          if (lo > 0) zero_floats(ok, lo * C);
          copy_floats(ok + lo * C, row + (iw0 + lo) * C, (hi - lo) * C);
          if (hi < g.KW) zero_floats(ok + hi * C, (g.KW - hi) * C);
          continue;
        }
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t iw = iw0 + kw * g.dilation_w;
          if (iw < 0 || iw >= g.W) zero_floats(ok + kw * C, C);
          else copy_floats(ok + kw * C, row + iw * C, C);
        }
      }
    }
  }
}

// dx rows (sample, input row) [r0, r1) of a chunk (dx already offset to its first sample): each
// input pixel gathers the dcol entries of the taps that read it, kh then kw.
void col2im_rows(const Conv2DGeometry& g, const float* dcol, float* dx, int64_t r0, int64_t r1) {
  const int64_t K = taps(g), C = g.C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.H, ih = r % g.H;
    const float* dn = dcol + n * g.OH * g.OW * K;
    float* out = dx + r * g.W * C;
    zero_floats(out, g.W * C);
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t t = ih + g.pad_top - kh * g.dilation_h;
      if (t < 0 || t % g.stride_h != 0) continue;
      const int64_t oh = t / g.stride_h;
      if (oh >= g.OH) continue;
      for (int64_t iw = 0; iw < g.W; ++iw) {
        float* o = out + iw * C;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t u = iw + g.pad_left - kw * g.dilation_w;
          if (u < 0 || u % g.stride_w != 0) continue;
          const int64_t ow = u / g.stride_w;
          if (ow >= g.OW) continue;
          add_floats(o, dn + (oh * g.OW + ow) * K + (kh * g.KW + kw) * C, C);
        }
      }
    }
  }
}

// out[f] = sum over rows of dy[r, f]: partial sums of kBiasRowBlock rows (spread over threads),
// then added block by block in order, so the bits never depend on the thread count.
void bias_gradient(const float* dy, int64_t rows, int64_t F, float* out) {
  const int64_t blocks = (rows + kBiasRowBlock - 1) / kBiasRowBlock;
  std::vector<float> partial(static_cast<size_t>(std::max<int64_t>(blocks, 1) * F), 0.0f);
  parallel_for(blocks, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* p = partial.data() + b * F;
      for (int64_t r = b * kBiasRowBlock, e = std::min(rows, r + kBiasRowBlock); r < e; ++r)
        add_floats(p, dy + r * F, F);
    }
  }, rows * F, 1);
  std::fill(out, out + F, 0.0f);
  for (int64_t b = 0; b < blocks; ++b) add_floats(out, partial.data() + b * F, F);
}

// dkernel = the sum of `groups` partial gradients of KF values each, added in group order (the
// same bits for any number of threads).
void sum_group_partials(const std::vector<float>& partial, int64_t groups, int64_t KF,
                        float* dkernel) {
  parallel_for(KF, [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      float s = partial[e];
      for (int64_t gi = 1; gi < groups; ++gi) s += partial[gi * KF + e];
      dkernel[e] = s;
    }
  }, KF * groups);
}

void im2col_forward(Backend& be, const Conv2DGeometry& g, const float* x, const float* kernel,
                    float* y) {
  if (pointwise(g)) {
    be.gemm(false, false, g.N * g.H * g.W, g.F, g.C, 1.0f, x, g.C, kernel, g.F, 0.0f, y, g.F);
    return;
  }
  check_column_size(be, g);
  const int64_t K = taps(g), chunk = chunk_samples(g), pix = g.OH * g.OW;
  float* col = workspace(chunk * pix * K);
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nc = std::min(chunk, g.N - n0);
    parallel_for(nc * g.OH, [&](int64_t r0, int64_t r1) { im2col_rows(g, x, col, n0, r0, r1); },
                 nc * pix * K, 1);
    be.gemm(false, false, nc * pix, g.F, K, 1.0f, col, K, kernel, g.F, 0.0f, y + n0 * pix * g.F,
            g.F);
  }
}

void im2col_backward_data(Backend& be, const Conv2DGeometry& g, const float* dy,
                          const float* kernel, float* dx) {
  if (pointwise(g)) {
    be.gemm(false, true, g.N * g.H * g.W, g.C, g.F, 1.0f, dy, g.F, kernel, g.F, 0.0f, dx, g.C);
    return;
  }
  check_column_size(be, g);
  const int64_t K = taps(g), chunk = chunk_samples(g), pix = g.OH * g.OW;
  float* dcol = workspace(chunk * pix * K);
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nc = std::min(chunk, g.N - n0);
    be.gemm(false, true, nc * pix, K, g.F, 1.0f, dy + n0 * pix * g.F, g.F, kernel, g.F, 0.0f,
            dcol, K);
    float* dxc = dx + n0 * g.H * g.W * g.C;
    parallel_for(nc * g.H, [&](int64_t r0, int64_t r1) { col2im_rows(g, dcol, dxc, r0, r1); },
                 nc * pix * K, 1);
  }
}

#ifdef FORGEFLOW_HAVE_ONEDNN
// ---- oneDNN primitives, created once per (geometry, thread count) and cached per thread ----

// What every primitive of a geometry shares: the caller's float32 buffers (NHWC activations,
// Keras's HWIO kernel; logical dims NCHW / OIHW), what the primitives read (bfloat16 or float32),
// and the window.
struct OneDnnDescs {
  dnnl::memory::desc src, dst, weights_user;               // float32, as the caller stores them
  dnnl::memory::desc src_read, dst_read, weights_read;     // weights_read: format "any"
  dnnl::memory::dims strides, dilates, pad_l, pad_r;
};

OneDnnDescs onednn_descs(const Conv2DGeometry& g, bool bf16) {
  using dnnl::memory;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  const dt low = bf16 ? dt::bf16 : dt::f32;
  const memory::dims src{g.N, g.C, g.H, g.W}, dst{g.N, g.F, g.OH, g.OW};
  const memory::dims wdims{g.F, g.C, g.KH, g.KW};
  // Padding after: what the output size implies (0 when the last window ends early: oneDNN
  // rounds the output size down as the valid formula does).
  const int64_t pad_bottom = std::max<int64_t>(
      0, (g.OH - 1) * g.stride_h + (g.KH - 1) * g.dilation_h + 1 - g.H - g.pad_top);
  const int64_t pad_right = std::max<int64_t>(
      0, (g.OW - 1) * g.stride_w + (g.KW - 1) * g.dilation_w + 1 - g.W - g.pad_left);
  return {memory::desc(src, dt::f32, tag::nhwc), memory::desc(dst, dt::f32, tag::nhwc),
          memory::desc(wdims, dt::f32, tag::hwio), memory::desc(src, low, tag::nhwc),
          memory::desc(dst, low, tag::nhwc), memory::desc(wdims, low, tag::any),
          {g.stride_h, g.stride_w}, {g.dilation_h - 1, g.dilation_w - 1},
          {g.pad_top, g.pad_left}, {pad_bottom, pad_right}};
}

// What a primitive reads, when it is not the caller's buffer itself: the kernel in the primitive's
// weights layout, or an activation converted to bfloat16 for a bfloat16 primitive (exactly: the
// model rounded the values already). No conversion when both descriptors are the same.
struct Conversion {
  bool active = false;
  dnnl::memory buffer;
  dnnl::reorder convert;
  void make(const dnnl::engine& engine, const dnnl::memory::desc& from,
            const dnnl::memory::desc& to) {
    active = to != from;
    if (!active) return;
    buffer = dnnl::memory(to, engine);
    convert = dnnl::reorder(dnnl::reorder::primitive_desc(engine, from, engine, to));
  }
  dnnl::memory read(dnnl::stream& stream, dnnl::memory& value) {
    if (!active) return value;
    convert.execute(stream, value, buffer);
    return buffer;
  }
};

struct OneDnnConv {
  dnnl::engine engine;
  dnnl::stream stream;
  OneDnnDescs d;
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backward_data;
  Conversion weights_fwd, weights_bwd;  // the kernel in each primitive's layout
  // bfloat16 primitives (Conv2DGeometry::compute) read x and dy converted to bfloat16; results
  // and accumulation stay float32.
  Conversion src_low, diff_dst_low;
};

using ConvKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int,
                           bool>;

ConvKey key_of(const Conv2DGeometry& g, bool bf16) {
  return {g.N, g.H, g.W, g.C, g.KH, g.KW, g.F, g.stride_h, g.stride_w, g.dilation_h,
          g.dilation_w, g.pad_top, g.pad_left, g.OH, g.OW, omp_get_max_threads(), bf16};
}

dnnl::convolution_forward::primitive_desc forward_pd(const OneDnnDescs& d,
                                                     const dnnl::engine& engine) {
  return dnnl::convolution_forward::primitive_desc(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                      dnnl::algorithm::convolution_direct, d.src_read,
                                      d.weights_read, d.dst, d.strides, d.dilates, d.pad_l,
                                      d.pad_r),
      engine);
}

std::unique_ptr<OneDnnConv> make_onednn_conv(const Conv2DGeometry& g, bool bf16) {
  auto c = std::make_unique<OneDnnConv>();
  c->engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
  c->stream = dnnl::stream(c->engine);
  c->d = onednn_descs(g, bf16);
  const OneDnnDescs& d = c->d;
  auto fwd_pd = forward_pd(d, c->engine);
  auto bwd_pd = dnnl::convolution_backward_data::primitive_desc(
      dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, d.src,
                                            d.weights_read, d.dst_read, d.strides, d.dilates,
                                            d.pad_l, d.pad_r),
      c->engine, fwd_pd);
  c->forward = dnnl::convolution_forward(fwd_pd);
  c->backward_data = dnnl::convolution_backward_data(bwd_pd);
  c->weights_fwd.make(c->engine, d.weights_user, fwd_pd.weights_desc());
  c->weights_bwd.make(c->engine, d.weights_user, bwd_pd.weights_desc());
  c->src_low.make(c->engine, d.src, d.src_read);  // bfloat16 primitives only
  c->diff_dst_low.make(c->engine, d.dst, d.dst_read);
  return c;
}

// Per thread, by (geometry, thread count, bfloat16): a primitive's reordered-weights and
// conversion buffers are mutable state (onednn_cache.h).
template <class Primitives>
Primitives* cached(std::map<ConvKey, std::unique_ptr<Primitives>>& cache, size_t max_cached,
                   const Conv2DGeometry& g, bool bf16,
                   std::unique_ptr<Primitives> (*make)(const Conv2DGeometry&, bool)) {
  return cached_primitives(cache, max_cached, key_of(g, bf16), [&] { return make(g, bf16); });
}

// The bfloat16 primitives when the layer computes in bfloat16 and oneDNN has them for this CPU
// and geometry, else the float32 ones (the same values: bfloat16 inputs are float32 values), else
// null (the caller then uses im2col).
OneDnnConv* onednn_conv(const Conv2DGeometry& g) {
  thread_local std::map<ConvKey, std::unique_ptr<OneDnnConv>> cache;
  if (g.compute == DType::BFloat16 && bf16_kernels_available())
    if (OneDnnConv* c = cached(cache, 64, g, true, &make_onednn_conv)) return c;
  return cached(cache, 64, g, false, &make_onednn_conv);
}

// oneDNN plans a primitive for the calling thread's OpenMP thread count (part of the cache key):
// set it to what the convolution's multiply-adds pay for (threading.h), at least 2M per thread.
void set_conv_threads(const Conv2DGeometry& g) {
  set_library_threads(g.N * g.OH * g.OW * g.F * taps(g), int64_t{2} << 20);
}

bool onednn_forward(const Conv2DGeometry& g, const float* x, const float* kernel, float* y) {
  set_conv_threads(g);
  OneDnnConv* c = onednn_conv(g);
  if (!c) return false;
  dnnl::memory src(c->d.src, c->engine, const_cast<float*>(x));
  dnnl::memory dst(c->d.dst, c->engine, y);
  dnnl::memory w(c->d.weights_user, c->engine, const_cast<float*>(kernel));
  c->forward.execute(c->stream, {{DNNL_ARG_SRC, c->src_low.read(c->stream, src)},
                                 {DNNL_ARG_WEIGHTS, c->weights_fwd.read(c->stream, w)},
                                 {DNNL_ARG_DST, dst}});
  c->stream.wait();
  return true;
}

bool onednn_backward_data(const Conv2DGeometry& g, const float* dy, const float* kernel,
                          float* dx) {
  set_conv_threads(g);
  OneDnnConv* c = onednn_conv(g);
  if (!c) return false;
  dnnl::memory diff_dst(c->d.dst, c->engine, const_cast<float*>(dy));
  dnnl::memory diff_src(c->d.src, c->engine, dx);
  dnnl::memory w(c->d.weights_user, c->engine, const_cast<float*>(kernel));
  c->backward_data.execute(c->stream,
                           {{DNNL_ARG_DIFF_DST, c->diff_dst_low.read(c->stream, diff_dst)},
                            {DNNL_ARG_WEIGHTS, c->weights_bwd.read(c->stream, w)},
                            {DNNL_ARG_DIFF_SRC, diff_src}});
  c->stream.wait();
  return true;
}

// ---- the filter gradient through oneDNN, with bits independent of the thread count ----
// oneDNN's backward-weights primitive splits its batch reduction over however many threads it
// plans for. Here every primitive is created and run on one thread (inside this file's own
// parallel region, with that thread's OpenMP thread count set to 1), over fixed groups of
// samples that depend on the geometry only; the groups' partial gradients are then added in
// group order, as the im2col path does.
struct OneDnnFilterGrad {
  dnnl::engine engine;
  dnnl::stream stream;
  OneDnnDescs d;
  dnnl::convolution_backward_weights primitive;
  dnnl::memory diff_weights, scratchpad;  // the primitive's layout; its own scratchpad
  bool reorder_out = false;
  dnnl::reorder to_user;
  Conversion src_low, diff_dst_low;
};

std::unique_ptr<OneDnnFilterGrad> make_onednn_filter_grad(const Conv2DGeometry& g, bool bf16) {
  auto c = std::make_unique<OneDnnFilterGrad>();
  c->engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
  c->stream = dnnl::stream(c->engine);
  c->d = onednn_descs(g, bf16);
  const OneDnnDescs& d = c->d;
  const dnnl::memory::desc diff_weights_any(d.weights_user.dims(),
                                            dnnl::memory::data_type::f32,
                                            dnnl::memory::format_tag::any);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto pd = dnnl::convolution_backward_weights::primitive_desc(
      dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, d.src_read,
                                               diff_weights_any, d.dst_read, d.strides,
                                               d.dilates, d.pad_l, d.pad_r),
      attr, c->engine, forward_pd(d, c->engine));
  c->primitive = dnnl::convolution_backward_weights(pd);
  c->scratchpad = dnnl::memory(pd.scratchpad_desc(), c->engine);
  c->reorder_out = pd.diff_weights_desc() != d.weights_user;
  if (c->reorder_out) {
    c->diff_weights = dnnl::memory(pd.diff_weights_desc(), c->engine);
    c->to_user = dnnl::reorder(dnnl::reorder::primitive_desc(c->engine, pd.diff_weights_desc(),
                                                            c->engine, d.weights_user));
  }
  c->src_low.make(c->engine, d.src, d.src_read);  // bfloat16 primitives only
  c->diff_dst_low.make(c->engine, d.dst, d.dst_read);
  return c;
}

// This thread's primitive for g (g.N = a group's samples), created single-threaded; bfloat16
// first when the layer computes in it, else float32; null when oneDNN has none.
OneDnnFilterGrad* onednn_filter_grad(const Conv2DGeometry& g) {
  thread_local std::map<ConvKey, std::unique_ptr<OneDnnFilterGrad>> cache;
  if (g.compute == DType::BFloat16 && bf16_kernels_available())
    if (OneDnnFilterGrad* c = cached(cache, 128, g, true, &make_onednn_filter_grad)) return c;
  return cached(cache, 128, g, false, &make_onednn_filter_grad);
}

// One group: dkernel_out (HWIO) = the filter gradient over g.N samples starting at x / dy.
bool onednn_filter_group(const Conv2DGeometry& g, const float* x, const float* dy,
                         float* dkernel_out) {
  OneDnnFilterGrad* c = onednn_filter_grad(g);
  if (!c) return false;
  dnnl::memory src(c->d.src, c->engine, const_cast<float*>(x));
  dnnl::memory diff_dst(c->d.dst, c->engine, const_cast<float*>(dy));
  dnnl::memory out(c->d.weights_user, c->engine, dkernel_out);
  c->primitive.execute(c->stream, {{DNNL_ARG_SRC, c->src_low.read(c->stream, src)},
                                   {DNNL_ARG_DIFF_DST, c->diff_dst_low.read(c->stream, diff_dst)},
                                   {DNNL_ARG_DIFF_WEIGHTS, c->reorder_out ? c->diff_weights : out},
                                   {DNNL_ARG_SCRATCHPAD, c->scratchpad}});
  if (c->reorder_out) c->to_user.execute(c->stream, c->diff_weights, out);
  c->stream.wait();
  return true;
}

// Samples per group of the oneDNN filter gradient: an eighth of the batch (work for up to 8
// threads), at most 32; a function of the geometry only.
int64_t onednn_filter_group_samples(const Conv2DGeometry& g) {
  return std::max<int64_t>(1, std::min<int64_t>(32, (g.N + 7) / 8));
}

bool onednn_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                            float* dkernel) {
  const int64_t pix = g.OH * g.OW, KF = taps(g) * g.F;
  const int64_t group = onednn_filter_group_samples(g);
  const int64_t groups = (g.N + group - 1) / group;
  std::vector<float> partial(static_cast<size_t>(groups * KF));
  const bool ok = for_each_task_single_threaded(groups, [&](int64_t gi) {
    Conv2DGeometry gg = g;
    gg.N = std::min(group, g.N - gi * group);
    return onednn_filter_group(gg, x + gi * group * g.H * g.W * g.C, dy + gi * group * pix * g.F,
                               partial.data() + gi * KF);
  });
  if (!ok) return false;
  sum_group_partials(partial, groups, KF, dkernel);
  return true;
}
#endif

}  // namespace

bool onednn_conv_available() {
#ifdef FORGEFLOW_HAVE_ONEDNN
  return true;
#else
  return false;
#endif
}

ConvImpl conv_impl() { return g_impl.load(); }

void set_conv_impl(ConvImpl impl) {
  if (impl == ConvImpl::OneDnn && !onednn_conv_available())
    throw ValueError("this build of forgeflow has no oneDNN: convolutions run im2col + GEMM");
  g_impl.store(impl);
}

void conv2d_forward(Backend& be, const Conv2DGeometry& g, const float* x, const float* kernel,
                    float* y) {
  if (g.N == 0) return;
#ifdef FORGEFLOW_HAVE_ONEDNN
  if (g_impl.load() == ConvImpl::OneDnn && onednn_forward(g, x, kernel, y)) return;
#endif
  im2col_forward(be, g, x, kernel, y);
}

void conv2d_backward_data(Backend& be, const Conv2DGeometry& g, const float* dy,
                          const float* kernel, float* dx) {
  if (g.N == 0) return;
#ifdef FORGEFLOW_HAVE_ONEDNN
  if (g_impl.load() == ConvImpl::OneDnn && onednn_backward_data(g, dy, kernel, dx)) return;
#endif
  im2col_backward_data(be, g, dy, kernel, dx);
}

void conv2d_backward_filter(Backend& be, const Conv2DGeometry& g, const float* x,
                            const float* dy, float* dkernel, float* dbias) {
  const int64_t K = taps(g), pix = g.OH * g.OW, KF = K * g.F;
  if (dbias) bias_gradient(dy, g.N * pix, g.F, dbias);
  if (g.N == 0) {
    std::fill(dkernel, dkernel + KF, 0.0f);
    return;
  }
  if (pointwise(g)) {
    be.gemm(true, false, g.C, g.F, g.N * pix, 1.0f, x, g.C, dy, g.F, 0.0f, dkernel, g.F);
    return;
  }
#ifdef FORGEFLOW_HAVE_ONEDNN
  if (g_impl.load() == ConvImpl::OneDnn && onednn_backward_filter(g, x, dy, dkernel)) return;
#endif
  // Fixed groups of samples (sized by the geometry only), one GEMM each into its own partial
  // kernel gradient, groups spread over the threads (a GEMM inside the parallel region runs on
  // its thread); the partials are then added in group order. A K x F GEMM is too small for the
  // GEMM to split over threads by itself, so this is where the filter gradient gets its threads.
  check_column_size(be, g);
  const int64_t group = filter_group_samples(g);
  const int64_t groups = (g.N + group - 1) / group;
  if (groups == 1) {
    float* col = workspace(g.N * pix * K);
    im2col_rows(g, x, col, 0, 0, g.N * g.OH);
    be.gemm(true, false, K, g.F, g.N * pix, 1.0f, col, K, dy, g.F, 0.0f, dkernel, g.F);
    return;
  }
  std::vector<float> partial(static_cast<size_t>(groups * KF));
  parallel_for(groups, [&](int64_t g0, int64_t g1) {
    float* col = workspace(group * pix * K);  // this thread's own buffer
    for (int64_t gi = g0; gi < g1; ++gi) {
      const int64_t n0 = gi * group, nc = std::min(group, g.N - n0);
      im2col_rows(g, x, col, n0, 0, nc * g.OH);
      be.gemm(true, false, K, g.F, nc * pix, 1.0f, col, K, dy + n0 * pix * g.F, g.F, 0.0f,
              partial.data() + gi * KF, g.F);
    }
  }, kParallelMin, 1);
  sum_group_partials(partial, groups, KF, dkernel);
}

}  // namespace ff::cpu
