// CPU kernels of the normalization layers (see normalization.h): batch normalisation forward
// (batch or moving statistics) and backward, elementwise rescaling and the adapted
// Normalization. Statistics are computed in double, two-pass (mean, then squared deviations).
#include "backend/cpu/normalization.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/parallel.h"

namespace ff::cpu {
namespace {

// Sums over rows of per-row contributions to `width` accumulators (out, zeroed first). Rows are
// cut into fixed chunks (kReduceChunk values each, independent of the thread count); body(r0, r1,
// acc) adds rows [r0, r1) into its chunk's zeroed accumulators, and the chunks are then added
// in order: the same result for any number of threads.
template <class Body>
void chunked_row_sums(int64_t rows, int64_t width, Body&& body, double* out) {
  std::fill(out, out + width, 0.0);
  if (rows <= 0 || width <= 0) return;
  const int64_t chunk_rows = std::max<int64_t>(1, kReduceChunk / width);
  const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  std::vector<double> partial(static_cast<size_t>(chunks * width), 0.0);
  parallel_for(chunks, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      body(c * chunk_rows, std::min(rows, (c + 1) * chunk_rows), partial.data() + c * width);
  }, rows * width, 1);
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t k = 0; k < width; ++k) out[k] += partial[c * width + k];
}

// y[r, c] = x[r, c] * a[c] + b[c].
void channel_affine(const float* x, float* y, int64_t rows, int64_t channels, const float* a,
                    const float* b) {
  parallel_rows(rows, channels, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * channels;
      float* yr = y + r * channels;
#pragma omp simd
      for (int64_t c = 0; c < channels; ++c) yr[c] = xr[c] * a[c] + b[c];
    }
  });
}

// Per-channel scale a = gamma * inv_std and shift b = beta - mean * a, then y = x a + b.
void normalize_with(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma,
                    const float* beta, const std::vector<double>& mean,
                    const std::vector<double>& inv_std, float* saved_mean, float* saved_inv_std) {
  std::vector<float> a(static_cast<size_t>(channels)), b(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const double scale = inv_std[c] * (gamma ? gamma[c] : 1.0);
    a[c] = static_cast<float>(scale);
    b[c] = static_cast<float>((beta ? beta[c] : 0.0) - mean[c] * scale);
    if (saved_mean) saved_mean[c] = static_cast<float>(mean[c]);
    if (saved_inv_std) saved_inv_std[c] = static_cast<float>(inv_std[c]);
  }
  channel_affine(x, y, rows, channels, a.data(), b.data());
}

}  // namespace

void batch_norm_forward_training(const float* x, float* y, int64_t rows, int64_t channels,
                                 const float* gamma, const float* beta, float epsilon,
                                 float momentum, float* moving_mean, float* moving_var,
                                 float* saved_mean, float* saved_inv_std) {
  if (rows <= 0) return;
  std::vector<double> mean(static_cast<size_t>(channels)), var(static_cast<size_t>(channels));
  chunked_row_sums(rows, channels, [&](int64_t r0, int64_t r1, double* acc) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < channels; ++c) acc[c] += x[r * channels + c];
  }, mean.data());
  for (double& m : mean) m /= static_cast<double>(rows);
  chunked_row_sums(rows, channels, [&](int64_t r0, int64_t r1, double* acc) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < channels; ++c) {
        const double d = x[r * channels + c] - mean[c];
        acc[c] += d * d;
      }
  }, var.data());
  std::vector<double> inv_std(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    var[c] /= static_cast<double>(rows);  // biased, as Keras's moments()
    inv_std[c] = 1.0 / std::sqrt(var[c] + epsilon);
  }
  normalize_with(x, y, rows, channels, gamma, beta, mean, inv_std, saved_mean, saved_inv_std);
  if (moving_mean && moving_var)
    for (int64_t c = 0; c < channels; ++c) {
      moving_mean[c] = static_cast<float>(moving_mean[c] * static_cast<double>(momentum) +
                                          mean[c] * (1.0 - momentum));
      moving_var[c] = static_cast<float>(moving_var[c] * static_cast<double>(momentum) +
                                         var[c] * (1.0 - momentum));
    }
}

