// HalfByFloat32: the 16-bit storage functions of backend.h implemented over a backend's own
// float32 kernels: decode the 16-bit inputs into float32 host buffers, call the float32 function
// of the same name, encode the 16-bit outputs (core/half.h, round to nearest even, once). The
// CPU backend derives from it; its results are the reference the CUDA parity suite compares the
// native 16-bit kernels with. Host memory only (the buffers are read and written directly).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "core/errors.h"
#include "core/half.h"

namespace ff::cpu {

// The float32 values of n 16-bit values of type `half` (null gives an empty vector).
inline std::vector<float> decode_values(const void* src, int64_t n, DType half) {
  std::vector<float> out;
  if (!src) return out;
  out.resize(static_cast<size_t>(n));
  const bool bf16 = half == DType::BFloat16;
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = decode_half(bf16, h[i]);
  return out;
}

inline void encode_values(void* dst, const float* src, int64_t n, DType half) {
  const bool bf16 = half == DType::BFloat16;
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = encode_half(bf16, src[i]);
}

// Raises unless `half` is a 16-bit float type (`what` names the function).
inline void check_half(DType half, const char* what) {
  if (!is_half_precision(half))
    throw ValueError(std::string(what) + ": expected a 16-bit float type (bfloat16 or float16), "
                     "received " + dtype_name(half));
}

template <class Base>
class HalfByFloat32 : public Base {
 public:
  using Base::Base;

  void cast(void* dst, DType dst_type, const void* src, DType src_type, int64_t n) override {
    auto check = [](DType t) {
      if (t != DType::Float32 && !is_half_precision(t))
        throw ValueError("cast: expected float32, bfloat16 or float16, received " +
                         dtype_name(t));
    };
    check(dst_type);
    check(src_type);
    std::vector<float> wide;
    const float* values = static_cast<const float*>(src);
    if (src_type != DType::Float32) {
      wide = decode_values(src, n, src_type);
      values = wide.data();
    }
    if (dst_type == DType::Float32) {
      if (values != dst) std::memmove(dst, values, sizeof(float) * static_cast<size_t>(n));
    } else {
      encode_values(dst, values, n, dst_type);
    }
  }

  void add_half(void* y, const void* x, int64_t n, DType half) override {
    check_half(half, "add_half");
    std::vector<float> yv = decode_values(y, n, half), xv = decode_values(x, n, half);
    this->add(yv.data(), xv.data(), n);
    encode_values(y, yv.data(), n, half);
  }

  void gemm_half(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const void* a,
                 int64_t lda, const void* b, int64_t ldb, void* c, int64_t ldc, DType c_type,
                 DType half) override {
    check_half(half, "gemm_half");
    if (c_type != DType::Float32 && c_type != half)
      throw ValueError("gemm_half: C must be float32 or " + dtype_name(half) + ", received " +
                       dtype_name(c_type));
    // The matrices' extent: whole leading-dimension rows except the last, which may be short.
    auto extent = [](int64_t rows, int64_t cols, int64_t ld) {
      return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
    };
    std::vector<float> av = decode_values(a, extent(trans_a ? k : m, trans_a ? m : k, lda), half);
    std::vector<float> bv = decode_values(b, extent(trans_b ? n : k, trans_b ? k : n, ldb), half);
    if (c_type == DType::Float32) {
      this->gemm(trans_a, trans_b, m, n, k, 1.0f, av.data(), lda, bv.data(), ldb, 0.0f,
                 static_cast<float*>(c), ldc);
      return;
    }
    std::vector<float> cv(static_cast<size_t>(m * ldc), 0.0f);  // host scratch: whole rows
    this->gemm(trans_a, trans_b, m, n, k, 1.0f, av.data(), lda, bv.data(), ldb, 0.0f, cv.data(),
               ldc);
    auto* ch = static_cast<uint16_t*>(c);
    for (int64_t r = 0; r < m; ++r) encode_values(ch + r * ldc, cv.data() + r * ldc, n, half);
  }

  void dense_forward_half(const void* x, const void* w, const void* bias, int64_t rows,
                          int64_t in, int64_t units, Activation act, float alpha, void* y,
                          void* preact, DType half) override {
    check_half(half, "dense_forward_half");
    std::vector<float> xv = decode_values(x, rows * in, half), wv = decode_values(w, in * units, half);
    std::vector<float> bv = decode_values(bias, units, half);
    std::vector<float> yv(static_cast<size_t>(rows * units)), pv(preact ? yv.size() : 0);
    this->dense_forward(xv.data(), wv.data(), bias ? bv.data() : nullptr, rows, in, units, act,
                        alpha, yv.data(), preact ? pv.data() : nullptr);
    encode_values(y, yv.data(), rows * units, half);
    if (preact) encode_values(preact, pv.data(), rows * units, half);
  }

