// The loops of Model: train_epoch (forward, loss, backward, optimizer update, metric
// accumulation per batch), evaluate, predict and call. They run entirely in C++; the BatchHook is
// the only exit to the caller. Backward walks the nodes in reverse: a value read by several nodes
// (or also a model output) sums its gradients, the first writer writing and later ones adding
// through a spare buffer; a layer used by several nodes sums its parameter gradients the same
// way. Check-numerics, when on, inspects every node's output, every gradient and every loss, and
// names the layer, the pass, the epoch and the step.
#include <chrono>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/numerics.h"
#include "model/model.h"

namespace ff {
namespace {

using Clock = std::chrono::steady_clock;

// Calls the hook every batch when asked to, else at most every interval.
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

std::vector<Shape> shapes_of(const std::vector<HostArray>& xs) {
  std::vector<Shape> shapes;
  for (const auto& x : xs) shapes.push_back(x.shape);
  return shapes;
}

// The same arrays advanced by `rows` rows (for contiguous batches).
std::vector<HostArray> offset_rows(const std::vector<HostArray>& xs, int64_t rows) {
  std::vector<HostArray> out = xs;
  for (auto& x : out)
    if (x.data) x.data = static_cast<const char*>(x.data) + rows * static_cast<int64_t>(x.row_bytes());
  return out;
}

bool same_storage(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.raw() == b.raw();
}

}  // namespace

Model::TargetLayout Model::target_layout(int64_t samples, const std::vector<HostArray>& ys) const {
  if (static_cast<int>(ys.size()) != num_outputs())
    throw ValueError("The model has " + std::to_string(num_outputs()) + " output(s) but " +
                     std::to_string(ys.size()) + " target array(s) were given");
  TargetLayout layout;
  for (int o = 0; o < num_outputs(); ++o) {
    const bool present = static_cast<bool>(specs_.at(o).loss);
    layout.present.push_back(present);
    if (!present) {
      if (ys[o].data)
        throw ValueError("output \"" + specs_[o].name + "\" has no loss, but targets were given for it");
      layout.row_shapes.emplace_back();
      layout.dtypes.push_back(DType::Float32);
      continue;
    }
    if (!ys[o].data && ys[o].shape.empty())
      throw ValueError("targets are missing for output \"" + specs_[o].name + "\"");
    Shape target = check_targets(o, samples, ys[o].shape, ys[o].dtype);
    layout.row_shapes.emplace_back(target.begin() + 1, target.end());
    layout.dtypes.push_back(ys[o].dtype);
  }
  return layout;
}

void Model::load_batch(Plan& p, const std::vector<HostArray>& xs, const std::vector<HostArray>* ys,
                       const int64_t* indices, int64_t count) {
  // indices == nullptr: the first `count` rows (callers offset the data pointers).
  auto load = [&](Tensor& dst, const HostArray& src) {
    if (indices) backend_->gather_rows_from_host(dst.raw(), src.data, src.row_bytes(), indices, count);
    else backend_->copy_from_host(dst.raw(), src.data, src.row_bytes() * count);
  };
  for (int i = 0; i < num_inputs_; ++i) load(p.values[i], xs[i]);
  if (ys)
    for (size_t o = 0; o < ys->size(); ++o)
      if (p.targets[o].defined()) load(p.targets[o], (*ys)[o]);
}

void Model::numerics_error(const std::string& what, const std::string& pass, const Tensor& t,
                           const StepContext& ctx) const {
  std::vector<float> host(static_cast<size_t>(t.numel()));
  backend_->copy_to_host(host.data(), t.raw(), t.nbytes());
  int64_t nans = 0, infs = 0;
  for (float v : host) {
    nans += std::isnan(v);
    infs += std::isinf(v);
  }
  std::string where;
  if (ctx.epoch >= 0)
    where = "epoch " + std::to_string(ctx.epoch + 1) + ", step " + std::to_string(ctx.batch + 1);
  else
    where = ctx.training ? "a training call" : "an inference call";
  throw NumericsError("check-numerics: " + what + " produced " + (nans ? "NaN" : "Inf") +
                      " in its " + pass + " pass (" + where + "; " + std::to_string(nans) +
                      " NaN and " + std::to_string(infs) + " Inf among " +
                      std::to_string(t.numel()) +
                      " values). Its inputs were finite, so this is where the non-finite values "
                      "started.");
}

void Model::forward(Plan& p, const StepContext& ctx) {
  const bool check = CheckNumerics::enabled();
  sync_compute_params();
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    Layer& layer = *node.layer;
    if (node.inputs.size() == 1) layer.check_input(p.node_inputs[n][0].shape());
    if (mixed_)
      for (size_t i = 0; i < node.inputs.size(); ++i)
        if (input_cast_[n][i]) {
          const Tensor& src = p.values[node.inputs[i]];
          backend_->round_to_precision(p.node_inputs[n][i].data<float>(), src.data<float>(),
                                       src.numel(), layer.compute_dtype());
        }
    if (value_aliases(n, ctx.training)) continue;
    Tensor& out = p.values[node.output];
    layer.forward_multi(p.node_inputs[n], out, p.scratch[n], ctx);
    round_value(out, value_dtype_[node.output]);
    if (check && backend_->has_nonfinite(out.data<float>(), out.numel())) {
      std::string who = "layer \"" + layer.name() + "\" (" + layer.class_name() + ")";
      if (is_half_precision(layer.compute_dtype()))
        who += ", computing in " + dtype_name(layer.compute_dtype()) + " (largest finite value " +
               (layer.compute_dtype() == DType::Float16 ? std::string("65504") : "3.4e38") + ")";
      numerics_error(who, "forward", out, ctx);
    }
  }
}

