// The backend: the kernel table that layers, losses, optimizers, metrics and the model's step are
// written against, over one Device (core/device.h: memory, copies, streams). Layers never include
// xtensor, BLAS or CUDA headers; they call these functions only, so a second backend (CUDA) slots
// in without touching them. Matrices are row-major; float32 everywhere, labels int64, and 16-bit
// buffers for mixed precision where the backend keeps them (the 16-bit storage section).
//
// The contract (docs/backend-contract.md): kernels enqueue work and never return a computed
// value to the host. What the host needs (loss and metric sums, a non-finite flag, a bad label, a
// gradient norm) is written into backend memory, mostly into the model's step-state block
// (backend/step_state.h), and read by the host at its sync points. Values that change every step
// (learning rate, bias corrections, loss scale, the random stream) are read from that block by
// the kernels, never passed in by value.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "backend/category_encode.h"
#include "backend/layer_rules.h"
#include "backend/op_geometry.h"
#include "backend/penalty_rules.h"
#include "backend/random_rules.h"
#include "backend/random_transforms.h"
#include "backend/schedule_spec.h"
#include "backend/step_state.h"
#include "backend/window_geometry.h"
#include "core/device.h"
#include "core/dtype.h"

namespace ff {

// Elementwise activations (Keras names; see layers/activations.h for parsing).
enum class Activation { Linear, Relu, Sigmoid, Tanh, Softmax, LeakyRelu, Elu, Gelu, Swish };

// Image resampling (RandomTranslation/Zoom/Rotation): how a point between pixels is read, and
// what lies outside the image (Keras's fill modes: reflect (d c b a | a b c d | d c b a),
// wrap (a b c d | a b c d | a b c d), constant (k k k k | a b c d | k k k k), nearest).
enum class Interpolation { Bilinear, Nearest };
enum class FillMode { Reflect, Wrap, Constant, Nearest };

class Backend {
 public:
  explicit Backend(Device& device) : device_(&device) {}
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  Device& device() const { return *device_; }
  DeviceType device_type() const { return device_->type(); }
  virtual std::string name() const = 0;

  // ---- memory (on the device's compute stream) ----
  void copy(void* dst, const void* src, size_t bytes) { device_->copy(dst, src, bytes); }
  virtual void fill(float* x, int64_t n, float value) = 0;