  void bias_activation_half(void* y, const void* bias, int64_t rows, int64_t cols,
                            Activation act, float alpha, void* preact, DType half) override {
    check_half(half, "bias_activation_half");
    std::vector<float> yv = decode_values(y, rows * cols, half), bv = decode_values(bias, cols, half);
    std::vector<float> pv(preact ? yv.size() : 0);
    this->bias_activation(yv.data(), bias ? bv.data() : nullptr, rows, cols, act, alpha,
                          preact ? pv.data() : nullptr);
    encode_values(y, yv.data(), rows * cols, half);
    if (preact) encode_values(preact, pv.data(), rows * cols, half);
  }

  void activation_forward_half(Activation act, float alpha, const void* x, void* y, int64_t rows,
                               int64_t cols, DType half) override {
    check_half(half, "activation_forward_half");
    std::vector<float> xv = decode_values(x, rows * cols, half), yv(xv.size());
    this->activation_forward(act, alpha, xv.data(), yv.data(), rows, cols);
    encode_values(y, yv.data(), rows * cols, half);
  }

  void activation_backward_half(Activation act, float alpha, const void* x, const void* y,
                                const void* dy, void* dx, int64_t rows, int64_t cols,
                                DType half) override {
    check_half(half, "activation_backward_half");
    const int64_t n = rows * cols;
    std::vector<float> xv = decode_values(x, n, half), yv = decode_values(y, n, half);
    std::vector<float> dyv = decode_values(dy, n, half), dxv(static_cast<size_t>(n));
    this->activation_backward(act, alpha, x ? xv.data() : nullptr, y ? yv.data() : nullptr,
                              dyv.data(), dxv.data(), rows, cols);
    encode_values(dx, dxv.data(), n, half);
  }

  void column_sum_half(const void* x, int64_t rows, int64_t cols, float* out,
                       DType half) override {
    check_half(half, "column_sum_half");
    std::vector<float> xv = decode_values(x, rows * cols, half);
    this->column_sum(xv.data(), rows, cols, out);
  }

  void dropout_half(const void* x, void* y, int64_t n, float rate, uint64_t seed,
                    const StepState* state, DType half) override {
    check_half(half, "dropout_half");
    std::vector<float> xv = decode_values(x, n, half), yv(xv.size());
    this->dropout(xv.data(), yv.data(), n, rate, seed, state);
    encode_values(y, yv.data(), n, half);
  }

  void conv2d_forward_half(const Conv2DGeometry& g, const void* x, const void* kernel, void* y,
                           DType half) override {
    check_half(half, "conv2d_forward_half");
    std::vector<float> xv = decode_values(x, g.N * g.H * g.W * g.C, half);
    std::vector<float> kv = decode_values(kernel, g.KH * g.KW * g.C * g.F, half);
    std::vector<float> yv(static_cast<size_t>(g.N * g.OH * g.OW * g.F));
    this->conv2d_forward(g, xv.data(), kv.data(), yv.data());
    encode_values(y, yv.data(), static_cast<int64_t>(yv.size()), half);
  }

  void conv2d_backward_data_half(const Conv2DGeometry& g, const void* dy, const void* kernel,
                                 void* dx, DType half) override {
    check_half(half, "conv2d_backward_data_half");
    std::vector<float> dyv = decode_values(dy, g.N * g.OH * g.OW * g.F, half);
    std::vector<float> kv = decode_values(kernel, g.KH * g.KW * g.C * g.F, half);
    std::vector<float> dxv(static_cast<size_t>(g.N * g.H * g.W * g.C));
    this->conv2d_backward_data(g, dyv.data(), kv.data(), dxv.data());
    encode_values(dx, dxv.data(), static_cast<int64_t>(dxv.size()), half);
  }

  void conv2d_backward_filter_half(const Conv2DGeometry& g, const void* x, const void* dy,
                                   float* dkernel, float* dbias, DType half) override {
    check_half(half, "conv2d_backward_filter_half");
    std::vector<float> xv = decode_values(x, g.N * g.H * g.W * g.C, half);
    std::vector<float> dyv = decode_values(dy, g.N * g.OH * g.OW * g.F, half);
    this->conv2d_backward_filter(g, xv.data(), dyv.data(), dkernel, dbias);
    // dkernel holds 16-bit values, as a 16-bit filter gradient would
    this->round_to_precision(dkernel, dkernel, g.KH * g.KW * g.C * g.F, half);
  }

