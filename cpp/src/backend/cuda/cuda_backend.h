// The CUDA backend (backend/backend.h on one GPU): the kernel table over a CudaDevice. Every
// kernel is enqueued on the device's compute stream and returns at once; nothing here waits for
// the GPU or reads its memory to the host (the whole training step can be captured as one CUDA
// graph). The kernels are split by family across the files named below; each family follows the
// CPU backend's rules (shared FF_HD functions where there are any) and is checked against it in
// tests/cpp/backend/test_cuda_parity_*.cpp. Reductions are deterministic: fixed-size blocks, then
// one pass in a fixed order, no floating-point atomics.
#pragma once
#include <cuda_runtime.h>

#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/cuda/cuda_device.h"

namespace ff::cuda {

class GemmEngine;  // cuda_gemm.h: cuBLASLt handle, workspace, per-shape algorithm cache
class ConvEngine;  // cuda_conv.h: cuDNN handle, workspace, per-geometry algorithm cache

// Every backend function has a CUDA implementation; in a build without cuDNN the convolutions
// raise an error naming themselves (cuda_conv.cu). Nothing falls back to the CPU silently.

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(CudaDevice& device);
  ~CudaBackend() override;
  std::string name() const override { return "cuda"; }
  CudaDevice& cuda_device() const { return *cuda_device_; }
  cudaStream_t stream() const { return cuda_device_->stream(0); }