  // ---- linear algebra ----
  // C (m x n) = alpha * op(A) op(B) + beta * C, row-major, op = transpose when trans_*.
  virtual void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                    int64_t ldc) = 0;
  // c = op(a) op(b) for a layer computing in bfloat16 (a and b hold bfloat16 values, or are
  // rounded to them): bfloat16 kernels with float32 accumulation and result where the backend
  // has them, else gemm on the same values.
  virtual void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                         const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                         int64_t ldc) = 0;

  // ---- activations and rows ----
  // y[r, c] = act(y[r, c] + bias[c]) in place; bias may be null; when preact is not null the
  // value before the activation is stored there (needed by activations whose gradient uses x).
  virtual void bias_activation(float* y, const float* bias, int64_t rows, int64_t cols,
                               Activation act, float alpha, float* preact) = 0;
  // The Dense step: y (rows x units) = act(x (rows x in) · w (in x units) + bias), contiguous
  // row-major; bias may be null; preact as in bias_activation. Defined here as gemm then
  // bias_activation (so the CPU's bits are exactly those of the two calls); a GPU backend fuses
  // the bias (and an activation that keeps NaN) into the GEMM's epilogue.
  virtual void dense_forward(const float* x, const float* w, const float* bias, int64_t rows,
                             int64_t in, int64_t units, Activation act, float alpha, float* y,
                             float* preact) {
    gemm(false, false, rows, units, in, 1.0f, x, in, w, units, 0.0f, y, units);
    if (bias || act != Activation::Linear || preact)
      bias_activation(y, bias, rows, units, act, alpha, preact);
  }
  // y = act(x) over rows x cols (softmax is taken along each row).
  virtual void activation_forward(Activation act, float alpha, const float* x, float* y,
                                  int64_t rows, int64_t cols) = 0;
  // dx = dy * act'(x); uses y = act(x) where that suffices, x only for gelu/swish.
  virtual void activation_backward(Activation act, float alpha, const float* x, const float* y,
                                   const float* dy, float* dx, int64_t rows, int64_t cols) = 0;
  // out[c] = sum_r x[r, c] (bias gradient).
  virtual void column_sum(const float* x, int64_t rows, int64_t cols, float* out) = 0;
  // Inverted dropout with mask element i kept when Philox uniform(seed, stream, i) >= rate,
  // stream = state->rng_stream; the same stream gives the same mask in forward and backward.
  virtual void dropout(const float* x, float* y, int64_t n, float rate, uint64_t seed,
                       const StepState* state) = 0;

  // ---- vector ops (optimizers, clipping) ----
  virtual void scale(float* x, int64_t n, float factor) = 0;
  // dst[i] = src[i] rounded to the nearest value of `dtype` (BFloat16 or Float16: mixed
  // precision's layer-boundary casts); dst may equal src.
  virtual void round_to_precision(float* dst, const float* src, int64_t n, DType dtype) = 0;
  // y += x (summing gradients of values and layers used more than once).
  virtual void add(float* y, const float* x, int64_t n) = 0;
  // y *= x elementwise (Multiply merge).
  virtual void multiply(float* y, const float* x, int64_t n) = 0;
  // Copies a rows x cols block between row-major matrices with leading dimensions dst_ld and
  // src_ld (Concatenate along any axis, and its gradient split).
  virtual void copy_2d(float* dst, int64_t dst_ld, const float* src, int64_t src_ld, int64_t rows,
                       int64_t cols) = 0;
  // tf.gather along the first axis over raw rows: dst row r = src row indices[r] for r in
  // [0, count), rows of row_bytes bytes, src holding src_rows rows (float32 inputs, int64 or
  // float32 targets alike: fit's arrays kept on the device, batches gathered by a shuffled
  // order). indices lie in backend memory. An index outside [0, src_rows) gives a row of zero
  // bytes (the host checks the order beforehand; this only keeps a bad index from reading out of
  // bounds). dst and src do not overlap.
  virtual void gather_rows(void* dst, const void* src, int64_t src_rows, int64_t row_bytes,
                           const int64_t* indices, int64_t count) = 0;
  virtual void clip(float* x, int64_t n, float lo, float hi) = 0;
  // clipnorm: x *= max_norm / ||x|| when ||x|| > max_norm (the norm computed in the kernel).
  virtual void clip_by_norm(float* x, int64_t n, float max_norm) = 0;
  // global_clipnorm, two passes over every variable: add sum(x^2) to state->norm_squares, then
  // x *= max_norm / sqrt(norm_squares) when that norm exceeds max_norm.
  virtual void add_sum_squares(const float* x, int64_t n, StepState* state) = 0;
  virtual void clip_by_global_norm(float* x, int64_t n, float max_norm,
                                   const StepState* state) = 0;

  // ---- the step-state block (backend/step_state.h): each applies the rule of the same name
  // there; `state` is backend memory ----
  virtual void step_begin(StepState* state, bool training) = 0;
  virtual void step_end(StepState* state, bool training, double count) = 0;
  virtual void prepare_update(StepState* state, const ScheduleSpec& schedule, float beta1,
                              float beta2) = 0;
  virtual void finish_update(StepState* state) = 0;
  virtual void loss_scale_update(StepState* state, int64_t growth_steps) = 0;
  // state->grads_finite = 0 when x holds a NaN or Inf.
  virtual void check_finite(const float* x, int64_t n, StepState* state) = 0;
  // Loss scaling: x *= state->loss_scale (the loss gradient), or when `unscale` x /= it, only
  // when the step's gradients are finite (a skipped step leaves them).
  virtual void apply_loss_scale(float* x, int64_t n, const StepState* state, bool unscale) = 0;
  // Check-numerics: records a NonFinite error at `node` (state_nonfinite) when x holds a NaN or
  // Inf; for StepPass::Loss, x is the step's partial sums [first, first + count).
  virtual void check_numerics(const float* x, int64_t n, StepState* state, int32_t node,
                              StepPass pass) = 0;
  virtual void check_numerics_sums(StepState* state, int32_t first, int32_t count,
                                   int32_t output) = 0;

  // ---- penalties (backend/penalty_rules.h): a model's added losses and weight regularizers.
  // Adds sum_scale * (the sum over x's n elements of p(x[i])) to *sum (a slot of the step's
  // partial sums; null: no sum), accumulated in double in a fixed order (the same bits on every
  // run), and, when grad is not null, writes grad[i] = state->loss_scale * p'(x[i]) (adds it when
  // `accumulate`): the gradient carries the loss scale as the compiled losses' gradients do. ----
  virtual void penalty(const float* x, int64_t n, const PenaltySpec& spec, double* sum,
                       double sum_scale, float* grad, bool accumulate,
                       const StepState* state) = 0;

  // ---- losses: add the sum over rows of the per-row loss to *loss_sum (a slot of the step's
  // partial sums in backend memory) and write dL/dpred * grad_scale into grad (grad may be null
  // for evaluation). ----
  virtual void loss_mse(const float* pred, const float* target, int64_t rows, int64_t cols,
                        double* loss_sum, float* grad, float grad_scale) = 0;
  virtual void loss_mae(const float* pred, const float* target, int64_t rows, int64_t cols,
                        double* loss_sum, float* grad, float grad_scale) = 0;
  virtual void loss_huber(const float* pred, const float* target, int64_t rows, int64_t cols,
                          float delta, double* loss_sum, float* grad, float grad_scale) = 0;
  virtual void loss_binary_crossentropy(const float* pred, const float* target, int64_t rows,
                                        int64_t cols, bool from_logits, double* loss_sum,
                                        float* grad, float grad_scale) = 0;
  virtual void loss_categorical_crossentropy(const float* pred, const float* target, int64_t rows,
                                             int64_t cols, bool from_logits, double* loss_sum,
                                             float* grad, float grad_scale) = 0;
  // A label outside [0, cols) records a BadLabel error (error_where = `output`, the row and the
  // label) and adds nothing for the batch.
  virtual void loss_sparse_categorical_crossentropy(const float* pred, const int64_t* labels,
                                                    int64_t rows, int64_t cols, bool from_logits,
                                                    double* loss_sum, float* grad,
                                                    float grad_scale, StepState* state,
                                                    int32_t output) = 0;

  // ---- metrics: add per-row values summed over rows to *sum (backend memory) ----
  // threshold applies to binary accuracy (0.5 for probabilities, 0 for logits).
  virtual void metric_binary_accuracy(const float* pred, const float* target, int64_t rows,
                                      int64_t cols, float threshold, double* sum) = 0;
  virtual void metric_categorical_accuracy(const float* pred, const float* target, int64_t rows,
                                           int64_t cols, double* sum) = 0;
  virtual void metric_sparse_categorical_accuracy(const float* pred, const int64_t* labels,
                                                  int64_t rows, int64_t cols, double* sum) = 0;
  // Mean over columns of |pred - target|^power (power 1 or 2), summed over rows.
  virtual void metric_mean_error(const float* pred, const float* target, int64_t rows,
                                 int64_t cols, int power, double* sum) = 0;

  // ---- optimizer updates over the contiguous parameter buffer (one fused pass each). Each
  // does nothing unless state->apply_update, and takes the rate from state->learning_rate. ----
  virtual void sgd_update(float* p, const float* g, float* momentum_buf, int64_t n,
                          float momentum, bool nesterov, const StepState* state) = 0;
  // alpha = lr * sqrt(bias_correction2) / bias_correction1, Keras's form; vhat when amsgrad.
  virtual void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n,
                           float beta1, float beta2, float epsilon, const StepState* state) = 0;
  virtual void rmsprop_update(float* p, const float* g, float* v, float* mean_grad,
                              float* momentum_buf, int64_t n, float rho, float momentum,
                              float epsilon, const StepState* state) = 0;
  virtual void adagrad_update(float* p, const float* g, float* acc, int64_t n, float epsilon,
                              const StepState* state) = 0;
  // Decoupled weight decay: p *= 1 - weight_decay * learning_rate.
  virtual void decay_weights(float* p, int64_t n, float weight_decay, const StepState* state) = 0;

  // ---- convolution, pooling, padding: NHWC float32, geometry in backend/window_geometry.h.
  // Every kernel overwrites its output, propagates NaN (a NaN in a window gives NaN out) and
  // gives the same result on every run. ----
  virtual void conv2d_forward(const Conv2DGeometry& g, const float* x, const float* kernel,
                              float* y) = 0;
  // dx (N, H, W, C) from dy (N, OH, OW, F).
  virtual void conv2d_backward_data(const Conv2DGeometry& g, const float* dy, const float* kernel,
                                    float* dx) = 0;
  // dkernel (KH, KW, C, F) from x and dy, summed over the batch; when dbias is not null also
  // dbias (F) = the sums of dy over N, OH, OW (the bias gradient).
  virtual void conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                                      float* dkernel, float* dbias) = 0;
  virtual void max_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) = 0;
  // Routes each dy to the first maximum of its window in x (the first NaN when there is one),
  // found again from x; overlapping windows add up.
  virtual void max_pool2d_backward(const Pool2DGeometry& g, const float* x, const float* dy,
                                   float* dx) = 0;
  // Mean over the window positions inside the input (TF/Keras "same" average pooling).
  virtual void avg_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) = 0;
  virtual void avg_pool2d_backward(const Pool2DGeometry& g, const float* dy, float* dx) = 0;
  virtual void zero_pad2d_forward(const Pad2DGeometry& g, const float* x, float* y) = 0;
  // dx = the interior of dy.
  virtual void zero_pad2d_backward(const Pad2DGeometry& g, const float* dy, float* dx) = 0;

  // ---- normalization and preprocessing layers: x viewed as rows x channels (channels last);
  // per-channel statistics accumulate in double, deterministically. gamma/beta may be null
  // (scale/center off: 1 and 0). ----
  // BatchNormalization with the batch statistics (mean, biased variance over the rows):
  // y = (x - mean) / sqrt(var + epsilon) * gamma + beta; moving = moving * momentum +
  // batch * (1 - momentum) unless moving_mean/moving_var are null or the loop is halted
  // (state may be null: always); saved_mean/saved_inv_std (channels each, nullable) receive mean
  // and 1/sqrt(var + epsilon) for the backward pass.
  virtual void batch_norm_forward_training(const float* x, float* y, int64_t rows,
                                           int64_t channels, const float* gamma, const float* beta,
                                           float epsilon, float momentum, float* moving_mean,
                                           float* moving_var, float* saved_mean,
                                           float* saved_inv_std, const StepState* state) = 0;
  // The same with the moving statistics (inference); saved_* as above.
  virtual void batch_norm_forward_inference(const float* x, float* y, int64_t rows,
                                            int64_t channels, const float* gamma,
                                            const float* beta, const float* moving_mean,
                                            const float* moving_var, float epsilon,
                                            float* saved_mean, float* saved_inv_std) = 0;
  // dbeta = sum dy, dgamma = sum dy * xhat (each nullable, overwritten); dx (nullable) through
  // the batch mean and variance when batch_stats, else dx = dy * gamma * inv_std.
  virtual void batch_norm_backward(const float* x, const float* dy, int64_t rows,
                                   int64_t channels, const float* gamma, const float* saved_mean,
                                   const float* saved_inv_std, bool batch_stats, float* dx,
                                   float* dgamma, float* dbeta) = 0;
  // y[i] = x[i] * scale + offset (Rescaling; its gradient is scale_shift(dy, dx, n, scale, 0)).
  virtual void scale_shift(const float* x, float* y, int64_t n, float scale, float offset) = 0;
  // Keras's Normalization with s = max(sqrt(variance), 1e-7) per channel: y = (x - mean) / s,
  // or y = mean + x * s when invert. mean may be null (0): normalize(dy, dx, ..., nullptr, var,
  // invert) is the gradient.
  virtual void normalize(const float* x, float* y, int64_t rows, int64_t channels,
                         const float* mean, const float* variance, bool invert) = 0;
  // Images (n, h, w, c), x != y. transforms: n rows [a0 a1 a2 b0 b1 b2] in backend memory; output
  // pixel (col, row) reads the input at (a0 col + a1 row + a2, b0 col + b1 row + b2), as Keras's
  // affine_transform; taps outside the image follow fill_mode (constant: fill_value).
  virtual void affine_transform_images(const float* x, float* y, int64_t n, int64_t h,
                                       int64_t w, int64_t c, const float* transforms,
                                       Interpolation interpolation, FillMode fill_mode,
                                       float fill_value) = 0;
  // The adjoint (exact gradient): dx = sum over taps of weight * dy; fill_value taps carry none.
  virtual void affine_transform_images_backward(const float* dy, float* dx, int64_t n, int64_t h,
                                                int64_t w, int64_t c, const float* transforms,
                                                Interpolation interpolation,
                                                FillMode fill_mode) = 0;
  // Sample i flipped left-right when flips[2i] != 0 and top-bottom when flips[2i+1] != 0
  // (flips in backend memory); its own adjoint.
  virtual void flip_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c,
                           const float* flips) = 0;
  // The augmentation draws of n samples from stream state->rng_stream
  // (backend/random_transforms.h): flags (n x 2) and matrices (n x 6).
  virtual void random_flips(const FlipSpec& spec, int64_t n, float* flags,
                            const StepState* state) = 0;
  virtual void random_affine_matrices(const AffineSpec& spec, int64_t n, int64_t h, int64_t w,
                                      float* matrices, const StepState* state) = 0;
  // CategoryEncoding of x (numel values, rows of `last` values): y (rows x num_tokens, or one
  // row per value for one_hot) is overwritten. A value that is not a whole number in
  // [0, num_tokens) records a BadCategory error (error_where = `node`, its flat index and the
  // value) unless skip_negative and it is negative.
  virtual void category_encode(const float* x, int64_t numel, int64_t last, int64_t num_tokens,
                               CategoryMode mode, bool skip_negative, float* y, StepState* state,
                               int32_t node) = 0;

  // ---- activation layers with options, resizing, layer normalisation, depthwise convolution
  // (the rules and the geometry structs are in backend/layer_rules.h) ----
  // ReLU(max_value, negative_slope, threshold) over n values: y = relu_rule(x, ...); max_value
  // +Inf for none. dx = relu_grad_rule(x, ..., dy). x != y, dy may equal dx.
  virtual void relu_forward(const float* x, float* y, int64_t n, float max_value,
                            float negative_slope, float threshold) = 0;
  virtual void relu_backward(const float* x, const float* dy, float* dx, int64_t n,
                             float max_value, float negative_slope, float threshold) = 0;
  // PReLU: y = prelu_rule(x, alpha[prelu_alpha_index]) over g.rows * g.sample values.
  virtual void prelu_forward(const PReluGeometry& g, const float* x, const float* alpha,
                             float* y) = 0;
  // dx (nullable) = prelu_grad_rule(x, alpha, dy); dalpha (nullable, overwritten) = the sum over
  // each alpha value's members of dy * min(x, 0), in double: members in order within chunks of
  // kPReluChunk, then the chunks in order.
  virtual void prelu_backward(const PReluGeometry& g, const float* x, const float* alpha,
                              const float* dy, float* dx, float* dalpha) = 0;
  // UpSampling2D (layer_rules.h): y overwritten.
  virtual void upsample2d_forward(const Upsample2DGeometry& g, const float* x, float* y) = 0;
  // The adjoint, gathered: each dx element adds the weighted dy of the outputs that read it, in
  // output raster order (nearest: its size_h x size_w block of dy, in order, in float).
  virtual void upsample2d_backward(const Upsample2DGeometry& g, const float* dy, float* dx) = 0;
  // LayerNormalization of each row of x (rows x cols): mean and biased variance of the row in
  // double (the 32-lane order: lane l sums columns l, l + 32, ... in order, then the lanes
  // combine by the butterfly m = 16, 8, 4, 2, 1), m = float(mean), s = float(1 / sqrt(var +
  // epsilon)), y = (x - m) * s * gamma[c] + beta[c] in float (gamma/beta nullable: 1 and 0);
  // saved_mean/saved_inv_std (rows each, nullable) receive m and s.
  virtual void layer_norm_forward(const float* x, float* y, int64_t rows, int64_t cols,
                                  const float* gamma, const float* beta, float epsilon,
                                  float* saved_mean, float* saved_inv_std) = 0;
  // With xhat = (x - m) * s and g = dy * gamma (float): dx (nullable) = s * (g - mean(g) - xhat *
  // mean(g * xhat)), the row means in double in the 32-lane order; dgamma = sum over rows of
  // dy * xhat, dbeta = sum over rows of dy (each nullable, overwritten; double, over fixed row
  // chunks of 2^14 / (2 cols) rows, then the chunks in order).
  virtual void layer_norm_backward(const float* x, const float* dy, int64_t rows, int64_t cols,
                                   const float* gamma, const float* saved_mean,
                                   const float* saved_inv_std, float* dx, float* dgamma,
                                   float* dbeta) = 0;
  // Depthwise convolution (DepthwiseConv2D, SeparableConv2D) on a Conv2DGeometry whose F is the
  // depth multiplier M: y (N, OH, OW, C * M), channel c * M + m = the window of input channel c
  // against kernel (KH, KW, C, M)[..., c, m], summed in (kh, kw) order in float.
  virtual void depthwise_conv2d_forward(const Conv2DGeometry& g, const float* x,
                                        const float* kernel, float* y) = 0;
  // dx (N, H, W, C) gathered: each element adds dy * kernel over the outputs that read it, in
  // (kh, kw, m) order, in float.
  virtual void depthwise_conv2d_backward_data(const Conv2DGeometry& g, const float* dy,
                                              const float* kernel, float* dx) = 0;
  // dkernel (KH, KW, C, M) = the sum over (n, oh, ow) of x * dy, in double: output positions in
  // order within chunks of kDepthwiseChunk (layer_rules.h), then the chunks in order.
  virtual void depthwise_conv2d_backward_filter(const Conv2DGeometry& g, const float* x,
                                                const float* dy, float* dkernel) = 0;

  // ---- 16-bit storage (mixed precision with real 16-bit buffers) ----
  // When half_storage() is true, a layer computing in bfloat16 or float16 whose layer supports it
  // keeps its inputs, outputs and their gradients in 16-bit buffers (2 bytes per value, the bits
  // of core/half.h's encode_half) and runs the functions below; its weights' float32 originals,
  // their gradients and the optimizer state stay float32. `half` names the 16-bit type of every
  // void* buffer of a call (DType::BFloat16 or DType::Float16). Each function computes in float32
  // from the decoded values and rounds its 16-bit outputs once (to nearest even), so a backend
  // agrees with the float32 function of the same name applied to the decoded inputs, then
  // rounded: exactly for elementwise functions, up to summation order for reductions, GEMMs and
  // convolutions (float32 accumulation: tensor cores on a GPU). The CPU backend implements them by
  // decoding into float32 buffers and calling its float32 kernels (the reference the CUDA parity
  // suite compares with); it reports half_storage() false (its mixed precision keeps float32
  // buffers holding 16-bit values, which its kernels read faster) unless set_half_storage(true)
  // (tests).
  bool half_storage() const { return half_storage_; }
  void set_half_storage(bool on) { half_storage_ = on; }
  // dst (dst_type) = src (src_type) converted, n values: Float32, BFloat16 or Float16 each; a
  // narrowing conversion rounds to nearest even, NaN stays NaN, overflow gives +-Inf.
  virtual void cast(void* dst, DType dst_type, const void* src, DType src_type, int64_t n) = 0;
  // y += x over 16-bit buffers (gradients of a value read twice).
  virtual void add_half(void* y, const void* x, int64_t n, DType half) = 0;
  // C (m x n, row-major, ldc) = op(A) op(B), A and B 16-bit, float32 accumulation; C is
  // overwritten, in c_type (Float32, or `half`).
  virtual void gemm_half(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                         const void* a, int64_t lda, const void* b, int64_t ldb, void* c,
                         int64_t ldc, DType c_type, DType half) = 0;
  // dense_forward with 16-bit x, w, bias (nullable), y and preact (nullable).
  virtual void dense_forward_half(const void* x, const void* w, const void* bias, int64_t rows,
                                  int64_t in, int64_t units, Activation act, float alpha, void* y,
                                  void* preact, DType half) = 0;
  // bias_activation over a 16-bit y (in place), 16-bit bias (nullable) and preact (nullable).
  virtual void bias_activation_half(void* y, const void* bias, int64_t rows, int64_t cols,
                                    Activation act, float alpha, void* preact, DType half) = 0;
  virtual void activation_forward_half(Activation act, float alpha, const void* x, void* y,
                                       int64_t rows, int64_t cols, DType half) = 0;
  virtual void activation_backward_half(Activation act, float alpha, const void* x,
                                        const void* y, const void* dy, void* dx, int64_t rows,
                                        int64_t cols, DType half) = 0;
  // out (float32, cols) = sum over rows of the 16-bit x (bias gradients).
  virtual void column_sum_half(const void* x, int64_t rows, int64_t cols, float* out,
                               DType half) = 0;
  virtual void dropout_half(const void* x, void* y, int64_t n, float rate, uint64_t seed,
                            const StepState* state, DType half) = 0;
  // Convolutions with 16-bit x, kernel, y, dy, dx; the filter gradient dkernel and dbias
  // (nullable) are float32 (dkernel holds 16-bit values: it is rounded once, as the float32
  // path rounds a 16-bit layer's weight gradients).
  virtual void conv2d_forward_half(const Conv2DGeometry& g, const void* x, const void* kernel,
                                   void* y, DType half) = 0;
  virtual void conv2d_backward_data_half(const Conv2DGeometry& g, const void* dy,
                                         const void* kernel, void* dx, DType half) = 0;
  virtual void conv2d_backward_filter_half(const Conv2DGeometry& g, const void* x,
                                           const void* dy, float* dkernel, float* dbias,
                                           DType half) = 0;
  virtual void max_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                                       DType half) = 0;
  virtual void max_pool2d_backward_half(const Pool2DGeometry& g, const void* x, const void* dy,
                                        void* dx, DType half) = 0;
  virtual void avg_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                                       DType half) = 0;
  virtual void avg_pool2d_backward_half(const Pool2DGeometry& g, const void* dy, void* dx,
                                        DType half) = 0;
  // BatchNormalization with 16-bit x, y, dy, dx; gamma, beta, the moving and saved statistics
  // and dgamma/dbeta float32 (the layer keeps its weights float32 under mixed precision).
  virtual void batch_norm_forward_training_half(const void* x, void* y, int64_t rows,
                                                int64_t channels, const float* gamma,
                                                const float* beta, float epsilon, float momentum,
                                                float* moving_mean, float* moving_var,
                                                float* saved_mean, float* saved_inv_std,
                                                const StepState* state, DType half) = 0;
  virtual void batch_norm_forward_inference_half(const void* x, void* y, int64_t rows,
                                                 int64_t channels, const float* gamma,
                                                 const float* beta, const float* moving_mean,
                                                 const float* moving_var, float epsilon,
                                                 float* saved_mean, float* saved_inv_std,
                                                 DType half) = 0;
  virtual void batch_norm_backward_half(const void* x, const void* dy, int64_t rows,
                                        int64_t channels, const float* gamma,
                                        const float* saved_mean, const float* saved_inv_std,
                                        bool batch_stats, void* dx, float* dgamma, float* dbeta,
                                        DType half) = 0;
  // check_numerics over a 16-bit buffer.
  virtual void check_numerics_half(const void* x, int64_t n, StepState* state, int32_t node,
                                   StepPass pass, DType half) = 0;

  // ==== ff.ops (layers/ops/; docs/ops.md) ====
  // NumPy-style elementwise ops with broadcasting, axis reductions and strided copies, for the op
  // layers that ff.ops calls become. Geometry and codes in backend/op_geometry.h, per-element
  // rules in backend/op_rules.h (shared by every backend). float32 buffers; every output is
  // overwritten; NaN propagates; the same inputs give the same bits on every run (a reduction
  // combines each output's values in the geometry's fixed order, no atomics).
  // y[i] = f(x[i]) for n elements (y may equal x).
  virtual void op_unary(UnaryKind op, float p0, float p1, const float* x, float* y,
                        int64_t n) = 0;
  // dx[i] = dy[i] * f'(x[i]) (op_rules.h's unary_grad_rule; x and y as the op's forward).
  virtual void op_unary_backward(UnaryKind op, float p0, float p1, const float* x,
                                 const float* y, const float* dy, float* dx, int64_t n) = 0;
  // y[i] = f(a[g offset 0 of i], b[g offset 1 of i]) over g.numel() outputs; a null operand is
  // the scalar given beside it (a_scalar, b_scalar). y may equal an operand only where that
  // operand has the output's layout (contiguous strides).
  virtual void op_binary(BinaryKind op, const float* a, float a_scalar, const float* b,
                         float b_scalar, float* y, const BroadcastGeometry& g) = 0;
  // The gradients of op_binary in the output's shape (da, db: g.numel() each, nullable): the
  // caller reduces them to an operand's shape with op_reduce(Sum) where it was broadcast.
  virtual void op_binary_backward(BinaryKind op, const float* a, float a_scalar, const float* b,
                                  float b_scalar, const float* dy, float* da, float* db,
                                  const BroadcastGeometry& g) = 0;
  // out[i] = cond != 0 ? x : y at g's offsets 0, 1, 2 (each pointer null: its scalar).
  virtual void op_where(const float* cond, float cond_scalar, const float* x, float x_scalar,
                        const float* y, float y_scalar, float* out,
                        const BroadcastGeometry& g) = 0;
  // Output-shaped gradients of op_where: dx[i] = cond != 0 ? dy[i] : 0, dy_out[i] = the rest
  // (nullable each).
  virtual void op_where_backward(const float* cond, float cond_scalar, const float* dy, float* dx,
                                 float* dy_out, const BroadcastGeometry& g) = 0;
  // y (g.out_numel(), contiguous over the kept axes) = the reduction of x over g's reduced axes.
  virtual void op_reduce(ReduceKind op, const float* x, float* y, const ReduceGeometry& g) = 0;
  // dx (x's elements, every one overwritten) from y = op_reduce(x) and dy (y's shape).
  virtual void op_reduce_backward(ReduceKind op, const float* x, const float* y, const float* dy,
                                  float* dx, const ReduceGeometry& g) = 0;
  // y[i] = x[g offset 0 of i] over g.numel() outputs (transpose, broadcast_to); y != x.
  virtual void op_strided_copy(const float* x, float* y, const BroadcastGeometry& g) = 0;
  // ff.ops.take: y (outer x n x inner) = x (outer x size x inner) gathered along its middle
  // axis at the n indices idx (floats holding whole numbers in [-size, size): a negative one
  // counts from the end, backend/take_rules.h). An index outside that range (or not whole)
  // records a BadCategory error (error_where = `node`, error_index = its position in idx,
  // error_value = it) and its entries of y are zeros. y != x.
  virtual void op_take(const float* x, const float* idx, float* y, int64_t outer, int64_t size,
                       int64_t n, int64_t inner, StepState* state, int32_t node) = 0;
  // Its gradient: dx (outer x size x inner, every element overwritten) = the sum of the dy
  // entries that read each x entry, added in the order of idx (deterministic, no atomics: one
  // thread owns each (outer, inner) column of dx); invalid indices add nothing.
  virtual void op_take_backward(const float* idx, const float* dy, float* dx, int64_t outer,
                                int64_t size, int64_t n, int64_t inner) = 0;
  // y[i] = random_value(kind, a, b, seed, random_stream(state, training), i, x[i]) for n
  // elements (backend/random_rules.h); x is read by Dropout only (null otherwise).
  virtual void random_values(RandomKind kind, float a, float b, uint64_t seed, const float* x,
                             float* y, int64_t n, const StepState* state, bool training) = 0;
  // ==== end of ff.ops ====

 private:
  Device* device_;
  bool half_storage_ = false;
};

}  // namespace ff
