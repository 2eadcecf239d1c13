// Resizing as tf.image.resize(antialias=False) computes it (see resize.h). Every method is
// separable: per output row and column, a short list of (source index, weight) taps, computed
// once per image with TensorFlow's float32 arithmetic; the image is then filtered vertically
// (uint8 rows into a float row buffer) and horizontally (into the output).
#include "data/image/resize.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/cpu_dispatch.h"
#include "core/errors.h"

namespace ff::data::image {

namespace {

struct NameOf {
  Interpolation m;
  const char* name;
};
constexpr NameOf kNames[] = {
    {Interpolation::Bilinear, "bilinear"},   {Interpolation::Nearest, "nearest"},
    {Interpolation::Bicubic, "bicubic"},     {Interpolation::Area, "area"},
    {Interpolation::Lanczos3, "lanczos3"},   {Interpolation::Lanczos5, "lanczos5"},
    {Interpolation::Gaussian, "gaussian"},   {Interpolation::MitchellCubic, "mitchellcubic"},
};

// Taps of one axis: output i reads src[index[i * taps + k]] with weight[i * taps + k].
struct AxisTaps {
  int taps = 0;
  std::vector<int64_t> index;
  std::vector<float> weight;
  void init(int64_t out_size, int t) {
    taps = t;
    index.assign(static_cast<size_t>(out_size) * t, 0);
    weight.assign(static_cast<size_t>(out_size) * t, 0.0f);
  }
};

// TensorFlow's CalculateResizeScale without align_corners: in / out, in float32.
inline float resize_scale(int64_t in, int64_t out) {
  return static_cast<float>(in) / static_cast<float>(out);
}

void bilinear_taps(int64_t in, int64_t out, AxisTaps& t) {
  t.init(out, 2);
  const float scale = resize_scale(in, out);
  for (int64_t i = 0; i < out; ++i) {
    const float pos = (static_cast<float>(i) + 0.5f) * scale - 0.5f;  // HalfPixelScaler
    const float pos_floor = std::floor(pos);
    const int64_t lower = std::max<int64_t>(static_cast<int64_t>(pos_floor), 0);
    const int64_t upper = std::min<int64_t>(static_cast<int64_t>(std::ceil(pos)), in - 1);
    const float lerp = pos - pos_floor;
    t.index[i * 2] = lower;
    t.weight[i * 2] = 1.0f - lerp;
    t.index[i * 2 + 1] = upper;
    t.weight[i * 2 + 1] = lerp;
  }
}

void nearest_taps(int64_t in, int64_t out, AxisTaps& t) {
  t.init(out, 1);
  const float scale = resize_scale(in, out);
  for (int64_t i = 0; i < out; ++i) {
    const float pos = (static_cast<float>(i) + 0.5f) * scale;  // HalfPixelScalerForNN
    int64_t k = std::min<int64_t>(static_cast<int64_t>(std::floor(pos)), in - 1);
    t.index[i] = std::max<int64_t>(k, 0);
    t.weight[i] = 1.0f;
  }
}

// TensorFlow's Keys cubic table (a = -0.5), 1024 entries per unit, two kernels interleaved.
const float* keys_cubic_table() {
  static const std::vector<float> table = [] {
    constexpr int kTableSize = 1024;
    std::vector<float> c((kTableSize + 1) * 2);
    const double a = -0.5;
    for (int i = 0; i <= kTableSize; ++i) {
      float x = static_cast<float>(i * 1.0 / kTableSize);
      c[i * 2] = static_cast<float>(((a + 2) * x - (a + 3)) * x * x + 1);
      x += 1.0f;
      c[i * 2 + 1] = static_cast<float>(((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
    }
    return c;
  }();
  return table.data();
}

void bicubic_taps(int64_t in, int64_t out, AxisTaps& t) {
  constexpr int kTableSize = 1024;
  t.init(out, 4);
  const float* table = keys_cubic_table();
  const float scale = resize_scale(in, out);
  auto bound = [in](int64_t v) { return std::min<int64_t>(in - 1, std::max<int64_t>(0, v)); };
  for (int64_t i = 0; i < out; ++i) {
    const float pos = (static_cast<float>(i) + 0.5f) * scale - 0.5f;
    const int64_t base = static_cast<int64_t>(std::floor(pos));
    const float delta = pos - static_cast<float>(base);
    const int64_t offset = std::lrint(delta * kTableSize);
    const float raw[4] = {table[offset * 2 + 1], table[offset * 2],
                          table[(kTableSize - offset) * 2], table[(kTableSize - offset) * 2 + 1]};
    float w[4];
    float sum = 0.0f;
    for (int k = 0; k < 4; ++k) {
      const int64_t want = base - 1 + k;
      const int64_t idx = bound(want);
      t.index[i * 4 + k] = idx;
      w[k] = idx == want ? raw[k] : 0.0f;  // taps outside the image are dropped
      sum += w[k];
    }
    const float norm = std::abs(sum) >= 1000.0f * std::numeric_limits<float>::min() ? 1.0f / sum : 1.0f;
    for (int k = 0; k < 4; ++k) t.weight[i * 4 + k] = w[k] * norm;
  }
}

// TensorFlow's ResizeArea: the box [i * scale, (i + 1) * scale) of the source, each source cell
// weighted by its overlap, divided by the box size.
void area_taps(int64_t in, int64_t out, AxisTaps& t) {
  const float scale = resize_scale(in, out);
  std::vector<std::vector<std::pair<int64_t, float>>> lists(static_cast<size_t>(out));
  size_t most = 1;
  for (int64_t i = 0; i < out; ++i) {
    const float lo = static_cast<float>(i) * scale;
    const float hi = static_cast<float>(i + 1) * scale;
    const int64_t start = static_cast<int64_t>(std::floor(lo));
    const int64_t end = static_cast<int64_t>(std::ceil(hi));
    for (int64_t v = start; v < end; ++v) {
      float w;
      const float vf = static_cast<float>(v);
      if (vf < lo)
        w = vf + 1 > hi ? scale : vf + 1 - lo;
      else
        w = vf + 1 > hi ? hi - vf : 1.0f;
      lists[i].emplace_back(std::min<int64_t>(std::max<int64_t>(v, 0), in - 1), w / scale);
    }
    most = std::max(most, lists[i].size());
  }
  t.init(out, static_cast<int>(most));
  for (int64_t i = 0; i < out; ++i)
    for (size_t k = 0; k < lists[i].size(); ++k) {
      t.index[i * t.taps + k] = lists[i][k].first;
      t.weight[i * t.taps + k] = lists[i][k].second;
    }
}

// TensorFlow's sampling kernels (sampling_kernels.h).
float kernel_value(Interpolation m, float x) {
  x = std::abs(x);
  switch (m) {
    case Interpolation::Lanczos3:
    case Interpolation::Lanczos5: {
      const float radius = m == Interpolation::Lanczos3 ? 3.0f : 5.0f;
      constexpr float kPi = 3.14159265359f;
      if (x > radius) return 0.0f;
      if (x <= 1e-3f) return 1.0f;
      return radius * std::sin(kPi * x) * std::sin(kPi * x / radius) / (kPi * kPi * x * x);
    }
    case Interpolation::Gaussian: {
      constexpr float kRadius = 1.5f, kSigma = 0.5f;
      if (x >= kRadius) return 0.0f;
      return static_cast<float>(std::exp(-x * x / (2.0 * kSigma * kSigma)));
    }
    case Interpolation::MitchellCubic:
      if (x >= 2.0f) return 0.0f;
      if (x >= 1.0f) return (((-7.0f / 18.0f) * x + 2.0f) * x - 10.0f / 3.0f) * x + 16.0f / 9.0f;
      return (((7.0f / 6.0f) * x - 2.0f) * x) * x + 8.0f / 9.0f;
    default:
      return 0.0f;
  }
}

float kernel_radius(Interpolation m) {
  switch (m) {
    case Interpolation::Lanczos3: return 3.0f;
    case Interpolation::Lanczos5: return 5.0f;
    case Interpolation::Gaussian: return 1.5f;
    default: return 2.0f;  // MitchellCubic
  }
}

// ScaleAndTranslate's spans (scale = out / in, no translation, antialias=False).
void kernel_taps(Interpolation m, int64_t in, int64_t out, AxisTaps& t) {
  const float radius = kernel_radius(m);
  const int span = static_cast<int>(std::min<int64_t>(2 * static_cast<int64_t>(std::ceil(radius)) + 1, in));
  t.init(out, span);
  const float scale = static_cast<float>(out) / static_cast<float>(in);
  const float inv_scale = 1.0f / scale;
  for (int64_t i = 0; i < out; ++i) {
    const float sample = (static_cast<float>(i) + 0.5f) * inv_scale;
    if (sample < 0 || sample > static_cast<float>(in)) continue;  // empty span: output 0
    int64_t start = static_cast<int64_t>(std::ceil(sample - radius - 0.5f));
    int64_t end = static_cast<int64_t>(std::floor(sample + radius - 0.5f));
    start = std::min<int64_t>(std::max<int64_t>(start, 0), in - 1);
    end = std::min<int64_t>(std::max<int64_t>(end, 0), in - 1) + 1;
    float w[16];
    float sum = 0.0f;
    const int n = static_cast<int>(std::min<int64_t>(end - start, span));
    for (int k = 0; k < n; ++k) {
      w[k] = kernel_value(m, static_cast<float>(start + k) + 0.5f - sample);
      sum += w[k];
    }
    const float norm = std::abs(sum) >= 1000.0f * std::numeric_limits<float>::min() ? 1.0f / sum : 0.0f;
    for (int k = 0; k < n; ++k) {
      t.index[i * span + k] = start + k;
      t.weight[i * span + k] = w[k] * norm;
    }
  }
}

void axis_taps(Interpolation m, int64_t in, int64_t out, AxisTaps& t) {
  switch (m) {
    case Interpolation::Bilinear: bilinear_taps(in, out, t); break;
    case Interpolation::Nearest: nearest_taps(in, out, t); break;
    case Interpolation::Bicubic: bicubic_taps(in, out, t); break;
    case Interpolation::Area: area_taps(in, out, t); break;
    default: kernel_taps(m, in, out, t); break;
  }
}

// row = sum over taps of weight * source row (uint8 -> float), vectorised by the compiler (for
// the CPU that runs it: core/cpu_dispatch.h).
FF_CPU_DISPATCH void vertical_pass(const uint8_t* origin, int64_t stride, int64_t n,
                                   const int64_t* index, const float* weight, int taps,
                                   float* __restrict row) {
  bool first = true;
  for (int k = 0; k < taps; ++k) {
    const float w = weight[k];
    if (w == 0.0f) continue;
    const uint8_t* __restrict s = origin + index[k] * stride;
    if (first) {
      for (int64_t i = 0; i < n; ++i) row[i] = w * static_cast<float>(s[i]);
      first = false;
    } else {
      for (int64_t i = 0; i < n; ++i) row[i] += w * static_cast<float>(s[i]);
    }
  }
  if (first) std::fill(row, row + n, 0.0f);
}

// out[x * C + c] = sum over taps of weight * row[offset + c]; the channel count and (for the
// common methods) the tap count are compile-time constants so the loops unroll.
template <int C, int TAPS>
void horizontal_fixed(const float* __restrict row, const int64_t* off, const float* wt,
                      int64_t out_w, float* __restrict out) {
  for (int64_t x = 0; x < out_w; ++x, off += TAPS, wt += TAPS, out += C) {
    float acc[C];
    for (int c = 0; c < C; ++c) acc[c] = 0.0f;
    for (int k = 0; k < TAPS; ++k) {
      const float* r = row + off[k];
      const float w = wt[k];
      for (int c = 0; c < C; ++c) acc[c] += w * r[c];
    }
    for (int c = 0; c < C; ++c) out[c] = acc[c];
  }
}

template <int C>
void horizontal_channels(const float* row, const int64_t* off, const float* wt, int taps,
                         int64_t out_w, float* out) {
  switch (taps) {
    case 1: return horizontal_fixed<C, 1>(row, off, wt, out_w, out);
    case 2: return horizontal_fixed<C, 2>(row, off, wt, out_w, out);
    case 4: return horizontal_fixed<C, 4>(row, off, wt, out_w, out);
    default:
      for (int64_t x = 0; x < out_w; ++x, off += taps, wt += taps, out += C) {
        float acc[C];
        for (int c = 0; c < C; ++c) acc[c] = 0.0f;
        for (int k = 0; k < taps; ++k)
          for (int c = 0; c < C; ++c) acc[c] += wt[k] * row[off[k] + c];
        for (int c = 0; c < C; ++c) out[c] = acc[c];
      }
  }
}

FF_CPU_DISPATCH void horizontal_pass(const float* row, const int64_t* off, const float* wt,
                                     int taps, int64_t C, int64_t out_w, float* out) {
  switch (C) {
    case 1: return horizontal_channels<1>(row, off, wt, taps, out_w, out);
    case 2: return horizontal_channels<2>(row, off, wt, taps, out_w, out);
    case 3: return horizontal_channels<3>(row, off, wt, taps, out_w, out);
    case 4: return horizontal_channels<4>(row, off, wt, taps, out_w, out);
    default:
      throw ValueError("resize: images have 1 to 4 channels, received " + std::to_string(C));
  }
}

}  // namespace

Interpolation parse_interpolation(const std::string& name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& n : kNames)
    if (lower == n.name) return n.m;
  std::string list;
  for (const auto& n : kNames) list += std::string(list.empty() ? "" : ", ") + "\"" + n.name + "\"";
  throw ValueError("Argument `interpolation` should be one of (" + list +
                   "). Received: interpolation=" + name);
}

std::string interpolation_name(Interpolation m) {
  for (const auto& n : kNames)
    if (n.m == m) return n.name;
  return "unknown";
}

ResizePlan plan_resize(int64_t h, int64_t w, int64_t th, int64_t tw, AspectMode mode) {
  if (h <= 0 || w <= 0 || th <= 0 || tw <= 0)
    throw ValueError("resize: sizes must be positive, received an image of " + std::to_string(h) +
                     "x" + std::to_string(w) + " and a target of " + std::to_string(th) + "x" +
                     std::to_string(tw));
  ResizePlan p;
  p.crop_height = h;
  p.crop_width = w;
  p.content_height = th;
  p.content_width = tw;
  if (mode == AspectMode::Crop) {
    // keras.utils.smart_resize on a tensor of dynamic shape (float32 arithmetic).
    int64_t ch = static_cast<int64_t>(static_cast<float>(w * th) / static_cast<float>(tw));
    ch = std::max<int64_t>(std::min(h, ch), 1);
    int64_t cw = static_cast<int64_t>(static_cast<float>(h * tw) / static_cast<float>(th));
    cw = std::max<int64_t>(std::min(w, cw), 1);
    p.crop_height = ch;
    p.crop_width = cw;
    p.crop_top = static_cast<int64_t>(static_cast<float>(h - ch) / 2.0f);
    p.crop_left = static_cast<int64_t>(static_cast<float>(w - cw) / 2.0f);
  } else if (mode == AspectMode::Pad) {
    // tf.image.resize_with_pad (float32 arithmetic; a content side of 0 becomes 1).
    const float fh = static_cast<float>(h), fw = static_cast<float>(w);
    const float fth = static_cast<float>(th), ftw = static_cast<float>(tw);
    const float ratio = std::max(fw / ftw, fh / fth);
    const float rh = fh / ratio, rw = fw / ratio;
    p.content_height = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(std::floor(rh)), 1), th);
    p.content_width = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(std::floor(rw)), 1), tw);
    p.pad_top = std::max<int64_t>(0, static_cast<int64_t>(std::floor((fth - rh) / 2.0f)));
    p.pad_left = std::max<int64_t>(0, static_cast<int64_t>(std::floor((ftw - rw) / 2.0f)));
    p.pad_top = std::min(p.pad_top, th - p.content_height);
    p.pad_left = std::min(p.pad_left, tw - p.content_width);
  }
  return p;
}