void Model::backward(Plan& p, const StepContext& ctx) {
  // Under dynamic loss scaling, a non-finite gradient is an overflow the loss scale handles (the
  // step is skipped and the scale halved); only at the scale's floor of 1 is it an error.
  const bool check = CheckNumerics::enabled() && (!loss_scale_ || loss_scale_->scale() <= 1.0f);
  std::vector<bool> written(value_shapes_.size(), false);
  std::vector<bool> layer_written(layers_.size(), false);
  for (size_t o = 0; o < outputs_.size(); ++o)
    if (specs_[o].loss && value_needs_grad_[outputs_[o]]) written[outputs_[o]] = true;

  std::vector<Tensor*> dxs;
  std::vector<std::pair<int, Tensor*>> adds;  // (value, spare buffer) to add after the call
  for (size_t n = nodes_.size(); n-- > 0;) {
    const Node& node = nodes_[n];
    const int out = node.output;
    if (!value_needs_grad_[out] || !written[out]) continue;
    Layer& layer = *node.layer;
    if (value_aliases(n, true)) {
      const int in = node.inputs[0];
      if (!value_needs_grad_[in]) continue;
      // A planned alias (the planner's single-writer case) already holds the gradient in place.
      Tensor dy = p.grads[out].reshape(p.grads[in].shape());
      if (!same_storage(p.grads[in], dy)) {
        if (!written[in]) backend_->copy(p.grads[in].raw(), dy.raw(), dy.nbytes());
        else backend_->add(p.grads[in].data<float>(), dy.data<float>(), dy.numel());
      }
      written[in] = true;
      continue;
    }
    dxs.assign(node.inputs.size(), nullptr);
    adds.clear();
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int v = node.inputs[i];
      if (!value_needs_grad_[v]) continue;
      if (!written[v]) {
        dxs[i] = &p.grads[v];
        written[v] = true;
      } else {
        if (!p.spare_grads[v].defined())
          throw ValueError("internal: value read by one node repeatedly has no spare gradient");
        // A value read twice by the same node needs one spare per extra read; the planner
        // gives one per value, so a third read of one value by one node is refused.
        for (const auto& a : adds)
          if (a.first == v)
            throw ValueError("Layer \"" + layer.name() + "\" reads the same value three or more "
                             "times: not supported");
        dxs[i] = &p.spare_grads[v];
        adds.emplace_back(v, &p.spare_grads[v]);
      }
    }
    const size_t l = node.layer_index;
    const bool shared_again = layer_written[l];
    std::vector<Tensor> real_grads;
    if (shared_again) {
      real_grads = layer.grads();
      layer.bind(layer.params(), p.spare_param_grads[l]);
    }
    const DType dtype = layer.compute_dtype();
    const bool half = is_half_precision(dtype);
    // A 16-bit layer's gradients are 16-bit too: the incoming one, its input gradients and its
    // weights' gradients (before they are summed into float32 ones).
    if (half) round_value(p.grads[out], value_dtype_[out]);
    layer.backward_multi(p.node_inputs[n], p.values[out], p.grads[out], dxs, p.scratch[n], ctx);
    if (half) {
      for (Tensor* dx : dxs)
        if (dx) round_value(*dx, dtype);
      const std::vector<bool>& autocast = autocast_params_[l];
      for (size_t g = 0; g < autocast.size(); ++g)
        if (autocast[g] && layer.grads()[g].defined()) round_value(layer.grads()[g], dtype);
    }
    if (shared_again) {
      layer.bind(layer.params(), real_grads);
      for (size_t g = 0; g < real_grads.size(); ++g)
        if (real_grads[g].defined())
          backend_->add(real_grads[g].data<float>(), p.spare_param_grads[l][g].data<float>(),
                        real_grads[g].numel());
    }
    layer_written[l] = true;
    for (const auto& [v, spare] : adds)
      backend_->add(p.grads[v].data<float>(), spare->data<float>(), spare->numel());
    if (!check) continue;
    const std::string who = "layer \"" + layer.name() + "\" (" + layer.class_name() + ")";
    for (const Tensor& g : layer.grads())
      if (g.defined() && backend_->has_nonfinite(g.data<float>(), g.numel()))
        numerics_error(who, "backward", g, ctx);
    for (Tensor* dx : dxs)
      if (dx && backend_->has_nonfinite(dx->data<float>(), dx->numel()))
        numerics_error(who, "backward", *dx, ctx);
  }
  // Trainable layers no gradient reached (e.g. outputs without a loss) get zero gradients, so
  // the optimizer never applies a stale one.
  for (size_t l = 0; l < layers_.size(); ++l)
    if (!layer_written[l])
      for (Tensor& g : layers_[l]->grads())
        if (g.defined()) backend_->fill(g.data<float>(), g.numel(), 0.0f);
}