  void max_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                               DType half) override {
    check_half(half, "max_pool2d_forward_half");
    std::vector<float> xv = decode_values(x, g.N * g.H * g.W * g.C, half);
    std::vector<float> yv(static_cast<size_t>(g.N * g.OH * g.OW * g.C));
    this->max_pool2d_forward(g, xv.data(), yv.data());
    encode_values(y, yv.data(), static_cast<int64_t>(yv.size()), half);
  }

  void max_pool2d_backward_half(const Pool2DGeometry& g, const void* x, const void* dy, void* dx,
                                DType half) override {
    check_half(half, "max_pool2d_backward_half");
    std::vector<float> xv = decode_values(x, g.N * g.H * g.W * g.C, half);
    std::vector<float> dyv = decode_values(dy, g.N * g.OH * g.OW * g.C, half);
    std::vector<float> dxv(xv.size());
    this->max_pool2d_backward(g, xv.data(), dyv.data(), dxv.data());
    encode_values(dx, dxv.data(), static_cast<int64_t>(dxv.size()), half);
  }

  void avg_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                               DType half) override {
    check_half(half, "avg_pool2d_forward_half");
    std::vector<float> xv = decode_values(x, g.N * g.H * g.W * g.C, half);
    std::vector<float> yv(static_cast<size_t>(g.N * g.OH * g.OW * g.C));
    this->avg_pool2d_forward(g, xv.data(), yv.data());
    encode_values(y, yv.data(), static_cast<int64_t>(yv.size()), half);
  }

  void avg_pool2d_backward_half(const Pool2DGeometry& g, const void* dy, void* dx,
                                DType half) override {
    check_half(half, "avg_pool2d_backward_half");
    std::vector<float> dyv = decode_values(dy, g.N * g.OH * g.OW * g.C, half);
    std::vector<float> dxv(static_cast<size_t>(g.N * g.H * g.W * g.C));
    this->avg_pool2d_backward(g, dyv.data(), dxv.data());
    encode_values(dx, dxv.data(), static_cast<int64_t>(dxv.size()), half);
  }

  void batch_norm_forward_training_half(const void* x, void* y, int64_t rows, int64_t channels,
                                        const float* gamma, const float* beta, float epsilon,
                                        float momentum, float* moving_mean, float* moving_var,
                                        float* saved_mean, float* saved_inv_std,
                                        const StepState* state, DType half) override {
    check_half(half, "batch_norm_forward_training_half");
    std::vector<float> xv = decode_values(x, rows * channels, half), yv(xv.size());
    this->batch_norm_forward_training(xv.data(), yv.data(), rows, channels, gamma, beta, epsilon,
                                      momentum, moving_mean, moving_var, saved_mean,
                                      saved_inv_std, state);
    encode_values(y, yv.data(), rows * channels, half);
  }

  void batch_norm_forward_inference_half(const void* x, void* y, int64_t rows, int64_t channels,
                                         const float* gamma, const float* beta,
                                         const float* moving_mean, const float* moving_var,
                                         float epsilon, float* saved_mean, float* saved_inv_std,
                                         DType half) override {
    check_half(half, "batch_norm_forward_inference_half");
    std::vector<float> xv = decode_values(x, rows * channels, half), yv(xv.size());
    this->batch_norm_forward_inference(xv.data(), yv.data(), rows, channels, gamma, beta,
                                       moving_mean, moving_var, epsilon, saved_mean,
                                       saved_inv_std);
    encode_values(y, yv.data(), rows * channels, half);
  }

  void batch_norm_backward_half(const void* x, const void* dy, int64_t rows, int64_t channels,
                                const float* gamma, const float* saved_mean,
                                const float* saved_inv_std, bool batch_stats, void* dx,
                                float* dgamma, float* dbeta, DType half) override {
    check_half(half, "batch_norm_backward_half");
    std::vector<float> xv = decode_values(x, rows * channels, half);
    std::vector<float> dyv = decode_values(dy, rows * channels, half);
    std::vector<float> dxv(dx ? xv.size() : 0);
    this->batch_norm_backward(xv.data(), dyv.data(), rows, channels, gamma, saved_mean,
                              saved_inv_std, batch_stats, dx ? dxv.data() : nullptr, dgamma,
                              dbeta);
    if (dx) encode_values(dx, dxv.data(), rows * channels, half);
  }

  void check_numerics_half(const void* x, int64_t n, StepState* state, int32_t node,
                           StepPass pass, DType half) override {
    check_half(half, "check_numerics_half");
    std::vector<float> xv = decode_values(x, n, half);
    this->check_numerics(xv.data(), n, state, node, pass);
  }
};

}  // namespace ff::cpu
