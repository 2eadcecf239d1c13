// The loops of Sequential: train_epoch (forward, loss, backward, optimizer update, metric
// accumulation per batch), evaluate, predict and call. They run entirely in C++; the BatchHook is
// the only exit to the caller. Check-numerics, when on, inspects every layer output, every
// gradient and the loss, and names the layer, the pass, the epoch and the step.
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/errors.h"
#include "core/numerics.h"
#include "model/sequential.h"

namespace ff {
namespace {

using Clock = std::chrono::steady_clock;

// Calls the hook every batch when asked to, else at most every interval; returns "stop".
class HookTimer {
 public:
  explicit HookTimer(const LoopOptions& o) : opts_(o), last_(Clock::now()) {}
  bool due() {
    if (!opts_.hook) return false;
    if (opts_.hook_every_batch) return true;
    auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_).count() < opts_.hook_interval_s) return false;
    last_ = now;
    return true;
  }

 private:
  const LoopOptions& opts_;
  Clock::time_point last_;
};

int64_t num_batches(int64_t n, int64_t batch_size) { return (n + batch_size - 1) / batch_size; }

void check_batch_size(int64_t batch_size) {
  if (batch_size <= 0)
    throw ValueError("batch_size must be a positive integer; received batch_size=" +
                     std::to_string(batch_size));
}

Shape row_shape(const Shape& s) { return Shape(s.begin() + 1, s.end()); }

}  // namespace

void Sequential::load_batch(Plan& p, const HostArray& x, const HostArray* y,
                            const int64_t* indices, int64_t count) {
  // indices == nullptr: the first `count` rows (callers offset the data pointer).
  if (indices) {
    backend_->gather_rows_from_host(p.input.raw(), x.data, x.row_bytes(), indices, count);
    if (y) backend_->gather_rows_from_host(p.target.raw(), y->data, y->row_bytes(), indices, count);
  } else {
    backend_->copy_from_host(p.input.raw(), x.data, x.row_bytes() * count);
    if (y) backend_->copy_from_host(p.target.raw(), y->data, y->row_bytes() * count);
  }
}

void Sequential::numerics_error(const std::string& what, const std::string& pass, const Tensor& t,
                                const StepContext& ctx) const {
  std::vector<float> host(static_cast<size_t>(t.numel()));
  backend_->copy_to_host(host.data(), t.raw(), t.nbytes());
  int64_t nans = 0, infs = 0;
  for (float v : host) {
    nans += std::isnan(v);
    infs += std::isinf(v);
  }
  std::string found = nans ? "NaN" : "Inf";
  std::string where;
  if (ctx.epoch >= 0)
    where = "epoch " + std::to_string(ctx.epoch + 1) + ", step " + std::to_string(ctx.batch + 1);
  else
    where = ctx.training ? "a training call" : "an inference call";
  throw NumericsError("check-numerics: " + what + " produced " + found + " in its " + pass +
                      " pass (" + where + "; " + std::to_string(nans) + " NaN and " +
                      std::to_string(infs) + " Inf among " + std::to_string(t.numel()) +
                      " values). Its inputs were finite, so this is where the non-finite values "
                      "started.");
}

void Sequential::forward(Plan& p, const StepContext& ctx) {
  const bool check = CheckNumerics::enabled();
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = *layers_[i];
    const Tensor& in = i == 0 ? p.input : p.outputs[i - 1];
    layer.check_input(in.shape());
    if (layer.aliases_input(ctx.training)) continue;
    layer.forward(in, p.outputs[i], p.scratch[i], ctx);
    if (check && backend_->has_nonfinite(p.outputs[i].data<float>(), p.outputs[i].numel()))
      numerics_error("layer \"" + layer.name() + "\" (" + layer.class_name() + ")", "forward",
                     p.outputs[i], ctx);
  }
}