void resize_image(const uint8_t* src, int64_t src_height, int64_t src_width, int channels,
                  float* out, int64_t dst_height, int64_t dst_width, Interpolation method,
                  const ResizePlan& p) {
  const int64_t C = channels;
  if (p.crop_top < 0 || p.crop_left < 0 || p.crop_height <= 0 || p.crop_width <= 0 ||
      p.crop_top + p.crop_height > src_height || p.crop_left + p.crop_width > src_width ||
      p.pad_top < 0 || p.pad_left < 0 || p.content_height <= 0 || p.content_width <= 0 ||
      p.pad_top + p.content_height > dst_height || p.pad_left + p.content_width > dst_width)
    throw ValueError("resize: the resize plan does not fit the image and target sizes");
  const bool padded = p.content_height != dst_height || p.content_width != dst_width;
  if (padded) std::fill(out, out + dst_height * dst_width * C, 0.0f);

  AxisTaps ty, tx;
  axis_taps(method, p.crop_height, p.content_height, ty);
  axis_taps(method, p.crop_width, p.content_width, tx);

  // Horizontal taps as offsets into a row buffer (index * C), padded to a fixed tap count.
  std::vector<int64_t> offsets(tx.index.size());
  for (size_t i = 0; i < offsets.size(); ++i) offsets[i] = tx.index[i] * C;
  const int64_t in_row = p.crop_width * C;
  std::vector<float> row(static_cast<size_t>(in_row));
  const uint8_t* origin = src + (p.crop_top * src_width + p.crop_left) * C;
  for (int64_t oy = 0; oy < p.content_height; ++oy) {
    vertical_pass(origin, src_width * C, in_row, &ty.index[oy * ty.taps], &ty.weight[oy * ty.taps],
                  ty.taps, row.data());
    float* o = out + ((p.pad_top + oy) * dst_width + p.pad_left) * C;
    horizontal_pass(row.data(), offsets.data(), tx.weight.data(), tx.taps, C, p.content_width, o);
  }
}

void resize_image(const uint8_t* src, int64_t src_height, int64_t src_width, int channels,
                  float* out, int64_t dst_height, int64_t dst_width, Interpolation method,
                  AspectMode mode) {
  resize_image(src, src_height, src_width, channels, out, dst_height, dst_width, method,
               plan_resize(src_height, src_width, dst_height, dst_width, mode));
}

}  // namespace ff::data::image