void Model::loss_and_metrics(Plan& p, int64_t count, bool training, double* acc,
                             const int64_t* indices, int64_t first_row, const StepContext& ctx) {
  const bool several = specs_.size() > 1;
  size_t slot = 1 + (several ? [&] {
    size_t n = 0;
    for (const auto& o : specs_) n += o.loss ? 1 : 0;
    return n;
  }() : 0);
  size_t loss_slot = 1;
  for (size_t o = 0; o < specs_.size(); ++o) {
    const OutputSpec& spec = specs_[o];
    if (!spec.loss) continue;
    const int value = outputs_[o];
    Tensor& pred = p.values[value];
    Tensor target = p.targets[o].reshape(p.targets[o].dtype() == DType::Int64 ? Shape{count}
                                                                              : pred.shape());
    // Outputs (N, T, ..., K) hold `positions` loss rows per sample: Keras's sum_over_batch_size
    // averages over all of them, so per-sample values are means over positions.
    const int64_t positions = pred.numel() / (count * pred.shape().back());
    Tensor* grad = training && value_needs_grad_[value] ? &p.grads[value] : nullptr;
    double step_loss = 0.0;
    // Under loss scaling the gradient carries the scale (the reported loss does not).
    const float loss_scale = training && loss_scale_ ? loss_scale_->scale() : 1.0f;
    const int64_t bad = spec.loss->compute(
        *backend_, pred, target, &step_loss, grad,
        loss_scale * spec.loss_weight / static_cast<float>(count * positions));
    if (bad >= 0) {
      int64_t label = 0;
      backend_->copy_to_host(&label, target.data<int64_t>() + bad, sizeof(int64_t));
      const int64_t sample = indices ? indices[bad] : first_row + bad;
      const int64_t classes = pred.shape().back();
      throw ValueError("Received a label value of " + std::to_string(label) + " at sample index " +
                       std::to_string(sample) + " of y" +
                       (several ? " for output \"" + spec.name + "\"" : std::string()) +
                       ", which is outside the valid range [0, " + std::to_string(classes) +
                       ") for the " + std::to_string(classes) + " outputs of the model (loss \"" +
                       spec.loss->name() + "\"). Labels must be class indices 0.." +
                       std::to_string(classes - 1) + ".");
    }
    if (CheckNumerics::enabled() && !std::isfinite(step_loss)) {
      std::string where = ctx.epoch >= 0 ? "epoch " + std::to_string(ctx.epoch + 1) + ", step " +
                                               std::to_string(ctx.batch + 1)
                                         : std::string("outside fit");
      throw NumericsError("check-numerics: the loss \"" + spec.loss->name() + "\"" +
                          (several ? " of output \"" + spec.name + "\"" : std::string()) +
                          " produced " + (std::isnan(step_loss) ? "NaN" : "Inf") + " (" + where +
                          ") although the model outputs were finite: check the targets (NaN or "
                          "Inf in y?) and from_logits.");
    }
    const double per_sample = step_loss / static_cast<double>(positions);
    acc[0] += spec.loss_weight * per_sample;
    if (several) acc[loss_slot++] += per_sample;
    for (const auto& m : spec.metrics) {
      double sum = 0.0;
      m->update(*backend_, pred, target, &sum);
      acc[slot++] += sum / static_cast<double>(positions);
    }
  }
}