void Sequential::backward(Plan& p, const StepContext& ctx) {
  const bool check = CheckNumerics::enabled();
  for (size_t i = layers_.size(); i-- > 0;) {
    if (!p.grads[i].defined()) break;
    Layer& layer = *layers_[i];
    if (layer.aliases_input(true)) continue;
    const Tensor& in = i == 0 ? p.input : p.outputs[i - 1];
    Tensor* dx = needs_input_grad_[i] ? &p.grads[i - 1] : nullptr;
    layer.backward(in, p.outputs[i], p.grads[i], dx, p.scratch[i], ctx);
    if (!check) continue;
    const std::string who = "layer \"" + layer.name() + "\" (" + layer.class_name() + ")";
    for (const Tensor& g : layer.grads())
      if (g.defined() && backend_->has_nonfinite(g.data<float>(), g.numel()))
        numerics_error(who, "backward", g, ctx);
    if (dx && backend_->has_nonfinite(dx->data<float>(), dx->numel()))
      numerics_error(who, "backward", *dx, ctx);
  }
}

void Sequential::loss_and_metrics(Plan& p, int64_t count, bool training, double* acc,
                                  const int64_t* indices, int64_t first_row,
                                  const StepContext& ctx) {
  Tensor& pred = p.outputs.back();
  Tensor target = p.target.reshape(p.target.dtype() == DType::Int64
                                        ? Shape{count}
                                        : pred.shape());
  // Outputs (N, T, ..., K) hold `positions` loss rows per sample: Keras's sum_over_batch_size
  // averages over all of them, so per-sample loss and metric values are means over positions.
  const int64_t positions = pred.numel() / (count * pred.shape().back());
  double step_loss = 0.0;
  int64_t bad = loss_->compute(*backend_, pred, target, &step_loss,
                               training ? &p.grads.back() : nullptr,
                               1.0f / static_cast<float>(count * positions));
  if (bad >= 0) {
    int64_t label = 0;
    backend_->copy_to_host(&label, target.data<int64_t>() + bad, sizeof(int64_t));
    const int64_t sample = indices ? indices[bad] : first_row + bad;
    throw ValueError("Received a label value of " + std::to_string(label) + " at sample index " +
                     std::to_string(sample) + " of y, which is outside the valid range [0, " +
                     std::to_string(pred.shape().back()) + ") for the " +
                     std::to_string(pred.shape().back()) + " outputs of the model (loss \"" +
                     loss_->name() + "\"). Labels must be class indices 0.." +
                     std::to_string(pred.shape().back() - 1) + ".");
  }
  if (CheckNumerics::enabled() && !std::isfinite(step_loss)) {
    std::string where = ctx.epoch >= 0 ? "epoch " + std::to_string(ctx.epoch + 1) + ", step " +
                                             std::to_string(ctx.batch + 1)
                                       : std::string("outside fit");
    throw NumericsError("check-numerics: the loss \"" + loss_->name() + "\" produced " +
                        (std::isnan(step_loss) ? "NaN" : "Inf") + " (" + where +
                        ") although the model outputs were finite: check the targets (NaN or Inf "
                        "in y?) and from_logits.");
  }
  acc[0] += step_loss / static_cast<double>(positions);
  for (size_t m = 0; m < metrics_.size(); ++m) {
    double sum = 0.0;
    metrics_[m]->update(*backend_, pred, target, &sum);
    acc[m + 1] += sum / static_cast<double>(positions);
  }
}

Logs Sequential::make_logs(const double* acc, double samples) const {
  Logs logs;
  auto names = metric_names();
  for (size_t i = 0; i < names.size(); ++i)
    logs.emplace_back(names[i], samples > 0 ? acc[i] / samples : 0.0);
  return logs;
}

Logs Sequential::train_epoch(const HostArray& x, const HostArray& y,
                             const std::vector<int64_t>& order, int64_t epoch,
                             const LoopOptions& opts) {
  check_batch_size(opts.batch_size);
  check_input(x.shape);
  Shape target_shape = check_targets(x.shape, y.shape, y.dtype);
  for (int64_t i : order)
    if (i < 0 || i >= x.rows()) throw ValueError("sample order index out of range");
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t steps = num_batches(n, opts.batch_size);
  std::vector<double> acc(metrics_.size() + 1, 0.0);
  double samples = 0;
  HookTimer timer(opts);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t count = std::min(opts.batch_size, n - s * opts.batch_size);
    const int64_t* idx = order.data() + s * opts.batch_size;
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, make_logs(acc.data(), samples)))
      break;
    Plan& p = plan_for(count, true, true, row_shape(target_shape), y.dtype);
    load_batch(p, x, &y, idx, count);
    StepContext ctx{backend_, true, train_steps_, epoch, s};
    forward(p, ctx);
    loss_and_metrics(p, count, true, acc.data(), idx, 0, ctx);
    backward(p, ctx);
    optimizer_->apply(*backend_, params_, grads_, segments_);
    ++train_steps_;
    samples += static_cast<double>(count);
    if (timer.due() && opts.hook(false, s + 1, make_logs(acc.data(), samples))) break;
  }
  return make_logs(acc.data(), samples);
}

