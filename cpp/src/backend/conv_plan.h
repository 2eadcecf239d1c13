// How a Conv2DGeometry (backend/window_geometry.h) is run by a convolution library that takes one
// symmetric padding per dimension (cuDNN), and the key its per-geometry plans are cached by. Host
// logic only, shared by the CUDA backend (cuda/cuda_conv.cu) and tested on the CPU
// (tests/cpp/backend/test_conv_plan.cpp).
//
// Our geometry pads by "before" amounts, the "after" amounts being what OH/OW imply (Keras's
// "same" with an even total puts the extra row after; causal Conv1D pads before only). cuDNN pads
// both sides alike and sizes its output as (in + 2*pad - span) / stride + 1. So:
//   direct    when cuDNN, given x itself and pad = (pad_top, pad_left), has exactly OH x OW
//             outputs: its windows are then ours (window oh starts at oh*stride - pad_top);
//   explicit  otherwise: x is first copied into a zero-padded buffer xp of extent
//             Hp = (OH-1)*stride_h + (KH-1)*dilation_h + 1 (likewise Wp): every row any window
//             reads, xp[r] = x[r - pad_top] inside x and 0 outside, and cuDNN runs on xp with
//             pad 0 (as TensorFlow does for asymmetric padding). The data gradient is computed
//             for xp, then its interior is copied out (rows of x no window reads get 0).
#pragma once
#include <climits>
#include <cstdint>
#include <string>
#include <tuple>

#include "backend/math_mode.h"
#include "backend/window_geometry.h"

namespace ff {

// The extent of the rows a window reads (its "span"): (k-1)*dilation + 1.
inline int64_t conv_span(int64_t k, int64_t dilation) { return (k - 1) * dilation + 1; }

// cuDNN's output size for `in` rows padded by `pad` on both sides (<= 0 when no window fits).
inline int64_t symmetric_conv_out(int64_t in, int64_t pad, int64_t k, int64_t dilation,
                                  int64_t stride) {
  const int64_t room = in + 2 * pad - conv_span(k, dilation);
  return room < 0 ? 0 : room / stride + 1;
}

struct SymmetricConv {
  bool direct = true;
  int64_t H = 0, W = 0;          // the extent of the input cuDNN sees (x's, or xp's)
  int64_t pad_h = 0, pad_w = 0;  // cuDNN's symmetric padding (0 when explicit)
};

inline SymmetricConv symmetric_conv(const Conv2DGeometry& g) {
  SymmetricConv s;
  if (symmetric_conv_out(g.H, g.pad_top, g.KH, g.dilation_h, g.stride_h) == g.OH &&
      symmetric_conv_out(g.W, g.pad_left, g.KW, g.dilation_w, g.stride_w) == g.OW) {
    s.direct = true;
    s.H = g.H;
    s.W = g.W;
    s.pad_h = g.pad_top;
    s.pad_w = g.pad_left;
    return s;
  }
  s.direct = false;
  s.H = (g.OH - 1) * g.stride_h + conv_span(g.KH, g.dilation_h);
  s.W = (g.OW - 1) * g.stride_w + conv_span(g.KW, g.dilation_w);
  return s;
}

// Why cuDNN cannot run this geometry ("" when it can): sizes that must be positive, and cuDNN's
// 32-bit sizes and strides (every dimension and every tensor's element count below 2^31).
inline std::string cudnn_conv_problem(const Conv2DGeometry& g) {
  auto dims = [&] {
    return "input " + std::to_string(g.N) + "x" + std::to_string(g.H) + "x" + std::to_string(g.W) +
           "x" + std::to_string(g.C) + ", kernel " + std::to_string(g.KH) + "x" +
           std::to_string(g.KW) + "x" + std::to_string(g.C) + "x" + std::to_string(g.F) +
           ", output " + std::to_string(g.OH) + "x" + std::to_string(g.OW) + ", strides " +
           std::to_string(g.stride_h) + "x" + std::to_string(g.stride_w) + ", dilation " +
           std::to_string(g.dilation_h) + "x" + std::to_string(g.dilation_w) + ", padding " +
           std::to_string(g.pad_top) + "x" + std::to_string(g.pad_left);
  };
  if (g.N < 0 || g.H < 1 || g.W < 1 || g.C < 1 || g.KH < 1 || g.KW < 1 || g.F < 1 ||
      g.stride_h < 1 || g.stride_w < 1 || g.dilation_h < 1 || g.dilation_w < 1 || g.pad_top < 0 ||
      g.pad_left < 0 || g.OH < 0 || g.OW < 0)
    return "a convolution needs positive sizes, strides and dilation and no negative padding (" +
           dims() + ")";
  const SymmetricConv s = symmetric_conv(g);
  const int64_t limit = INT_MAX;
  const int64_t values[] = {g.N, s.H, s.W, g.C, g.F, g.KH, g.KW, s.pad_h, s.pad_w,
                            g.stride_h, g.stride_w, g.dilation_h, g.dilation_w};
  bool fits = true;
  for (int64_t v : values) fits = fits && v <= limit;
  auto count_fits = [&](int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t n = 0;
    return !__builtin_mul_overflow(a, b, &n) && !__builtin_mul_overflow(n, c, &n) &&
           !__builtin_mul_overflow(n, d, &n) && n <= limit;
  };
  fits = fits && count_fits(g.N, s.H, s.W, g.C) && count_fits(g.N, g.H, g.W, g.C) &&
         count_fits(g.N, g.OH, g.OW, g.F) && count_fits(g.KH, g.KW, g.C, g.F);
  if (!fits)
    return "cuDNN takes 32-bit sizes: every dimension and every tensor's element count must be "
           "below 2^31 (" + dims() + "); use a smaller batch";
  return "";
}

// Which of the three convolutions a plan is for.
enum class ConvOp : int { Forward = 0, BackwardData = 1, BackwardFilter = 2 };

// A plan's key: the operation, the whole geometry (compute dtype included) and the math settings
// it was chosen under (TF32 and determinism change the algorithm).
using ConvPlanKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                               int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                               int64_t, int, bool, bool>;

inline ConvPlanKey conv_plan_key(ConvOp op, const Conv2DGeometry& g, MathChoice math) {
  return {static_cast<int>(op), g.N, g.H, g.W, g.C, g.KH, g.KW, g.F, g.stride_h, g.stride_w,
          g.dilation_h, g.dilation_w, g.pad_top, g.pad_left, g.OH, g.OW,
          static_cast<int>(g.compute), math.tf32, math.deterministic};
}

// Rows of dy summed per partial of the bias gradient: the CPU's kBiasRowBlock (cpu/conv.cpp),
// so that the GPU adds in the same order and gives the CPU's bits.
constexpr int64_t kConvBiasRowBlock = 256;

}  // namespace ff