Logs Model::make_logs(const double* acc, double samples) const {
  Logs logs;
  auto names = metric_names();
  for (size_t i = 0; i < names.size(); ++i)
    logs.emplace_back(names[i], samples > 0 ? acc[i] / samples : 0.0);
  return logs;
}

Logs Model::train_epoch(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys,
                        const std::vector<int64_t>& order, int64_t epoch, const LoopOptions& opts) {
  check_batch_size(opts.batch_size);
  check_inputs(shapes_of(xs));
  const int64_t rows = xs.empty() ? 0 : xs[0].rows();
  TargetLayout layout = target_layout(rows, ys);
  for (int64_t i : order)
    if (i < 0 || i >= rows) throw ValueError("sample order index out of range");
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t steps = num_batches(n, opts.batch_size);
  std::vector<double> acc(metric_names().size(), 0.0);
  double samples = 0;
  HookTimer timer(opts);
  const std::vector<Segment> active = active_segments();  // frozen layers are left out
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t count = std::min(opts.batch_size, n - s * opts.batch_size);
    const int64_t* idx = order.data() + s * opts.batch_size;
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, make_logs(acc.data(), samples)))
      break;
    Plan& p = plan_for(count, true, &layout);
    load_batch(p, xs, &ys, idx, count);
    StepContext ctx{backend_, true, train_steps_, epoch, s};
    forward(p, ctx);
    loss_and_metrics(p, count, true, acc.data(), idx, 0, ctx);
    backward(p, ctx);
    apply_update(active);
    ++train_steps_;
    samples += static_cast<double>(count);
    if (timer.due() && opts.hook(false, s + 1, make_logs(acc.data(), samples))) break;
  }
  return make_logs(acc.data(), samples);
}

Logs Model::evaluate(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys,
                     const LoopOptions& opts) {
  check_batch_size(opts.batch_size);
  check_inputs(shapes_of(xs));
  const int64_t n = xs.empty() ? 0 : xs[0].rows();
  TargetLayout layout = target_layout(n, ys);
  const int64_t steps = num_batches(n, opts.batch_size);
  std::vector<double> acc(metric_names().size(), 0.0);
  double samples = 0;
  HookTimer timer(opts);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t start = s * opts.batch_size;
    const int64_t count = std::min(opts.batch_size, n - start);
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, make_logs(acc.data(), samples)))
      break;
    Plan& p = plan_for(count, false, &layout);
    std::vector<HostArray> ys_at = offset_rows(ys, start);
    load_batch(p, offset_rows(xs, start), &ys_at, nullptr, count);
    StepContext ctx{backend_, false, train_steps_, -1, s};
    forward(p, ctx);
    loss_and_metrics(p, count, false, acc.data(), nullptr, start, ctx);
    samples += static_cast<double>(count);
    if (timer.due() && opts.hook(false, s + 1, make_logs(acc.data(), samples))) break;
  }
  return make_logs(acc.data(), samples);
}

void Model::predict(const std::vector<HostArray>& xs, const std::vector<float*>& outs,
                    const LoopOptions& opts) {
  check_batch_size(opts.batch_size);
  check_inputs(shapes_of(xs));
  if (static_cast<int>(outs.size()) != num_outputs())
    throw ValueError("internal: predict needs one output buffer per model output");
  const int64_t n = xs.empty() ? 0 : xs[0].rows();
  const int64_t steps = num_batches(n, opts.batch_size);
  HookTimer timer(opts);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t start = s * opts.batch_size;
    const int64_t count = std::min(opts.batch_size, n - start);
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, {})) break;
    Plan& p = plan_for(count, false, nullptr);
    load_batch(p, offset_rows(xs, start), nullptr, nullptr, count);
    StepContext ctx{backend_, false, train_steps_, -1, s};
    forward(p, ctx);
    for (int o = 0; o < num_outputs(); ++o) {
      const Tensor& out = p.values[outputs_[o]];
      const int64_t row = shape_row_size(value_shapes_[outputs_[o]]);
      backend_->copy_to_host(outs[o] + start * row, out.raw(), out.nbytes());
    }
    if (timer.due() && opts.hook(false, s + 1, {})) break;
  }
}