void batch_norm_forward_inference(const float* x, float* y, int64_t rows, int64_t channels,
                                  const float* gamma, const float* beta, const float* moving_mean,
                                  const float* moving_var, float epsilon, float* saved_mean,
                                  float* saved_inv_std) {
  std::vector<double> mean(static_cast<size_t>(channels)), inv_std(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    mean[c] = moving_mean[c];
    inv_std[c] = 1.0 / std::sqrt(static_cast<double>(moving_var[c]) + epsilon);
  }
  normalize_with(x, y, rows, channels, gamma, beta, mean, inv_std, saved_mean, saved_inv_std);
}

void batch_norm_backward(const float* x, const float* dy, int64_t rows, int64_t channels,
                         const float* gamma, const float* saved_mean, const float* saved_inv_std,
                         bool batch_stats, float* dx, float* dgamma, float* dbeta) {
  // sums[0, C): sum dy; sums[C, 2C): sum dy * xhat, xhat = (x - mean) * inv_std.
  std::vector<double> sums(static_cast<size_t>(2 * channels));
  chunked_row_sums(rows, 2 * channels, [&](int64_t r0, int64_t r1, double* acc) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < channels; ++c) {
        const double g = dy[r * channels + c];
        const double xhat = (static_cast<double>(x[r * channels + c]) - saved_mean[c]) *
                            saved_inv_std[c];
        acc[c] += g;
        acc[channels + c] += g * xhat;
      }
  }, sums.data());
  for (int64_t c = 0; c < channels; ++c) {
    if (dbeta) dbeta[c] = static_cast<float>(sums[c]);
    if (dgamma) dgamma[c] = static_cast<float>(sums[channels + c]);
  }
  if (!dx) return;
  // Batch statistics: dx = g inv_std (dy - mean(dy) - xhat mean(dy xhat)), the gradient through
  // the batch mean and variance. Moving statistics are constants: dx = g inv_std dy.
  std::vector<float> k(static_cast<size_t>(channels)), m1(static_cast<size_t>(channels)),
      m2(static_cast<size_t>(channels));
  const double n = static_cast<double>(std::max<int64_t>(rows, 1));
  for (int64_t c = 0; c < channels; ++c) {
    k[c] = static_cast<float>((gamma ? gamma[c] : 1.0) * saved_inv_std[c]);
    m1[c] = batch_stats ? static_cast<float>(sums[c] / n) : 0.0f;
    m2[c] = batch_stats ? static_cast<float>(sums[channels + c] / n) : 0.0f;
  }
  parallel_rows(rows, channels, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * channels;
      const float* dyr = dy + r * channels;
      float* dxr = dx + r * channels;
      for (int64_t c = 0; c < channels; ++c) {
        const float xhat = (xr[c] - saved_mean[c]) * saved_inv_std[c];
        dxr[c] = k[c] * (dyr[c] - m1[c] - xhat * m2[c]);
      }
    }
  });
}

void scale_shift(const float* x, float* y, int64_t n, float scale, float offset) {
  parallel_for(n, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) y[i] = x[i] * scale + offset;
  });
}

void normalize(const float* x, float* y, int64_t rows, int64_t channels, const float* mean,
               const float* variance, bool invert) {
  constexpr float kEpsilon = 1e-7f;  // Keras's backend.epsilon()
  std::vector<float> s(static_cast<size_t>(channels)), m(static_cast<size_t>(channels), 0.0f);
  for (int64_t c = 0; c < channels; ++c) {
    // std::max(NaN, eps) is NaN: a negative variance is not hidden.
    s[c] = std::max(std::sqrt(variance[c]), kEpsilon);
    if (mean) m[c] = mean[c];
  }
  parallel_rows(rows, channels, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * channels;
      float* yr = y + r * channels;
      if (invert) {
        for (int64_t c = 0; c < channels; ++c) yr[c] = m[c] + xr[c] * s[c];
      } else {
        for (int64_t c = 0; c < channels; ++c) yr[c] = (xr[c] - m[c]) / s[c];
      }
    }
  });
}

}  // namespace ff::cpu