Logs Sequential::evaluate(const HostArray& x, const HostArray& y, const LoopOptions& opts) {
  check_batch_size(opts.batch_size);
  check_input(x.shape);
  return run_eval_loop(x, y, opts);
}

Logs Sequential::run_eval_loop(const HostArray& x, const HostArray& y, const LoopOptions& opts) {
  Shape target_shape = check_targets(x.shape, y.shape, y.dtype);
  const int64_t n = x.rows();
  const int64_t steps = num_batches(n, opts.batch_size);
  std::vector<double> acc(metrics_.size() + 1, 0.0);
  double samples = 0;
  HookTimer timer(opts);
  const auto* xb = static_cast<const char*>(x.data);
  const auto* yb = static_cast<const char*>(y.data);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t start = s * opts.batch_size;
    const int64_t count = std::min(opts.batch_size, n - start);
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, make_logs(acc.data(), samples)))
      break;
    Plan& p = plan_for(count, false, true, row_shape(target_shape), y.dtype);
    HostArray xs{xb + start * x.row_bytes(), x.shape, x.dtype};
    HostArray ys{yb + start * y.row_bytes(), y.shape, y.dtype};
    load_batch(p, xs, &ys, nullptr, count);
    StepContext ctx{backend_, false, train_steps_, -1, s};
    forward(p, ctx);
    loss_and_metrics(p, count, false, acc.data(), nullptr, start, ctx);
    samples += static_cast<double>(count);
    if (timer.due() && opts.hook(false, s + 1, make_logs(acc.data(), samples))) break;
  }
  return make_logs(acc.data(), samples);
}

void Sequential::predict(const HostArray& x, float* out, const LoopOptions& opts) {
  check_batch_size(opts.batch_size);
  check_input(x.shape);
  const int64_t n = x.rows();
  const int64_t out_row = shape_row_size(output_shape_);
  const int64_t steps = num_batches(n, opts.batch_size);
  HookTimer timer(opts);
  const auto* xb = static_cast<const char*>(x.data);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t start = s * opts.batch_size;
    const int64_t count = std::min(opts.batch_size, n - start);
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, {})) break;
    Plan& p = plan_for(count, false, false, {}, DType::Float32);
    HostArray xs{xb + start * x.row_bytes(), x.shape, x.dtype};
    load_batch(p, xs, nullptr, nullptr, count);
    StepContext ctx{backend_, false, train_steps_, -1, s};
    forward(p, ctx);
    backend_->copy_to_host(out + start * out_row, p.outputs.back().raw(),
                           static_cast<size_t>(count * out_row) * sizeof(float));
    if (timer.due() && opts.hook(false, s + 1, {})) break;
  }
}

void Sequential::call(const HostArray& x, bool training, float* out) {
  check_input(x.shape);
  const int64_t n = x.rows();
  if (n == 0) return;
  Plan& p = plan_for(n, training, false, {}, DType::Float32);
  load_batch(p, x, nullptr, nullptr, n);
  // Training-mode calls use streams with the top bit set, so they never repeat a fit step's
  // dropout mask, and each call gets a new one (as Keras draws a new mask per call).
  constexpr uint64_t kCallStreams = uint64_t{1} << 63;
  const uint64_t stream = training ? (kCallStreams | training_calls_++) : train_steps_;
  StepContext ctx{backend_, training, stream, -1, -1};
  forward(p, ctx);
  backend_->copy_to_host(out, p.outputs.back().raw(), p.outputs.back().nbytes());
}

}  // namespace ff
