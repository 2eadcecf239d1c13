// Naive double-precision references for the convolution and pooling layer tests: direct loops
// over NHWC tensors written from the definitions (TensorFlow "SAME" padding computed here, not
// taken from the layers), plus accept-functions that keep finite-difference steps away from the
// kinks of relu and max.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "test_util.h"

namespace fftest {

// One spatial axis: output size and padding before (Keras formulas, TF split).
struct RefAxis {
  int64_t out, pad;
};
inline RefAxis ref_axis(int64_t in, int64_t k, int64_t s, int64_t d, const std::string& padding) {
  const int64_t span = (k - 1) * d + 1;
  if (padding == "valid") return {(in - span) / s + 1, 0};
  const int64_t out = (in + s - 1) / s;
  if (padding == "causal") return {out, span - 1};
  const int64_t total = std::max<int64_t>((out - 1) * s + span - in, 0);
  return {out, total / 2};
}

struct RefConv {
  int64_t N, H, W, C, KH, KW, F, sh, sw, dh, dw;
  std::string padding;  // valid / same / causal (causal: width axis only)
  RefAxis ah() const { return ref_axis(H, KH, sh, dh, padding == "causal" ? "valid" : padding); }
  RefAxis aw() const { return ref_axis(W, KW, sw, dw, padding); }
};

// z = conv(x, kernel) (+ bias), before any activation; kernel (KH, KW, C, F).
inline std::vector<double> ref_conv(const RefConv& g, const std::vector<float>& x,
                                    const std::vector<float>& k, const std::vector<float>* bias) {
  const RefAxis ah = g.ah(), aw = g.aw();
  std::vector<double> z(static_cast<size_t>(g.N * ah.out * aw.out * g.F), 0.0);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < ah.out; ++oh)
      for (int64_t ow = 0; ow < aw.out; ++ow)
        for (int64_t f = 0; f < g.F; ++f) {
          double s = bias ? (*bias)[f] : 0.0;
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t ih = oh * g.sh - ah.pad + kh * g.dh;
              const int64_t iw = ow * g.sw - aw.pad + kw * g.dw;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              for (int64_t c = 0; c < g.C; ++c)
                s += static_cast<double>(x[((n * g.H + ih) * g.W + iw) * g.C + c]) *
                     k[((kh * g.KW + kw) * g.C + c) * g.F + f];
            }
          z[((n * ah.out + oh) * aw.out + ow) * g.F + f] = s;
        }
  return z;
}

struct RefPool {
  int64_t N, H, W, C, KH, KW, sh, sw;
  std::string padding;
  RefAxis ah() const { return ref_axis(H, KH, sh, 1, padding); }
  RefAxis aw() const { return ref_axis(W, KW, sw, 1, padding); }
};

// Max (NaN if the window holds one) or mean over the in-input positions of each window.
inline std::vector<double> ref_pool(const RefPool& g, const std::vector<float>& x, bool max) {
  const RefAxis ah = g.ah(), aw = g.aw();
  std::vector<double> y(static_cast<size_t>(g.N * ah.out * aw.out * g.C));
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < ah.out; ++oh)
      for (int64_t ow = 0; ow < aw.out; ++ow)
        for (int64_t c = 0; c < g.C; ++c) {
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t count = 0;
          bool nan = false;
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t ih = oh * g.sh - ah.pad + kh, iw = ow * g.sw - aw.pad + kw;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              const double v = x[((n * g.H + ih) * g.W + iw) * g.C + c];
              nan |= std::isnan(v);
              acc = max ? std::max(acc, v) : acc + v;
              ++count;
            }
          double out = max ? acc : acc / static_cast<double>(count);
          if (nan) out = std::numeric_limits<double>::quiet_NaN();
          y[((n * ah.out + oh) * aw.out + ow) * g.C + c] = out;
        }
  return y;
}

// Max-pool input gradient: each dy goes to the first maximum of its window in (kh, kw) order,
// a NaN counting as the maximum (the first NaN when there are several); overlaps add up.
inline std::vector<double> ref_max_pool_backward(const RefPool& g, const std::vector<float>& x,
                                                 const std::vector<float>& dy) {
  const RefAxis ah = g.ah(), aw = g.aw();
  std::vector<double> dx(x.size(), 0.0);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < ah.out; ++oh)
      for (int64_t ow = 0; ow < aw.out; ++ow)
        for (int64_t c = 0; c < g.C; ++c) {
          int64_t best = -1;
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t ih = oh * g.sh - ah.pad + kh, iw = ow * g.sw - aw.pad + kw;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              const int64_t at = ((n * g.H + ih) * g.W + iw) * g.C + c;
              if (best < 0) { best = at; continue; }
              if (std::isnan(x[best])) continue;
              if (std::isnan(x[at]) || x[at] > x[best]) best = at;
            }
          dx[best] += dy[((n * ah.out + oh) * aw.out + ow) * g.C + c];
        }
  return dx;
}

// True when, in every max-pooling window, the largest value beats the runner-up by more than
// 2h (so a finite-difference step never changes which element is the maximum).
inline bool max_windows_separated(const RefPool& g, const std::vector<float>& x, double h) {
  const RefAxis ah = g.ah(), aw = g.aw();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < ah.out; ++oh)
      for (int64_t ow = 0; ow < aw.out; ++ow)
        for (int64_t c = 0; c < g.C; ++c) {
          double best = -INFINITY, second = -INFINITY;
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t ih = oh * g.sh - ah.pad + kh, iw = ow * g.sw - aw.pad + kw;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              const double v = x[((n * g.H + ih) * g.W + iw) * g.C + c];
              if (v > best) {
                second = best;
                best = v;
              } else if (v > second) {
                second = v;
              }
            }
          if (best - second <= 2.0 * h) return false;
        }
  return true;
}

// True when every pre-activation is more than a finite-difference step (scaled by the largest
// |x| or |w|, since a step in w moves z by h|x|) away from 0, relu's kink.
inline bool preactivations_away_from_zero(const std::vector<double>& z, const ff::Tensor& x,
                                          const std::vector<ff::Tensor>& params, double h) {
  double scale = 1.0;
  for (float v : to_vector(x)) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (const auto& p : params)
    for (float v : to_vector(p)) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (double v : z)
    if (std::fabs(v) < 2.0 * h * scale) return false;
  return true;
}

}  // namespace fftest
