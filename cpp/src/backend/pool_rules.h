// The per-window rules of pooling that the CPU kernels (cpu/pooling.cpp) and the CUDA kernels
// (cuda/cuda_pooling.cu) share, as FF_HD functions: a window clipped to the input, the "beats"
// comparison that makes max pooling keep the first maximum (and the first NaN), and the range of
// windows that contain one input position (the CUDA backward passes gather through it).
#pragma once
#include <cstdint>

#include "backend/window_geometry.h"
#include "core/host_device.h"

namespace ff {

// The window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1).
struct PoolWindow {
  int64_t h0, h1, w0, w1;
};

// Written so that no sum overflows for any pool size (a pool may be far larger than the input
// with "same" padding): hs + KH is formed only when it stays below H.
FF_HD inline PoolWindow pool_window(const Pool2DGeometry& g, int64_t oh, int64_t ow) {
  const int64_t hs = oh * g.stride_h - g.pad_top, ws = ow * g.stride_w - g.pad_left;
  return {hs > 0 ? hs : 0, g.KH >= g.H - hs ? g.H : hs + g.KH, ws > 0 ? ws : 0,
          g.KW >= g.W - ws ? g.W : ws + g.KW};
}

// A value v beats the running maximum b when it is larger, or when it is NaN and b is not (so
// the first NaN wins for good and later values never replace it).
FF_HD inline bool pool_beats(float v, float b) { return v > b || (v != v && b == b); }

// The windows along one axis (stride, pad before, window size k, out windows) whose unclipped
// extent [o * stride - pad, o * stride - pad + k) holds input position i (0 <= i): [*first,
// *last], empty when *first > *last. Floor divisions, so negative numerators round down.
FF_HD inline void pool_windows_containing(int64_t i, int64_t stride, int64_t pad, int64_t k,
                                          int64_t out, int64_t* first, int64_t* last) {
  // o * stride <= i + pad  and  o * stride > i + pad - k.
  const int64_t hi = i + pad;  // >= 0
  const int64_t lo_num = hi - k;
  const int64_t lo_floor = lo_num >= 0 ? lo_num / stride : -((-lo_num + stride - 1) / stride);
  const int64_t f = lo_floor + 1, l = hi / stride;
  *first = f > 0 ? f : 0;
  *last = l < out - 1 ? l : out - 1;
}

}  // namespace ff