  // ---- cuda_gemm.cu (cuBLASLt) ----
  void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
            const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
            int64_t ldc) override;
  void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) override;
  // cuda-gemm: the Dense step with the bias (and ReLU) fused as cuBLASLt epilogues.
  void dense_forward(const float* x, const float* w, const float* bias, int64_t rows, int64_t in,
                     int64_t units, Activation act, float alpha, float* y,
                     float* preact) override;

  // ---- cuda_elementwise.cu ----
  void fill(float* x, int64_t n, float value) override;
  void bias_activation(float* y, const float* bias, int64_t rows, int64_t cols, Activation act,
                       float alpha, float* preact) override;
  void activation_forward(Activation act, float alpha, const float* x, float* y, int64_t rows,
                          int64_t cols) override;
  void activation_backward(Activation act, float alpha, const float* x, const float* y,
                           const float* dy, float* dx, int64_t rows, int64_t cols) override;
  void column_sum(const float* x, int64_t rows, int64_t cols, float* out) override;
  void dropout(const float* x, float* y, int64_t n, float rate, uint64_t seed,
               const StepState* state) override;
  void scale(float* x, int64_t n, float factor) override;
  void round_to_precision(float* dst, const float* src, int64_t n, DType dtype) override;
  void add(float* y, const float* x, int64_t n) override;
  void multiply(float* y, const float* x, int64_t n) override;
  void copy_2d(float* dst, int64_t dst_ld, const float* src, int64_t src_ld, int64_t rows,
               int64_t cols) override;
  void clip(float* x, int64_t n, float lo, float hi) override;
  void scale_shift(const float* x, float* y, int64_t n, float scale, float offset) override;
  void normalize(const float* x, float* y, int64_t rows, int64_t channels, const float* mean,
                 const float* variance, bool invert) override;
  void category_encode(const float* x, int64_t numel, int64_t last, int64_t num_tokens,
                       CategoryMode mode, bool skip_negative, float* y, StepState* state,
                       int32_t node) override;

  // ---- cuda_gather.cu (fit's arrays kept on the device: batches gathered by row) ----
  void gather_rows(void* dst, const void* src, int64_t src_rows, int64_t row_bytes,
                   const int64_t* indices, int64_t count) override;

  // ---- cuda_state.cu (step state, clipping norms, check-numerics) ----
  void clip_by_norm(float* x, int64_t n, float max_norm) override;
  void add_sum_squares(const float* x, int64_t n, StepState* state) override;
  void penalty(const float* x, int64_t n, const PenaltySpec& spec, double* sum, double sum_scale,
               float* grad, bool accumulate, const StepState* state) override;
  void random_values(RandomKind kind, float a, float b, uint64_t seed, const float* x, float* y,
                     int64_t n, const StepState* state, bool training) override;
  void clip_by_global_norm(float* x, int64_t n, float max_norm, const StepState* state) override;
  void step_begin(StepState* state, bool training) override;
  void step_end(StepState* state, bool training, double count) override;
  void prepare_update(StepState* state, const ScheduleSpec& schedule, float beta1,
                      float beta2) override;
  void finish_update(StepState* state) override;
  void loss_scale_update(StepState* state, int64_t growth_steps) override;
  void check_finite(const float* x, int64_t n, StepState* state) override;
  void apply_loss_scale(float* x, int64_t n, const StepState* state, bool unscale) override;
  void check_numerics(const float* x, int64_t n, StepState* state, int32_t node,
                      StepPass pass) override;
  void check_numerics_sums(StepState* state, int32_t first, int32_t count, int32_t output) override;

  // ---- cuda_losses.cu ----
  void loss_mse(const float* pred, const float* target, int64_t rows, int64_t cols,
                double* loss_sum, float* grad, float grad_scale) override;
  void loss_mae(const float* pred, const float* target, int64_t rows, int64_t cols,
                double* loss_sum, float* grad, float grad_scale) override;
  void loss_huber(const float* pred, const float* target, int64_t rows, int64_t cols, float delta,
                  double* loss_sum, float* grad, float grad_scale) override;
  void loss_binary_crossentropy(const float* pred, const float* target, int64_t rows, int64_t cols,
                                bool from_logits, double* loss_sum, float* grad,
                                float grad_scale) override;
  void loss_categorical_crossentropy(const float* pred, const float* target, int64_t rows,
                                     int64_t cols, bool from_logits, double* loss_sum, float* grad,
                                     float grad_scale) override;
  void loss_sparse_categorical_crossentropy(const float* pred, const int64_t* labels, int64_t rows,
                                            int64_t cols, bool from_logits, double* loss_sum,
                                            float* grad, float grad_scale, StepState* state,
                                            int32_t output) override;

  // ---- cuda_metrics.cu ----
  void metric_binary_accuracy(const float* pred, const float* target, int64_t rows, int64_t cols,
                              float threshold, double* sum) override;
  void metric_categorical_accuracy(const float* pred, const float* target, int64_t rows,
                                   int64_t cols, double* sum) override;
  void metric_sparse_categorical_accuracy(const float* pred, const int64_t* labels, int64_t rows,
                                          int64_t cols, double* sum) override;
  void metric_mean_error(const float* pred, const float* target, int64_t rows, int64_t cols,
                         int power, double* sum) override;

  // ---- cuda_optimizers.cu ----
  void sgd_update(float* p, const float* g, float* momentum_buf, int64_t n, float momentum,
                  bool nesterov, const StepState* state) override;
  void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n,
                   float beta1, float beta2, float epsilon, const StepState* state) override;
  void rmsprop_update(float* p, const float* g, float* v, float* mean_grad, float* momentum_buf,
                      int64_t n, float rho, float momentum, float epsilon,
                      const StepState* state) override;
  void adagrad_update(float* p, const float* g, float* acc, int64_t n, float epsilon,
                      const StepState* state) override;
  void decay_weights(float* p, int64_t n, float weight_decay, const StepState* state) override;

  // ---- cuda_conv.cu (cuDNN; without cuDNN each raises an error naming itself) ----
  void conv2d_forward(const Conv2DGeometry& g, const float* x, const float* kernel,
                      float* y) override;
  void conv2d_backward_data(const Conv2DGeometry& g, const float* dy, const float* kernel,
                            float* dx) override;
  void conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                              float* dkernel, float* dbias) override;

  // ---- cuda_pooling.cu (max/average pooling, zero padding; gathers, no atomics) ----
  void max_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) override;
  void max_pool2d_backward(const Pool2DGeometry& g, const float* x, const float* dy,
                           float* dx) override;
  void avg_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) override;
  void avg_pool2d_backward(const Pool2DGeometry& g, const float* dy, float* dx) override;
  void zero_pad2d_forward(const Pad2DGeometry& g, const float* x, float* y) override;
  void zero_pad2d_backward(const Pad2DGeometry& g, const float* dy, float* dx) override;

  // ---- cuda_normalization.cu (BatchNormalization; the CPU's chunked double sums) ----
  void batch_norm_forward_training(const float* x, float* y, int64_t rows, int64_t channels,
                                   const float* gamma, const float* beta, float epsilon,
                                   float momentum, float* moving_mean, float* moving_var,
                                   float* saved_mean, float* saved_inv_std,
                                   const StepState* state) override;
  void batch_norm_forward_inference(const float* x, float* y, int64_t rows, int64_t channels,
                                    const float* gamma, const float* beta, const float* moving_mean,
                                    const float* moving_var, float epsilon, float* saved_mean,
                                    float* saved_inv_std) override;
  void batch_norm_backward(const float* x, const float* dy, int64_t rows, int64_t channels,
                           const float* gamma, const float* saved_mean, const float* saved_inv_std,
                           bool batch_stats, float* dx, float* dgamma, float* dbeta) override;

  // ---- cuda_image.cu (affine resampling and its adjoint, flips, the random draws) ----
  void affine_transform_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c,
                               const float* transforms, Interpolation interpolation,
                               FillMode fill_mode, float fill_value) override;
  void affine_transform_images_backward(const float* dy, float* dx, int64_t n, int64_t h, int64_t w,
                                        int64_t c, const float* transforms,
                                        Interpolation interpolation, FillMode fill_mode) override;
  void flip_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c,
                   const float* flips) override;
  void random_flips(const FlipSpec& spec, int64_t n, float* flags, const StepState* state) override;
  void random_affine_matrices(const AffineSpec& spec, int64_t n, int64_t h, int64_t w,
                              float* matrices, const StepState* state) override;

  // ---- cuda_layer_kernels.cu (ReLU, PReLU, UpSampling2D, LayerNormalization, depthwise
  // convolution; the CPU's orders) ----
  void relu_forward(const float* x, float* y, int64_t n, float max_value, float negative_slope,
                    float threshold) override;
  void relu_backward(const float* x, const float* dy, float* dx, int64_t n, float max_value,
                     float negative_slope, float threshold) override;
  void prelu_forward(const PReluGeometry& g, const float* x, const float* alpha,
                     float* y) override;
  void prelu_backward(const PReluGeometry& g, const float* x, const float* alpha, const float* dy,
                      float* dx, float* dalpha) override;
  void upsample2d_forward(const Upsample2DGeometry& g, const float* x, float* y) override;
  void upsample2d_backward(const Upsample2DGeometry& g, const float* dy, float* dx) override;
  void layer_norm_forward(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
                          const float* beta, float epsilon, float* saved_mean,
                          float* saved_inv_std) override;
  void layer_norm_backward(const float* x, const float* dy, int64_t rows, int64_t cols,
                           const float* gamma, const float* saved_mean, const float* saved_inv_std,
                           float* dx, float* dgamma, float* dbeta) override;
  void depthwise_conv2d_forward(const Conv2DGeometry& g, const float* x, const float* kernel,
                                float* y) override;
  void depthwise_conv2d_backward_data(const Conv2DGeometry& g, const float* dy,
                                      const float* kernel, float* dx) override;
  void depthwise_conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                                        float* dkernel) override;

  // ---- 16-bit storage (backend.h): native kernels over the 16-bit bits, float32 arithmetic,
  // each 16-bit output rounded once with core/half.h's encoding (the CPU's bits) ----
  // cuda_elementwise.cu
  void cast(void* dst, DType dst_type, const void* src, DType src_type, int64_t n) override;
  void add_half(void* y, const void* x, int64_t n, DType half) override;
  void bias_activation_half(void* y, const void* bias, int64_t rows, int64_t cols, Activation act,
                            float alpha, void* preact, DType half) override;
  void activation_forward_half(Activation act, float alpha, const void* x, void* y, int64_t rows,
                               int64_t cols, DType half) override;
  void activation_backward_half(Activation act, float alpha, const void* x, const void* y,
                                const void* dy, void* dx, int64_t rows, int64_t cols,
                                DType half) override;
  void column_sum_half(const void* x, int64_t rows, int64_t cols, float* out,
                       DType half) override;
  void dropout_half(const void* x, void* y, int64_t n, float rate, uint64_t seed,
                    const StepState* state, DType half) override;
  // cuda_gemm.cu (cuBLASLt with 16-bit A and B, float32 accumulation)
  void gemm_half(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const void* a,
                 int64_t lda, const void* b, int64_t ldb, void* c, int64_t ldc, DType c_type,
                 DType half) override;
  void dense_forward_half(const void* x, const void* w, const void* bias, int64_t rows,
                          int64_t in, int64_t units, Activation act, float alpha, void* y,
                          void* preact, DType half) override;
  // cuda_conv.cu (cuDNN, 16-bit tensors, float32 compute)
  void conv2d_forward_half(const Conv2DGeometry& g, const void* x, const void* kernel, void* y,
                           DType half) override;
  void conv2d_backward_data_half(const Conv2DGeometry& g, const void* dy, const void* kernel,
                                 void* dx, DType half) override;
  void conv2d_backward_filter_half(const Conv2DGeometry& g, const void* x, const void* dy,
                                   float* dkernel, float* dbias, DType half) override;
  // cuda_pooling.cu
  void max_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                               DType half) override;
  void max_pool2d_backward_half(const Pool2DGeometry& g, const void* x, const void* dy, void* dx,
                                DType half) override;
  void avg_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                               DType half) override;
  void avg_pool2d_backward_half(const Pool2DGeometry& g, const void* dy, void* dx,
                                DType half) override;
  // cuda_normalization.cu
  void batch_norm_forward_training_half(const void* x, void* y, int64_t rows, int64_t channels,
                                        const float* gamma, const float* beta, float epsilon,
                                        float momentum, float* moving_mean, float* moving_var,
                                        float* saved_mean, float* saved_inv_std,
                                        const StepState* state, DType half) override;
  void batch_norm_forward_inference_half(const void* x, void* y, int64_t rows, int64_t channels,
                                         const float* gamma, const float* beta,
                                         const float* moving_mean, const float* moving_var,
                                         float epsilon, float* saved_mean, float* saved_inv_std,
                                         DType half) override;
  void batch_norm_backward_half(const void* x, const void* dy, int64_t rows, int64_t channels,
                                const float* gamma, const float* saved_mean,
                                const float* saved_inv_std, bool batch_stats, void* dx,
                                float* dgamma, float* dbeta, DType half) override;
  // cuda_state.cu
  void check_numerics_half(const void* x, int64_t n, StepState* state, int32_t node,
                           StepPass pass, DType half) override;

  // dense_forward_half's unfused tail (cuda_elementwise.cu): y = act(src + bias) from the
  // float32 product src (rows x cols), y, bias (nullable) and preact (nullable) 16-bit, each
  // rounded once.
  void bias_activation_from_float(const float* src, void* y, const void* bias, int64_t rows,
                                  int64_t cols, Activation act, float alpha, void* preact,
                                  DType half);

  // ==== ff.ops: cuda_ops.cu (one thread per output element, the rules of backend/op_rules.h) ====
  void op_unary(UnaryKind op, float p0, float p1, const float* x, float* y, int64_t n) override;
  void op_unary_backward(UnaryKind op, float p0, float p1, const float* x, const float* y,
                         const float* dy, float* dx, int64_t n) override;
  void op_binary(BinaryKind op, const float* a, float a_scalar, const float* b, float b_scalar,
                 float* y, const BroadcastGeometry& g) override;
  void op_binary_backward(BinaryKind op, const float* a, float a_scalar, const float* b,
                          float b_scalar, const float* dy, float* da, float* db,
                          const BroadcastGeometry& g) override;
  void op_where(const float* cond, float cond_scalar, const float* x, float x_scalar,
                const float* y, float y_scalar, float* out, const BroadcastGeometry& g) override;
  void op_where_backward(const float* cond, float cond_scalar, const float* dy, float* dx,
                         float* dy_out, const BroadcastGeometry& g) override;
  void op_reduce(ReduceKind op, const float* x, float* y, const ReduceGeometry& g) override;
  void op_reduce_backward(ReduceKind op, const float* x, const float* y, const float* dy,
                          float* dx, const ReduceGeometry& g) override;
  void op_strided_copy(const float* x, float* y, const BroadcastGeometry& g) override;
  void op_take(const float* x, const float* idx, float* y, int64_t outer, int64_t size,
               int64_t n, int64_t inner, StepState* state, int32_t node) override;
  void op_take_backward(const float* idx, const float* dy, float* dx, int64_t outer,
                        int64_t size, int64_t n, int64_t inner) override;
  // ==== end of ff.ops ====

 private:
  CudaDevice* cuda_device_;
  std::unique_ptr<GemmEngine> gemm_;
  std::unique_ptr<ConvEngine> conv_;  // cuda-conv
};

}  // namespace ff::cuda