void Model::call(const std::vector<HostArray>& xs, bool training, const std::vector<float*>& outs) {
  check_inputs(shapes_of(xs));
  const int64_t n = xs.empty() ? 0 : xs[0].rows();
  if (n == 0) return;
  Plan& p = plan_for(n, training, nullptr);
  load_batch(p, xs, nullptr, nullptr, n);
  // Training-mode calls use streams with the top bit set, so they never repeat a fit step's
  // dropout mask, and each call gets a new one (as Keras draws a new mask per call).
  constexpr uint64_t kCallStreams = uint64_t{1} << 63;
  const uint64_t stream = training ? (kCallStreams | training_calls_++) : train_steps_;
  StepContext ctx{backend_, training, stream, -1, -1};
  forward(p, ctx);
  for (int o = 0; o < num_outputs(); ++o) {
    const Tensor& out = p.values[outputs_[o]];
    backend_->copy_to_host(outs[o], out.raw(), out.nbytes());
  }
}

// ---- the same loops over a BatchSource (datasets) ----

Model::Plan* Model::next_batch(BatchSource& batches, bool training, bool with_targets,
                               std::vector<HostArray>& xs, std::vector<HostArray>& ys,
                               int64_t* count) {
  // An empty batch (a dataset may make one) is skipped.
  do {
    if (!batches.next(xs, ys)) return nullptr;
    check_inputs(shapes_of(xs));
    *count = xs.empty() ? 0 : xs[0].rows();
  } while (*count == 0);
  if (!with_targets) {
    Plan& p = plan_for(*count, training, nullptr);
    load_batch(p, xs, nullptr, nullptr, *count);
    return &p;
  }
  TargetLayout layout = target_layout(*count, ys);
  Plan& p = plan_for(*count, training, &layout);
  load_batch(p, xs, &ys, nullptr, *count);
  return &p;
}

Logs Model::train_epoch(BatchSource& batches, int64_t epoch, int64_t max_steps,
                        const LoopOptions& opts, int64_t* steps_done) {
  return run_batches(batches, true, epoch, max_steps, opts, steps_done);
}

Logs Model::evaluate(BatchSource& batches, int64_t max_steps, const LoopOptions& opts,
                     int64_t* steps_done) {
  return run_batches(batches, false, -1, max_steps, opts, steps_done);
}

Logs Model::run_batches(BatchSource& batches, bool training, int64_t epoch, int64_t max_steps,
                        const LoopOptions& opts, int64_t* steps_done) {
  std::vector<double> acc(metric_names().size(), 0.0);
  double samples = 0;
  HookTimer timer(opts);
  const std::vector<Segment> active = training ? active_segments() : std::vector<Segment>{};
  std::vector<HostArray> xs, ys;
  int64_t s = 0;
  for (; max_steps < 0 || s < max_steps; ++s) {
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, make_logs(acc.data(), samples)))
      break;
    int64_t count = 0;
    Plan* plan = next_batch(batches, training, true, xs, ys, &count);
    if (!plan) break;
    Plan& p = *plan;
    StepContext ctx{backend_, training, train_steps_, epoch, s};
    forward(p, ctx);
    loss_and_metrics(p, count, training, acc.data(), nullptr, static_cast<int64_t>(samples), ctx);
    if (training) {
      backward(p, ctx);
      apply_update(active);
      ++train_steps_;
    }
    samples += static_cast<double>(count);
    if (timer.due() && opts.hook(false, s + 1, make_logs(acc.data(), samples))) {
      ++s;
      break;
    }
  }
  if (steps_done) *steps_done = s;
  return make_logs(acc.data(), samples);
}

void Model::predict(BatchSource& batches, int64_t max_steps, const PredictSink& sink,
                    const LoopOptions& opts, int64_t* steps_done) {
  HookTimer timer(opts);
  std::vector<HostArray> xs, ys;
  std::vector<std::vector<float>> host(static_cast<size_t>(num_outputs()));
  std::vector<const float*> pointers(host.size());
  int64_t s = 0;
  for (; max_steps < 0 || s < max_steps; ++s) {
    if (opts.hook && opts.hook_batch_begin && opts.hook(true, s, {})) break;
    int64_t count = 0;
    Plan* plan = next_batch(batches, false, false, xs, ys, &count);
    if (!plan) break;
    Plan& p = *plan;
    StepContext ctx{backend_, false, train_steps_, -1, s};
    forward(p, ctx);
    for (int o = 0; o < num_outputs(); ++o) {
      const Tensor& out = p.values[outputs_[o]];
      host[o].resize(static_cast<size_t>(out.numel()));
      backend_->copy_to_host(host[o].data(), out.raw(), out.nbytes());
      pointers[o] = host[o].data();
    }
    sink(count, pointers);
    if (timer.due() && opts.hook(false, s + 1, {})) {
      ++s;
      break;
    }
  }
  if (steps_done) *steps_done = s;
}

}  // namespace ff
