// The loop of Model (fit's epoch, evaluate, predict over any BatchSource) and the training step.
// The step (train_step: forward, loss, backward, optimizer update) only enqueues kernels: the
// learning rate, bias corrections, loss scale and random stream come from the step-state block,
// losses and metrics add into it, and errors found inside the step (a bad label or category
// index, a NaN under check-numerics) are recorded in it and halt the loop, which raises them at
// its next sync point. The host reads the block only there: when the hook is called (progress
// bar, batch callbacks), once per step under check-numerics, and at the loop's end.
//
// Backward walks the nodes in reverse: a value read by several nodes (or also a model output)
// sums its gradients, the first writer writing and later ones adding through a spare buffer; a
// layer used by several nodes sums its parameter gradients the same way.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/convert.h"
#include "core/errors.h"
#include "core/half.h"
#include "core/numerics.h"
#include "distribute/collective.h"
#include "distribute/gradient_reducer.h"
#include "model/array_source.h"
#include "model/input_slots.h"
#include "model/resident_arrays.h"
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

std::vector<Shape> shapes_of(const std::vector<HostArray>& xs) {
  std::vector<Shape> shapes;
  for (const auto& x : xs) shapes.push_back(x.shape);
  return shapes;
}

bool same_storage(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.raw() == b.raw();
}

// Nesting depth of the model's loops (a hook may run another loop of the same model).
struct DepthGuard {
  int& depth;
  explicit DepthGuard(int& d) : depth(d) { ++depth; }
  ~DepthGuard() { --depth; }
};

std::string where_in_fit(const StepContext& ctx) {
  if (ctx.epoch >= 0)
    return "epoch " + std::to_string(ctx.epoch + 1) + ", step " + std::to_string(ctx.batch + 1);
  return ctx.training ? "a training call" : "an inference call";
}

// Writes predict's outputs into caller-provided arrays (array conveniences).
class ArraySink final : public PredictSink {
 public:
  ArraySink(const std::vector<float*>& outs, std::vector<int64_t> row_sizes)
      : outs_(outs), row_sizes_(std::move(row_sizes)) {}
  float* rows(int output, int64_t first, int64_t) override {
    return outs_[static_cast<size_t>(output)] + first * row_sizes_[static_cast<size_t>(output)];
  }

 private:
  const std::vector<float*>& outs_;
  std::vector<int64_t> row_sizes_;
};

}  // namespace

// ---- batches ----

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
    // The dtype the loss computes with: the rows are converted to it as they are loaded.
    const DType want = specs_[o].loss->sparse() ? DType::Int64 : DType::Float32;
    const bool integer = is_integer_dtype(ys[o].dtype);
    if (want == DType::Int64 && !integer)
      throw TypeError("Loss \"" + specs_[o].loss->name() + "\" expects integer class indices; "
                      "received targets of dtype " + dtype_name(ys[o].dtype) +
                      ". Labels are not cast silently.");
    if (want == DType::Float32 && !is_numeric_dtype(ys[o].dtype))
      throw TypeError("Loss \"" + specs_[o].loss->name() + "\" expects numeric targets; received "
                      "targets of dtype " + dtype_name(ys[o].dtype));
    Shape target = check_targets(o, samples, ys[o].shape, want);
    layout.row_shapes.emplace_back(target.begin() + 1, target.end());
    layout.dtypes.push_back(want);
  }
  return layout;
}

bool Model::host_addresses_device() const {
  const Tensor probe = params_.defined() ? params_ : Tensor::empty(backend_->device(), {1});
  return backend_->device().host_address(probe.raw()) != nullptr;
}

std::shared_ptr<data::PinnedBufferPool> Model::input_batch_pool() {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!built_) throw ValueError("the model is not built yet");
  if (num_inputs_ == 0 || host_addresses_device()) return nullptr;
  // Making the slots allocates nothing: the pool's blocks come with the first batches' misses
  // (refilled by the loop), the slots' device buffers and copy stream with the first load.
  if (!input_slots_) input_slots_ = std::make_unique<InputSlots>(backend_->device());
  return input_slots_->batch_pool();
}

std::shared_ptr<ResidentArrays> Model::make_resident(const std::vector<HostArray>& xs,
                                                     const std::vector<HostArray>& ys,
                                                     double fraction) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!built_) throw ValueError("the model is not built yet");
  Device& device = backend_->device();
  // Not compiled: the loop raises its own error at the first batch.
  if (!(fraction > 0.0) || xs.empty() || !optimizer_) return nullptr;
  // Only where the host cannot address device memory: on the CPU the arrays are there already.
  if (host_addresses_device()) return nullptr;
  check_inputs(shapes_of(xs));
  for (const auto& x : xs)
    if (!is_numeric_dtype(x.dtype))
      throw TypeError("model inputs must be numeric; received an array of dtype " +
                      dtype_name(x.dtype));
  std::vector<DType> target_dtypes;
  if (!ys.empty()) {
    const TargetLayout layout = target_layout(xs[0].rows(), ys);
    target_dtypes = layout.dtypes;
    for (size_t o = 0; o < ys.size(); ++o)
      if (!layout.present[o]) target_dtypes[o] = DType::Float32;  // no data: not uploaded
  }
  const int64_t bytes = ResidentArrays::bytes_needed(xs, ys, target_dtypes);
  if (bytes < 0 || static_cast<double>(bytes) > fraction * static_cast<double>(device.memory_free()))
    return nullptr;
  try {
    return std::make_shared<ResidentArrays>(device, xs, ys, target_dtypes);
  } catch (const std::bad_alloc&) {
    return nullptr;  // the device had less room than it reported: stream instead
  } catch (const ResourceExhaustedError&) {
    return nullptr;
  }
}

bool Model::load_resident(Plan& p, const Batch& batch, bool with_targets) {
  const ResidentArrays& r = *batch.resident;
  Device& device = backend_->device();
  // The device copies must be what the plan's buffers take (the model's input and target
  // dtypes and row sizes); anything else (a recompiled loss) loads from the host arrays.
  auto fits = [&](const Tensor& dst, const Tensor& src) {
    return src.defined() && src.dtype() == dst.dtype() && src.row_size() == dst.row_size();
  };
  if (static_cast<int>(r.xs().size()) != num_inputs_ ||
      batch.position + batch.count > r.rows())
    return false;
  for (int i = 0; i < num_inputs_; ++i)
    if (!fits(p.values[i], r.xs()[static_cast<size_t>(i)])) return false;
  if (with_targets) {
    if (r.ys().size() != batch.ys.size()) return false;
    for (size_t o = 0; o < batch.ys.size(); ++o)
      if (p.targets[o].defined() && !fits(p.targets[o], r.ys()[o])) return false;
  }
  // On the compute stream, outside any captured step (its indices change every step).
  auto load = [&](Tensor& dst, const Tensor& src) {
    const int64_t row_bytes = static_cast<int64_t>(dst.nbytes()) / batch.count;
    if (batch.rows) {
      backend_->gather_rows(dst.raw(), src.raw(), r.rows(), row_bytes,
                            r.device_order() + batch.position, batch.count);
    } else {
      device.copy(dst.raw(), static_cast<const char*>(src.raw()) + batch.position * row_bytes,
                  dst.nbytes());
    }
  };
  for (int i = 0; i < num_inputs_; ++i) load(p.values[i], r.xs()[static_cast<size_t>(i)]);
  if (with_targets)
    for (size_t o = 0; o < batch.ys.size(); ++o)
      if (p.targets[o].defined()) load(p.targets[o], r.ys()[o]);
  return true;
}

void Model::load_batch(Plan& p, const Batch& batch, bool with_targets) {
  Device& device = backend_->device();
  if (batch.resident && load_resident(p, batch, with_targets)) return;
  if (num_inputs_ > 0 && !device.host_address(p.values[0].raw())) {
    // A device the host cannot address: pinned staging, a side-stream copy into one of two
    // device slots, then slot -> plan buffers on the compute stream (model/input_slots.h).
    if (!input_slots_) input_slots_ = std::make_unique<InputSlots>(device);
    std::vector<InputSlots::Item> items;
    for (int i = 0; i < num_inputs_; ++i) items.push_back({&p.values[i], &batch.xs[i]});
    if (with_targets)
      for (size_t o = 0; o < batch.ys.size(); ++o)
        if (p.targets[o].defined()) items.push_back({&p.targets[o], &batch.ys[o]});
    input_slots_->load(items, batch.rows, batch.count);
    return;
  }
  // Host-addressable memory (the CPU): the batch's rows of `src` are gathered and converted
  // straight into the plan's buffer (dtype `want`), or copied when no conversion is needed.
  auto load = [&](Tensor& dst, const HostArray& src) {
    const DType want = dst.dtype();
    if (!batch.rows && src.dtype == want) {
      device.copy_from_host(dst.raw(), src.data, dst.nbytes());
      return;
    }
    convert_rows(src.data, src.dtype, shape_row_size(src.shape), batch.rows, batch.count,
                 device.host_address(dst.raw()), want);
  };
  for (int i = 0; i < num_inputs_; ++i) load(p.values[i], batch.xs[i]);
  if (with_targets)
    for (size_t o = 0; o < batch.ys.size(); ++o)
      if (p.targets[o].defined()) load(p.targets[o], batch.ys[o]);
}

namespace {

// True when the arrays have exactly these shapes and dtypes (no allocation: the per-batch checks
// run only when a batch's arrays differ from the last batch's).
bool same_arrays(const std::vector<HostArray>& arrays, const std::vector<Shape>& shapes,
                 const std::vector<DType>& dtypes) {
  if (arrays.size() != shapes.size()) return false;
  for (size_t i = 0; i < arrays.size(); ++i)
    if (arrays[i].shape != shapes[i] || arrays[i].dtype != dtypes[i]) return false;
  return true;
}

void remember_arrays(const std::vector<HostArray>& arrays, std::vector<Shape>& shapes,
                     std::vector<DType>& dtypes) {
  shapes.resize(arrays.size());
  dtypes.resize(arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    shapes[i] = arrays[i].shape;
    dtypes[i] = arrays[i].dtype;
  }
}

}  // namespace

Model::Plan* Model::next_batch(BatchSource& batches, LoopMode mode, Batch& batch) {
  do {
    if (!fetch_batch(batches, batch)) return nullptr;
  } while (batch.count == 0);  // a share without rows (data-parallel evaluation): nothing to run
  return prepare_batch(mode, batch);
}

bool Model::fetch_batch(BatchSource& batches, Batch& batch) {
  // An empty batch (a dataset may make one) is skipped, but not a worker's empty share of a
  // global batch. Sources overwrite every field, so the batch's vectors keep their capacity from
  // batch to batch.
  do {
    batch.global_count = -1;
    if (!batches.next(batch)) return false;
  } while (batch.count == 0 && batch.global_count <= 0);
  return true;
}

Model::Plan* Model::prepare_batch(LoopMode mode, Batch& batch) {
  if (!last_layout_valid_ || !same_arrays(batch.xs, last_input_shapes_, last_input_dtypes_)) {
    last_layout_valid_ = false;
    check_inputs(shapes_of(batch.xs));
    for (const auto& x : batch.xs)
      if (!is_numeric_dtype(x.dtype))
        throw TypeError("model inputs must be numeric; received an array of dtype " +
                        dtype_name(x.dtype));
    remember_arrays(batch.xs, last_input_shapes_, last_input_dtypes_);
  }
  const bool training = mode == LoopMode::Train;
  if (mode == LoopMode::Predict) {
    last_layout_valid_ = true;
    Plan& p = plan_for(batch.count, false, nullptr);
    load_batch(p, batch, false);
    return &p;
  }
  // The targets are checked again only when their shapes or dtypes (or the inputs') change.
  if (!last_layout_valid_ || !same_arrays(batch.ys, last_target_shapes_, last_target_dtypes_)) {
    const int64_t rows = batch.xs.empty() ? 0 : batch.xs[0].rows();
    last_layout_ = target_layout(rows, batch.ys);
    remember_arrays(batch.ys, last_target_shapes_, last_target_dtypes_);
    last_layout_valid_ = true;
  }
  Plan& p = plan_for(batch.count, training, &last_layout_);
  load_batch(p, batch, true);
  return &p;
}

// ---- the step-state block ----

int32_t Model::num_sums() const {
  int32_t n = 0;
  for (int32_t s : loss_slot_) n += s >= 0;
  for (const auto& m : metric_slot_) n += static_cast<int32_t>(m.size());
  return n + (penalty_slot() >= 0 ? 1 : 0);
}

int32_t Model::penalty_slot() const {
  // After the losses' and the metrics' slots; only in a compiled model with added losses.
  if (!has_penalties_ || !optimizer_) return -1;
  int32_t n = 0;
  for (int32_t s : loss_slot_) n += s >= 0;
  for (const auto& m : metric_slot_) n += static_cast<int32_t>(m.size());
  return n;
}

StepState* Model::state_block() {
  const size_t depth = static_cast<size_t>(std::max(depth_ - 1, 0));
  if (state_blocks_.size() <= depth) state_blocks_.resize(depth + 1);
  Tensor& block = state_blocks_[depth];
  const int64_t bytes = static_cast<int64_t>(step_state_bytes(num_sums()));
  if (!block.defined() || block.numel() != bytes) {
    drop_graphs();  // they point into the old block
    block = Tensor::zeros(backend_->device(), {bytes}, DType::UInt8);
  }
  return static_cast<StepState*>(block.raw());
}

void Model::fill_persistent(StepState& h) const {
  h.step = static_cast<int64_t>(train_steps_);
  h.iterations = optimizer_ ? optimizer_->iterations() : 0;
  h.base_learning_rate = optimizer_ ? optimizer_->base_learning_rate() : 0.0f;
  h.loss_scaling = loss_scale_ ? 1 : 0;
  h.loss_scale = loss_scale_ ? loss_scale_->scale() : 1.0f;
  h.loss_scale_counter = loss_scale_ ? loss_scale_->step_counter() : 0;
  h.skipped_steps = loss_scale_ ? loss_scale_->skipped_steps() : 0;
}

void Model::upload_state(StepState* state) {
  // A new loop: the whole block (one write), counters, sums and error cleared.
  const int32_t n = num_sums();
  host_state_.assign(step_state_bytes(n), 0);
  StepState h{};
  h.num_sums = n;
  fill_persistent(h);
  std::memcpy(host_state_.data(), &h, sizeof h);
  backend_->device().copy_from_host(state, host_state_.data(), host_state_.size());
}

void Model::upload_after_hook(StepState* state, const StepState& synced) {
  // The header as read at the hook's sync point (the device has not moved since), with the
  // persistent values a callback may have changed (the learning rate, a nested loop's steps).
  StepState h = synced;
  fill_persistent(h);
  backend_->device().copy_from_host(state, &h, sizeof h);
}

Model::StateView Model::read_state(StepState* state, bool with_sums) {
  const int32_t n = with_sums ? num_sums() : 0;
  host_state_.resize(sizeof(StepState) + sizeof(double) * static_cast<size_t>(n));
  backend_->device().copy_to_host(host_state_.data(), state, host_state_.size());
  StateView view;
  std::memcpy(&view.header, host_state_.data(), sizeof(StepState));
  view.sums.resize(static_cast<size_t>(n));
  if (n) std::memcpy(view.sums.data(), host_state_.data() + sizeof(StepState), sizeof(double) * n);
  // The host mirrors follow the block.
  train_steps_ = static_cast<uint64_t>(view.header.step);
  if (optimizer_ && optimizer_->iterations() != view.header.iterations)
    optimizer_->set_iterations(view.header.iterations);
  if (loss_scale_)
    loss_scale_->mirror(view.header.loss_scale, view.header.loss_scale_counter,
                        view.header.skipped_steps);
  return view;
}

Logs Model::make_logs(const StateView& view) const {
  // Sums are per loss row; outputs (N, T, ..., K) hold `positions` rows per sample, and Keras's
  // sum_over_batch_size averages over all of them: per-sample values are means over positions.
  const double samples = view.header.samples;
  auto mean = [&](int32_t slot, int o) {
    const Shape& shape = output_shape(o);
    const double positions =
        static_cast<double>(shape_row_size(shape)) / static_cast<double>(shape.back());
    return samples > 0 ? view.sums[static_cast<size_t>(slot)] / positions / samples : 0.0;
  };
  Logs logs;
  double total = 0.0;
  for (size_t o = 0; o < specs_.size(); ++o)
    if (loss_slot_[o] >= 0) total += specs_[o].loss_weight * mean(loss_slot_[o], static_cast<int>(o));
  // The added losses: each step's value weighted by its batch size (as Keras's loss tracker).
  const int32_t pslot = penalty_slot();
  if (pslot >= 0 && samples > 0) total += view.sums[static_cast<size_t>(pslot)] / samples;
  logs.emplace_back("loss", total);
  const bool several = specs_.size() > 1;
  if (several)
    for (size_t o = 0; o < specs_.size(); ++o)
      if (loss_slot_[o] >= 0)
        logs.emplace_back(specs_[o].name + "_loss", mean(loss_slot_[o], static_cast<int>(o)));
  for (size_t o = 0; o < specs_.size(); ++o)
    for (size_t m = 0; m < specs_[o].metrics.size(); ++m)
      logs.emplace_back(several ? specs_[o].name + "_" + specs_[o].metrics[m]->name()
                                : specs_[o].metrics[m]->name(),
                        mean(metric_slot_[o][m], static_cast<int>(o)));
  return logs;
}

void Model::raise_recorded_error(const StateView& view, BatchSource* source,
                                 const std::vector<int64_t>& batch_starts, Plan* plan,
                                 const StepContext& ctx, LoopMode mode) {
  const StepState& h = view.header;
  switch (static_cast<StepError>(h.error)) {
    case StepError::BadLabel: {
      const size_t o = static_cast<size_t>(h.error_where);
      const OutputSpec& spec = specs_.at(o);
      const int64_t start = h.error_batch >= 0 &&
                                    h.error_batch < static_cast<int64_t>(batch_starts.size())
                                ? batch_starts[static_cast<size_t>(h.error_batch)]
                                : 0;
      const int64_t sample = source ? source->sample_index(start, h.error_index) : h.error_index;
      const int64_t classes = output_shape(static_cast<int>(o)).back();
      const bool several = specs_.size() > 1;
      throw ValueError("Received a label value of " +
                       std::to_string(static_cast<int64_t>(h.error_value)) + " at sample index " +
                       std::to_string(sample) + " of y" +
                       (several ? " for output \"" + spec.name + "\"" : std::string()) +
                       ", which is outside the valid range [0, " + std::to_string(classes) +
                       ") for the " + std::to_string(classes) + " outputs of the model (loss \"" +
                       spec.loss->name() + "\"). Labels must be class indices 0.." +
                       std::to_string(classes - 1) + ".");
    }
    case StepError::BadCategory: {
      const Node& node = nodes_.at(static_cast<size_t>(h.error_where));
      const Shape in = value_shapes_[node.inputs[0]];
      throw ValueError(node.layer->recorded_error_message(h.error_value, h.error_index, in));
    }
    case StepError::NonFinite: {
      // Run the step again eagerly, with host checks after every layer, to name the first one
      // and count its values. The update was not applied and the step counter did not move, so
      // it sees the same weights and random numbers; the halted state keeps it from changing
      // anything (moving statistics, sums).
      StepContext eager = ctx;
      if (plan && h.error_batch == ctx.batch) {
        const bool training = mode == LoopMode::Train;
        forward(*plan, eager, Numerics::Eager);
        if (mode != LoopMode::Predict) {
          losses_and_metrics(*plan, plan->capacity, training, eager, Numerics::Eager);
          if (training) {
            backward(*plan, eager, Numerics::Eager);
            weight_penalties(plan->capacity, true, eager);
            check_penalty_sum(eager, Numerics::Eager);
          }
        }
      }
      // Not reproduced (it should be): name the layer from the record.
      const StepPass pass = static_cast<StepPass>(h.error_pass);
      if (pass == StepPass::Loss && h.error_where == num_outputs())
        throw NumericsError("check-numerics: the added losses (add_loss values and "
                            "regularization penalties) produced NaN or Inf (" +
                            where_in_fit(ctx) + ")");
      if (pass == StepPass::Loss) {
        const OutputSpec& spec = specs_.at(static_cast<size_t>(h.error_where));
        throw NumericsError("check-numerics: the loss \"" + spec.loss->name() +
                            "\" produced NaN or Inf (" + where_in_fit(ctx) + ")");
      }
      if (h.error_where < 0)  // a model input (recorded as -1 - input)
        throw NumericsError("check-numerics: model input " + std::to_string(-1 - h.error_where) +
                            " of the batch holds NaN or Inf (" + where_in_fit(ctx) +
                            "): the data, not a layer, is the source");
      const Node& node = nodes_.at(static_cast<size_t>(h.error_where));
      throw NumericsError("check-numerics: layer \"" + node.layer->name() + "\" (" +
                          node.layer->class_name() + ") produced NaN or Inf in its " +
                          (pass == StepPass::Forward ? "forward" : "backward") + " pass (" +
                          where_in_fit(ctx) + ")");
    }
    case StepError::None:
      break;
  }
  throw ValueError("internal: the step state is halted without a recorded error");
}

namespace {

// A tensor's values as float32 on the host (16-bit buffers decoded): a host read.
std::vector<float> host_values(Device& device, const Tensor& t) {
  std::vector<float> host(static_cast<size_t>(t.numel()));
  if (!is_half_precision(t.dtype())) {
    device.copy_to_host(host.data(), t.raw(), t.nbytes());
    return host;
  }
  std::vector<uint16_t> bits(host.size());
  device.copy_to_host(bits.data(), t.raw(), t.nbytes());
  const bool bf16 = t.dtype() == DType::BFloat16;
  for (size_t i = 0; i < bits.size(); ++i) host[i] = decode_half(bf16, bits[i]);
  return host;
}

// The NaN and Inf among host values, and the index of the first of either (-1: none).
struct NonFiniteCount {
  int64_t nans = 0, infs = 0, first = -1;
};
NonFiniteCount count_nonfinite(const std::vector<float>& values) {
  NonFiniteCount c;
  for (size_t k = 0; k < values.size(); ++k) {
    const bool nan = std::isnan(values[k]), inf = std::isinf(values[k]);
    c.nans += nan;
    c.infs += inf;
    if ((nan || inf) && c.first < 0) c.first = static_cast<int64_t>(k);
  }
  return c;
}

}  // namespace

void Model::numerics_error(const std::string& what, const std::string& pass, const Tensor& t,
                           const StepContext& ctx) const {
  const NonFiniteCount c = count_nonfinite(host_values(backend_->device(), t));
  throw NumericsError("check-numerics: " + what + " produced " + (c.nans ? "NaN" : "Inf") +
                      " in its " + pass + " pass (" + where_in_fit(ctx) + "; " +
                      std::to_string(c.nans) + " NaN and " + std::to_string(c.infs) +
                      " Inf among " + std::to_string(t.numel()) +
                      " values). Its inputs were finite, so this is where the non-finite values "
                      "started.");
}

// ---- the passes ----

namespace {

// Eager check-numerics: true when t holds a NaN or Inf (a host read).
bool host_has_nonfinite(Device& device, const Tensor& t) {
  for (float v : host_values(device, t))
    if (!std::isfinite(v)) return true;
  return false;
}

}  // namespace

void Model::forward(Plan& p, const StepContext& ctx_in, Numerics numerics) {
  sync_compute_params();
  StepContext ctx = ctx_in;
  // A NaN or Inf in the data is the data's fault: it is named before any layer is blamed.
  for (int i = 0; i < num_inputs_ && numerics != Numerics::Off; ++i) {
    const Tensor& x = p.values[static_cast<size_t>(i)];
    if (numerics == Numerics::Kernels) {
      ctx.node = -1 - i;
      check_numerics_of(x, ctx, StepPass::Forward);
      continue;
    }
    const auto [nans, infs, first] = count_nonfinite(host_values(backend_->device(), x));
    if (first < 0) continue;
    const int64_t row = x.row_size() > 0 ? first / x.row_size() : 0;
    throw NumericsError(
        "check-numerics: the input batch holds " + std::string(nans ? "NaN" : "Inf") +
        " before any layer ran (" + where_in_fit(ctx) + "; model input " + std::to_string(i) +
        " of shape " + shape_str(x.shape()) + ": " + std::to_string(nans) + " NaN and " +
        std::to_string(infs) + " Inf among " + std::to_string(x.numel()) +
        " values, the first in row " + std::to_string(row) +
        " of the batch). The data is the source, not a layer: clean it (drop or impute the rows, "
        "e.g. numpy.nan_to_num) before training.");
  }
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    if (!runs_in(node.mode, ctx_in.training)) continue;  // the other mode's trace
    Layer& layer = *node.layer;
    if (node.inputs.size() == 1) layer.check_input(p.node_inputs[n][0].shape());
    if (mixed_)
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        const InputCast cast = input_cast_[n][i];
        if (cast == InputCast::None) continue;
        const Tensor& src = p.values[node.inputs[i]];
        Tensor& dst = p.node_inputs[n][i];
        if (cast == InputCast::Convert) {
          convert_into(dst, src);
          // a float32 copy read by a 16-bit layer holds values of its dtype
          if (dst.dtype() == DType::Float32 && value_dtype_[node.inputs[i]] != layer.compute_dtype())
            round_value(dst, layer.compute_dtype());
        } else {
          backend_->round_to_precision(dst.data<float>(), src.data<float>(), src.numel(),
                                       layer.compute_dtype());
        }
      }
    // (value_aliases applies the node's inference_only itself: the pass's own training flag)
    if (value_aliases(n, ctx_in.training)) continue;
    Tensor& out = p.values[node.output];
    ctx.node = static_cast<int32_t>(n);
    ctx.training = ctx_in.training && !node.inference_only;
    layer.forward_multi(p.node_inputs[n], out, p.scratch[n], ctx);
    round_value(out, value_dtype_[node.output]);
    if (numerics == Numerics::Kernels) {
      check_numerics_of(out, ctx, StepPass::Forward);
    } else if (numerics == Numerics::Eager && host_has_nonfinite(backend_->device(), out)) {
      std::string who = "layer \"" + layer.name() + "\" (" + layer.class_name() + ")";
      if (is_half_precision(layer.compute_dtype()))
        who += ", computing in " + dtype_name(layer.compute_dtype()) + " (largest finite value " +
               (layer.compute_dtype() == DType::Float16 ? std::string("65504") : "3.4e38") + ")";
      numerics_error(who, "forward", out, ctx);
    }
  }
}

void Model::backward(Plan& p, const StepContext& ctx_in, Numerics numerics) {
  StepContext ctx = ctx_in;
  std::vector<bool> written(value_shapes_.size(), false);
  std::vector<bool> layer_written(layers_.size(), false);
  for (size_t o = 0; o < outputs_.size(); ++o)
    if (specs_[o].loss && value_needs_grad_[outputs_[o]]) written[outputs_[o]] = true;
  if (penalty_slot() >= 0)  // the loss terms wrote their values' gradients (loss_terms)
    for (const LossTerm& t : loss_terms_)
      if (runs_in(t.mode, true) && value_needs_grad_[t.value]) written[t.value] = true;

  std::vector<Tensor*> dxs;
  std::vector<std::pair<int, Tensor*>> adds;  // (value, spare buffer) to add after the call
  std::vector<std::pair<int, Tensor*>> converts;  // (value, io-dtype gradient) to convert after
  // A data-parallel step on a device: the buckets of gradients that are final go to the reducer
  // as the pass goes (node n is done when the loop moves on to the next).
  const bool bucketing = bucketing_ && param_count() > 0;
  if (bucketing) start_buckets();
  size_t previous = nodes_.size();
  for (size_t n = nodes_.size(); n-- > 0;) {
    if (bucketing && previous < nodes_.size())
      node_done(previous, layer_written[nodes_[previous].layer_index]);
    previous = n;
    const Node& node = nodes_[n];
    const int out = node.output;
    if (!value_needs_grad_[out] || !written[out] || !runs_in(node.mode, true)) continue;
    Layer& layer = *node.layer;
    if (value_aliases(n, true)) {
      const int in = node.inputs[0];
      if (!value_needs_grad_[in]) continue;
      // A planned alias (the planner's single-writer case) already holds the gradient in place.
      Tensor dy = p.grads[out].reshape(p.grads[in].shape());
      if (!same_storage(p.grads[in], dy)) {
        if (!written[in]) {
          convert_into(p.grads[in], dy);
        } else if (dy.dtype() == p.grads[in].dtype()) {
          add_into(p.grads[in], dy);
        } else {  // a converted input: the gradient converted back, then added
          convert_into(p.spare_grads[in], dy);
          add_into(p.grads[in], p.spare_grads[in]);
        }
      }
      written[in] = true;
      continue;
    }
    dxs.assign(node.inputs.size(), nullptr);
    adds.clear();
    converts.clear();
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int v = node.inputs[i];
      if (!value_needs_grad_[v]) continue;
      if (input_cast_[n][i] == InputCast::Convert) {
        // dx comes back in the node's io dtype and is converted into the value's gradient after
        // the call (or into its spare, then added, when the value already has one).
        dxs[i] = &p.input_grads[n][i];
        converts.emplace_back(v, &p.input_grads[n][i]);
        continue;
      }
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
    if (half) round_value(p.grads[out], value_dtype_[out]);  // no-op on a 16-bit buffer
    ctx.node = static_cast<int32_t>(n);
    ctx.training = ctx_in.training && !node.inference_only;
    layer.backward_multi(p.node_inputs[n], p.values[out], p.grads[out], dxs, p.scratch[n], ctx);
    if (half) {  // (round_value leaves 16-bit buffers, already rounded, alone)
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
    for (const auto& [v, spare] : adds) add_into(p.grads[v], *spare);
    for (const auto& [v, staged] : converts) {
      if (!written[v]) {
        convert_into(p.grads[v], *staged);
        written[v] = true;
      } else {
        if (!p.spare_grads[v].defined())
          throw ValueError("internal: converted gradient of a value read twice has no spare");
        convert_into(p.spare_grads[v], *staged);
        add_into(p.grads[v], p.spare_grads[v]);
      }
    }
    if (numerics == Numerics::Off) continue;
    std::vector<const Tensor*> checked;
    for (const Tensor& g : layer.grads())
      if (g.defined()) checked.push_back(&g);
    for (Tensor* dx : dxs)
      if (dx) checked.push_back(dx);
    if (numerics == Numerics::Kernels) {
      for (const Tensor* t : checked) check_numerics_of(*t, ctx, StepPass::Backward);
      continue;
    }
    // Eager: an overflow under a loss scale above 1 is the loss scale's business.
    if (loss_scale_ && loss_scale_->scale() > 1.0f) continue;
    const std::string who = "layer \"" + layer.name() + "\" (" + layer.class_name() + ")";
    for (const Tensor* t : checked)
      if (host_has_nonfinite(backend_->device(), *t)) numerics_error(who, "backward", *t, ctx);
  }
  if (bucketing && previous < nodes_.size())
    node_done(previous, layer_written[nodes_[previous].layer_index]);
  // A weight's gradient is its value's, summed over the ops that read it. (Weight layers are no
  // nodes, so under bucketing the sweep reaches the layers below one only at the final
  // node_done(all): correct, with less overlap.)
  for (size_t v = 0; v < value_weight_.size(); ++v)
    if (value_weight_[v] >= 0 && written[v]) layer_written[static_cast<size_t>(value_weight_[v])] = true;
  // Trainable layers no gradient reached (e.g. outputs without a loss) get zero gradients, so
  // the optimizer never applies a stale one.
  for (size_t l = 0; l < layers_.size(); ++l)
    if (!layer_written[l])
      for (Tensor& g : layers_[l]->grads())
        if (g.defined()) backend_->fill(g.data<float>(), g.numel(), 0.0f);
  if (bucketing) node_done(0, true, true);  // whatever is left (layers no gradient reached)
}

void Model::losses_and_metrics(Plan& p, int64_t count, bool training, const StepContext& ctx,
                               Numerics numerics, int64_t grad_count) {
  const bool several = specs_.size() > 1;
  // The loss is a mean over the global batch: every worker's gradient is scaled by the global
  // row count, and their sum (reduce_gradients) is the gradient of that mean.
  if (grad_count <= 0) grad_count = count;
  const int32_t n_sums = num_sums();
  double* partial = step_sums(ctx.state, n_sums);
  for (size_t o = 0; o < specs_.size(); ++o) {
    const OutputSpec& spec = specs_[o];
    if (!spec.loss) continue;
    const int value = outputs_[o];
    Tensor& pred = p.values[value];
    Tensor target = p.targets[o].reshape(p.targets[o].dtype() == DType::Int64 ? Shape{count}
                                                                              : pred.shape());
    const int64_t positions = pred.numel() / (count * pred.shape().back());
    Tensor* grad = training && value_needs_grad_[value] ? &p.grads[value] : nullptr;
    const int32_t slot = loss_slot_[o];
    spec.loss->compute(*backend_, pred, target, partial + slot, grad,
                       spec.loss_weight / static_cast<float>(grad_count * positions), ctx.state,
                       static_cast<int32_t>(o));
    // Under loss scaling the gradient carries the scale (the reported loss does not).
    if (grad && loss_scale_) backend_->apply_loss_scale(grad->data<float>(), grad->numel(),
                                                        ctx.state, false);
    if (numerics == Numerics::Kernels) {
      backend_->check_numerics_sums(ctx.state, slot, 1, static_cast<int32_t>(o));
    } else if (numerics == Numerics::Eager) {
      double step_loss = 0.0;
      backend_->device().copy_to_host(&step_loss, partial + slot, sizeof step_loss);
      if (!std::isfinite(step_loss))
        throw NumericsError("check-numerics: the loss \"" + spec.loss->name() + "\"" +
                            (several ? " of output \"" + spec.name + "\"" : std::string()) +
                            " produced " + (std::isnan(step_loss) ? "NaN" : "Inf") + " (" +
                            (ctx.epoch >= 0 ? where_in_fit(ctx) : std::string("outside fit")) +
                            ") although the model outputs were finite: check the targets (NaN "
                            "or Inf in y?) and from_logits.");
    }
    for (size_t m = 0; m < spec.metrics.size(); ++m)
      spec.metrics[m]->update(*backend_, pred, target, partial + metric_slot_[o][m]);
  }
  if (penalty_slot() < 0) return;
  std::vector<bool> seeded(value_shapes_.size(), false);
  for (size_t o = 0; o < specs_.size(); ++o)
    if (training && specs_[o].loss && value_needs_grad_[outputs_[o]]) seeded[outputs_[o]] = true;
  loss_terms(p, count, training, ctx, seeded);
  if (!training) {  // a training step adds the weights' terms after its backward pass
    weight_penalties(count, false, ctx);
    check_penalty_sum(ctx, numerics);
  }
}

void Model::loss_terms(Plan& p, int64_t count, bool training, const StepContext& ctx,
                       std::vector<bool>& seeded) {
  double* sum = step_sums(ctx.state, num_sums()) + penalty_slot();
  // Data-parallel, each worker's term is of its share of the batch and the workers' gradients
  // are summed: the gradient is scaled by 1/workers (TensorFlow's scale_regularization_loss), so
  // the step follows the mean of the workers' terms; the reported value is unchanged (the sum
  // scale makes up for it: the penalty is linear in its coefficients).
  const int replicas = training && collective_ ? std::max(collective_->size(), 1) : 1;
  for (const LossTerm& t : loss_terms_) {
    if (!runs_in(t.mode, training)) continue;
    const Tensor& v = p.values[static_cast<size_t>(t.value)];
    const bool with_grad = training && value_needs_grad_[t.value];
    float* grad = with_grad ? p.grads[static_cast<size_t>(t.value)].data<float>() : nullptr;
    PenaltySpec spec = t.spec;
    if (replicas > 1) {
      const float inv = 1.0f / static_cast<float>(replicas);
      spec.linear *= inv;
      spec.l1 *= inv;
      spec.l2 *= inv;
    }
    // A term is the batch's value: weighted by the batch size in the loop's sums (make_logs).
    backend_->penalty(v.data<float>(), v.numel(), spec, sum,
                      static_cast<double>(count) * static_cast<double>(replicas), grad,
                      with_grad && seeded[t.value], ctx.state);
    if (with_grad) seeded[t.value] = true;
  }
}

void Model::weight_penalties(int64_t count, bool training, const StepContext& ctx) {
  const int32_t slot = penalty_slot();
  if (slot < 0) return;
  double* sum = step_sums(ctx.state, num_sums()) + slot;
  const std::vector<bool> penalized = penalized_params();
  for (size_t r = 0; r < param_refs_.size(); ++r) {
    if (!penalized[r]) continue;
    const ParamRef& ref = param_refs_[r];
    PenaltySpec spec;
    spec.l1 = ref.spec.l1;
    spec.l2 = ref.spec.l2;
    float* grad = training ? ref.grad.data<float>() : nullptr;
    backend_->penalty(ref.value.data<float>(), ref.value.numel(), spec, sum,
                      static_cast<double>(count), grad, true, ctx.state);
  }
}

std::vector<bool> Model::penalized_params() const {
  std::vector<bool> out(param_refs_.size(), false);
  for (size_t r = 0; r < param_refs_.size(); ++r) {
    const ParamRef& ref = param_refs_[r];
    // Keras regularizes the trainable weights: a frozen layer's, or a non-trainable weight's,
    // penalty is left out (it could not change anyway).
    out[r] = (ref.spec.l1 > 0.0f || ref.spec.l2 > 0.0f) && ref.spec.trainable &&
             layers_[ref.layer]->trainable;
  }
  return out;
}

void Model::check_penalty_sum(const StepContext& ctx, Numerics numerics) {
  const int32_t slot = penalty_slot();
  if (slot < 0 || numerics == Numerics::Off) return;
  if (numerics == Numerics::Kernels) {
    backend_->check_numerics_sums(ctx.state, slot, 1, num_outputs());
    return;
  }
  double value = 0.0;
  backend_->device().copy_to_host(&value, step_sums(ctx.state, num_sums()) + slot, sizeof value);
  if (!std::isfinite(value))
    throw NumericsError("check-numerics: the added losses (add_loss values and regularization "
                        "penalties) produced " + std::string(std::isnan(value) ? "NaN" : "Inf") +
                        " (" + (ctx.epoch >= 0 ? where_in_fit(ctx) : std::string("outside fit")) +
                        ")");
}

void Model::enqueue_update(StepState* state) {
  if (loss_scale_) loss_scale_->enqueue_unscale(*backend_, state, grads_, active_);
  // Nothing trainable: the step changes no parameter and counts no iteration.
  if (!active_.empty()) optimizer_->enqueue_update(*backend_, state, params_, grads_, active_);
  compute_params_stale_ = true;
}

void Model::train_step(Plan& p, int64_t count, int64_t grad_count, const StepContext& ctx,
                       Numerics numerics) {
  backend_->step_begin(ctx.state, true);
  forward(p, ctx, numerics);
  losses_and_metrics(p, count, true, ctx, numerics, grad_count);
  if (reducer_) {
    // The gradients are summed on the device in buckets handed over during the backward pass.
    reducer_->prepare(param_count());
    reducer_->begin_step();
    bucketing_ = true;
    try {
      backward(p, ctx, numerics);
    } catch (...) {
      bucketing_ = false;
      throw;
    }
    bucketing_ = false;
    reducer_->end_step();
  } else {
    backward(p, ctx, numerics);
    reduce_gradients(ctx);
  }
  // The weights' regularization terms go into their gradients after backward wrote them and,
  // data-parallel, after the all-reduce: every worker holds the same weights, so each adds the
  // same penalty gradient to the same summed gradient (once, not once per worker).
  weight_penalties(count, true, ctx);
  check_penalty_sum(ctx, numerics);
  enqueue_update(ctx.state);
  backend_->step_end(ctx.state, true, static_cast<double>(count));
}

// ---- captured steps ----

bool Model::GraphEnv::operator==(const GraphEnv& o) const {
  const ScheduleSpec& a = schedule;
  const ScheduleSpec& b = o.schedule;
  const bool same_schedule =
      a.kind == b.kind && a.initial == b.initial && a.decay_steps == b.decay_steps &&
      a.rate == b.rate && a.warmup_target == b.warmup_target && a.warmup_steps == b.warmup_steps &&
      a.staircase == b.staircase && a.warmup == b.warmup && a.pieces == b.pieces &&
      a.boundaries == b.boundaries && a.values == b.values;
  return optimizer == o.optimizer && same_schedule && loss_scale == o.loss_scale &&
         active == o.active && penalized == o.penalized && buffers == o.buffers &&
         math == o.math;
}

void Model::drop_graphs(int which) {
  Device& device = backend_->device();
  size_t kept = 0;
  for (size_t i = 0; i < graph_entries_.size(); ++i) {
    GraphEntry& e = graph_entries_[i];
    const bool training = e.mode == LoopMode::Train;
    if (which < 0 || training == (which == 1)) {
      if (e.graph > 0) device.destroy_graph(e.graph);
      continue;
    }
    if (kept != i) graph_entries_[kept] = std::move(e);
    ++kept;
  }
  graph_entries_.resize(kept);
  last_entry_ = 0;
}

void Model::check_graph_env(bool training) {
  // What the steps froze besides the plans: the optimizer (its schedule as the kernels read it,
  // allocated here before any capture, and its slots), the loss scale, the trainable segments
  // and the weight buffers.
  GraphEnv env;
  env.optimizer = optimizer_.get();
  if (optimizer_) {
    env.schedule = optimizer_->kernel_schedule(*backend_);
    for (const Tensor& t : optimizer_->slots()) env.buffers.push_back(t.defined() ? t.raw() : nullptr);
  }
  env.loss_scale = loss_scale_.get();
  env.active = training ? active_ : graph_env_.active;
  env.penalized = penalized_params();  // freezing a regularized layer changes every step
  env.buffers.push_back(params_.defined() ? params_.raw() : nullptr);
  env.buffers.push_back(grads_.defined() ? grads_.raw() : nullptr);
  env.buffers.push_back(compute_params_.defined() ? compute_params_.raw() : nullptr);
  env.buffers.push_back(compute_params_half_.defined() ? compute_params_half_.raw() : nullptr);
  env.math = read_math_mode(math_mode());
  if (!(env == graph_env_)) {
    drop_graphs();
    graph_env_ = std::move(env);
  }
}

namespace {

const char* mode_name(LoopMode mode) {
  return mode == LoopMode::Train ? "train" : mode == LoopMode::Evaluate ? "evaluate" : "predict";
}

}  // namespace

Model::GraphEntry& Model::graph_entry(LoopMode mode, int64_t count, Numerics numerics,
                                      const StepState* state, int64_t grad_count) {
  const bool targets = mode != LoopMode::Predict;
  // ff.config.experimental's TF32 or determinism switched (between steps, by a callback): the
  // graphs froze GEMM and convolution plans chosen under the old setting, so they are dropped
  // and the steps captured again.
  const MathChoice math = read_math_mode(math_mode());
  if (!(math == graph_env_.math)) {
    drop_graphs();
    graph_env_.math = math;
  }
  auto matches = [&](const GraphEntry& e) {
    return e.mode == mode && e.count == count && e.grad_count == grad_count &&
           e.numerics == numerics && e.state == state &&
           (!targets || e.layout == last_layout_);
  };
  if (last_entry_ < graph_entries_.size() && matches(graph_entries_[last_entry_]))
    return graph_entries_[last_entry_];
  for (size_t i = 0; i < graph_entries_.size(); ++i)
    if (matches(graph_entries_[i])) {
      last_entry_ = i;
      return graph_entries_[i];
    }
  // A new signature. At most kMaxGraphs are kept: the oldest one goes first.
  constexpr size_t kMaxGraphs = 32;
  if (graph_entries_.size() >= kMaxGraphs) {
    if (graph_entries_.front().graph > 0) backend_->device().destroy_graph(graph_entries_.front().graph);
    graph_entries_.erase(graph_entries_.begin());
  }
  GraphEntry e{mode,  count, grad_count, numerics, state, targets ? last_layout_ : TargetLayout(),
               "",    0,     0,          false};
  std::string sig = std::string(mode_name(mode)) + " (batch of " + std::to_string(count);
  for (int i = 0; i < num_inputs_; ++i)
    sig += std::string(i ? ", " : ": ") + "input " + shape_str(with_batch(value_shapes_[i], count)) +
           " float32";
  if (targets)
    for (size_t o = 0; o < e.layout.present.size(); ++o)
      if (e.layout.present[o]) {
        Shape ts{count};
        ts.insert(ts.end(), e.layout.row_shapes[o].begin(), e.layout.row_shapes[o].end());
        sig += ", target " + shape_str(ts) + " " + dtype_name(e.layout.dtypes[o]);
      }
  if (grad_count != count) sig += ", of a global batch of " + std::to_string(grad_count);
  if (numerics != Numerics::Off) sig += ", check-numerics";
  if (depth_ > 1) sig += ", nested loop " + std::to_string(depth_);
  e.signature = sig + ")";
  graph_entries_.push_back(std::move(e));
  last_entry_ = graph_entries_.size() - 1;
  return graph_entries_.back();
}

template <class Enqueue>
void Model::run_step(GraphEntry& e, const Enqueue& enqueue) {
  Device& device = backend_->device();
  if (e.mode == LoopMode::Train && host_staged_reduce()) {
    // The gradient all-reduce reads the host inside the step: always eager.
    enqueue();
    ++graph_stats_.eager_steps;
    return;
  }
  if (++e.uses == 2 && !e.failed) {
    // The first step of the signature ran eagerly (lazy set-up happened there): capture now.
    ++graph_stats_.captures;
    if (e.mode == LoopMode::Train) ++graph_stats_.train_captures;
    graph_stats_.signatures.push_back(e.signature);
    if (graph_stats_.signatures.size() > 32)
      graph_stats_.signatures.erase(graph_stats_.signatures.begin());
    if (device.can_capture()) {
      bool capturing = false;
      try {
        device.begin_capture(0);
        capturing = true;
        enqueue();
        capturing = false;
        e.graph = device.end_capture(0);
      } catch (const std::exception& ex) {
        // The capture ends here whatever happened (no stream is left capturing); nothing of the
        // step ran, and it runs eagerly below, as every later step of this signature does. An
        // error that is not the capture's own is raised again by the eager step.
        if (capturing) {
          try {
            device.end_capture(0);
          } catch (...) {
          }
        }
        e.graph = 0;
        e.failed = true;
        ++graph_stats_.fallbacks;
        graph_stats_.last_error = std::string(ex.what()) + " (capturing " + e.signature + ")";
      }
    }
  }
  if (e.graph > 0) {
    device.launch_graph(e.graph, 0);
    ++graph_stats_.launches;
  } else {
    enqueue();
    ++graph_stats_.eager_steps;
  }
}

// ---- the loop ----

Logs Model::run_loop(BatchSource& batches, LoopMode mode, int64_t epoch, int64_t max_steps,
                     const LoopOptions& opts, PredictSink* sink, int64_t* steps_done) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!built_) throw ValueError("the model is not built yet");
  if (mode != LoopMode::Predict && !optimizer_)
    throw ValueError("You must call compile() before using the model for training");
  if (mode == LoopMode::Predict && !sink) throw ValueError("internal: predict needs a sink");
  if (mode != LoopMode::Predict && penalty_slot() < 0 &&
      std::none_of(specs_.begin(), specs_.end(), [](const OutputSpec& o) { return o.loss; }))
    throw ValueError("No loss to compute. Provide a `loss` argument in `compile()` (the model "
                     "adds no loss of its own through add_loss or regularizers).");
  DepthGuard depth(depth_);
  claim_layers();
  const bool training = mode == LoopMode::Train;
  const Numerics numerics = CheckNumerics::enabled() ? Numerics::Kernels : Numerics::Off;
  if (training) active_ = active_segments();  // frozen layers are left out
  last_layout_valid_ = false;
  StepState* state = state_block();
  check_graph_env(training);
  upload_state(state);
  Device& device = backend_->device();

  HookTimer timer(opts);
  std::vector<int64_t> batch_starts;  // each batch's first sample in this pass
  int64_t samples = 0;
  Batch batch;
  Plan* plan = nullptr;
  StepContext ctx{backend_, training, state, epoch, -1, -1};
  // Predict on a device the host cannot address gathers the outputs in device memory and
  // copies them to the host once, at the end (one read per output); on the host they are
  // copied batch by batch.
  const bool gather = mode == LoopMode::Predict && num_outputs() > 0 &&
                      !device.host_address(state);
  std::vector<Tensor> gathered(gather ? static_cast<size_t>(num_outputs()) : 0);
  auto gather_outputs = [&](const Plan& p, int64_t first, int64_t count) {
    for (int o = 0; o < num_outputs(); ++o) {
      const Tensor& out = p.values[outputs_[o]];
      Tensor& g = gathered[static_cast<size_t>(o)];
      const int64_t row = out.row_size();
      if (!g.defined() || g.rows() < first + count) {
        // Grows geometrically; the rows so far move along on the device.
        const int64_t rows = std::max<int64_t>(first + count, g.defined() ? 2 * g.rows() : count);
        Tensor grown = Tensor::empty(device, {rows, row});
        if (first > 0) device.copy(grown.raw(), g.raw(), static_cast<size_t>(first * row) * sizeof(float));
        g = grown;
      }
      device.copy(static_cast<float*>(g.raw()) + first * row, out.raw(), out.nbytes());
    }
  };
  auto flush_outputs = [&]() {
    if (!gather || samples == 0) return;
    for (int o = 0; o < num_outputs(); ++o) {
      const Tensor& g = gathered[static_cast<size_t>(o)];
      device.copy_to_host(sink->rows(o, 0, samples), g.raw(),
                          static_cast<size_t>(samples * g.row_size()) * sizeof(float));
    }
  };
  // A sync point: reads the block (refreshing the host mirrors), raises a recorded error.
  auto sync = [&]() {
    StateView view = read_state(state);
    if (view.header.halted) raise_recorded_error(view, &batches, batch_starts, plan, ctx, mode);
    return view;
  };
  // Calls the hook with the loop's logs; afterwards the values it may have changed (learning
  // rate, a nested loop's counters) go back into the block.
  auto call_hook = [&](bool begin, int64_t step) {
    const StateView view = sync();
    const Logs logs = mode == LoopMode::Predict ? Logs{} : make_logs(view);
    const bool stop = opts.hook(begin, step, logs);
    upload_after_hook(state, view.header);
    return stop;
  };
  // A data-parallel run: every worker trains and evaluates on its share of each global batch
  // (predict runs whole on every worker); training steps begin with an agreement of the workers.
  const bool distributed = collective_ && collective_->size() > 1 && mode != LoopMode::Predict;
  const bool agree = distributed && training;
  if (distributed) batches.set_replica(collective_->rank(), collective_->size());
  // A device the host cannot address: a source that makes its own batches (an ff.data pipeline)
  // writes them into the slots' pinned pool (model/input_slots.h); the CPU asks for nothing.
  // (The pool is input_batch_pool()'s: a pass opened with it before the loop, fit's look at the
  // first batch, is pinned the same way.)
  if (num_inputs_ > 0 && batches.can_pin() && !device.host_address(state)) {
    batches.begin(input_batch_pool());
  } else {
    batches.begin(nullptr);
  }
  int64_t s = 0;
  // Data-parallel training: a stop asked on this worker (a hook) takes effect at the next step's
  // agreement, on every worker at once; a worker whose source ended takes part with empty steps
  // until every worker's has.
  bool stop_pending = false, source_ended = false;
  try {
    for (; max_steps < 0 || s < max_steps; ++s) {
      int64_t grad_count = -1;
      if (agree) {
        const bool have = !source_ended && fetch_batch(batches, batch);
        source_ended = !have;
        const uint64_t fingerprint = have ? batches.split_fingerprint() : 0;
        const std::vector<int64_t> all = collective_->allgather(
            {have ? batch.count : -1, stop_pending ? 1 : 0, static_cast<int64_t>(fingerprint)},
            "the start of " + where_in_fit(StepContext{backend_, true, state, epoch, s, -1}));
        bool any_batch = false, any_stop = false;
        grad_count = 0;
        for (size_t w = 0; w + 2 < all.size(); w += 3) {
          any_batch = any_batch || all[w] >= 0;
          any_stop = any_stop || all[w + 1] != 0;
          grad_count += std::max<int64_t>(all[w], 0);
        }
        check_same_split(all, epoch);
        if (any_stop || !any_batch) break;
        if (grad_count == 0) {  // every worker's share is empty: no step
          --s;
          continue;
        }
        if (!have || batch.count == 0) {
          batch_starts.push_back(have ? batch.position : samples);
          ctx.batch = s;
          empty_train_step(ctx);
          if (reducer_) reducer_->step_launched();
          ++graph_stats_.eager_steps;
          if (timer.due() && call_hook(false, s + 1)) stop_pending = true;
          continue;
        }
        plan = prepare_batch(mode, batch);
      } else {
        plan = next_batch(batches, mode, batch);
        if (!plan) break;
      }
      // The batch is fetched first, so a source of unknown length gets no begin call past its end.
      if (opts.hook && opts.hook_batch_begin && call_hook(true, s)) {
        if (!agree) break;
        stop_pending = true;  // the step was agreed on: it runs, and the next agreement stops
      }
      Plan& p = *plan;
      // (a worker's share of a global batch: where it starts in the pass, for messages)
      batch_starts.push_back(batch.global_count >= 0 ? batch.position : samples);
      ctx.batch = s;
      const int64_t count = batch.count;
      if (grad_count < 0) grad_count = count;
      // 16-bit weight copies are refreshed outside the step (a host flag decides it), so every
      // replay of a step sees them current.
      sync_compute_params();
      GraphEntry& entry = graph_entry(mode, count, numerics, state, grad_count);
      if (training) {
        run_step(entry, [&] { train_step(p, count, grad_count, ctx, numerics); });
        // NCCL's watchdog follows the step (a peer that dies inside its all-reduce would leave
        // it waiting forever) and raises what it saw since the last one.
        if (reducer_) reducer_->step_launched();
      } else {
        run_step(entry, [&] {
          backend_->step_begin(state, false);
          forward(p, ctx, numerics);
          if (mode == LoopMode::Evaluate) losses_and_metrics(p, count, false, ctx, numerics);
          backend_->step_end(state, false, static_cast<double>(count));
        });
        if (mode == LoopMode::Predict) {
          if (gather) {
            gather_outputs(p, samples, count);
          } else {
            for (int o = 0; o < num_outputs(); ++o) {
              const Tensor& out = p.values[outputs_[o]];
              device.copy_to_host(sink->rows(o, samples, count), out.raw(), out.nbytes());
            }
          }
        }
      }
      samples += count;
      if (numerics != Numerics::Off) sync();  // check-numerics: one read per step
      if (timer.due() && call_hook(false, s + 1)) {
        if (agree) {
          stop_pending = true;
          continue;
        }
        ++s;
        break;
      }
    }
  } catch (...) {
    // The workers failed (a peer died or hangs): NCCL's queued work on the device is abandoned,
    // or it would wait for the peer forever.
    if (reducer_ && collective_ && collective_->broken()) reducer_->abort();
    // An interrupted loop (Ctrl-C through the hook, an error) leaves the host mirrors matching
    // what the steps that ran did.
    try {
      read_state(state);
    } catch (...) {
    }
    throw;
  }
  if (steps_done) *steps_done = s;
  flush_outputs();
  // A step whose all-reduce NCCL's watchdog aborted ends the wait: raise why (rather than what
  // the device says after the abort).
  StateView view;
  try {
    view = sync();
  } catch (...) {
    if (reducer_) reducer_->check();
    throw;
  }
  if (reducer_) reducer_->check();
  if (distributed) {
    // The loop's logs over every worker's samples (the same numbers on every worker, so
    // callbacks decide alike), then the check that the workers' weights still agree.
    const std::string when =
        training ? "epoch " + std::to_string(epoch + 1) : std::string("an evaluation");
    std::vector<double> totals(view.sums);
    totals.push_back(view.header.samples);
    collective_->allreduce_sum(totals.data(), static_cast<int64_t>(totals.size()),
                               "the sum of the logs of " + when);
    view.header.samples = totals.back();
    totals.pop_back();
    view.sums = std::move(totals);
    if (training) check_replicas_agree(when);
  }
  return mode == LoopMode::Predict ? Logs{} : make_logs(view);
}

// ---- conveniences over run_loop ----

Logs Model::train_epoch(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys,
                        const std::vector<int64_t>& order, int64_t epoch, const LoopOptions& opts) {
  ArraySource source(xs, ys, order, opts.batch_size);
  return run_loop(source, LoopMode::Train, epoch, -1, opts);
}

Logs Model::evaluate(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys,
                     const LoopOptions& opts) {
  ArraySource source(xs, ys, {}, opts.batch_size);
  return run_loop(source, LoopMode::Evaluate, -1, -1, opts);
}

void Model::predict(const std::vector<HostArray>& xs, const std::vector<float*>& outs,
                    const LoopOptions& opts) {
  if (static_cast<int>(outs.size()) != num_outputs())
    throw ValueError("internal: predict needs one output buffer per model output");
  std::vector<int64_t> row_sizes;
  for (int o = 0; o < num_outputs(); ++o) row_sizes.push_back(shape_row_size(output_shape(o)));
  ArraySink sink(outs, std::move(row_sizes));
  ArraySource source(xs, {}, {}, opts.batch_size);
  run_loop(source, LoopMode::Predict, -1, -1, opts, &sink);
}

void Model::call(const std::vector<HostArray>& xs, bool training, const std::vector<float*>& outs) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  check_inputs(shapes_of(xs));
  const int64_t n = xs.empty() ? 0 : xs[0].rows();
  if (n == 0) return;
  DepthGuard depth(depth_);
  claim_layers();
  Batch batch;
  batch.xs = xs;
  batch.count = n;
  Plan& p = plan_for(n, training, nullptr);
  load_batch(p, batch, false);
  StepState* state = state_block();
  upload_state(state);
  // Training-mode calls use streams with the top bit set, so they never repeat a fit step's
  // dropout mask, and each call gets a new one (as Keras draws a new mask per call).
  constexpr uint64_t kCallStreams = uint64_t{1} << 63;
  const int64_t stream = static_cast<int64_t>(
      training ? (kCallStreams | training_calls_++) : train_steps_);
  backend_->device().copy_from_host(&state->rng_stream, &stream, sizeof stream);
  StepContext ctx{backend_, training, state, -1, -1, -1};
  forward(p, ctx, CheckNumerics::enabled() ? Numerics::Eager : Numerics::Off);
  for (int o = 0; o < num_outputs(); ++o) {
    const Tensor& out = p.values[outputs_[o]];
    backend_->device().copy_to_host(outs[o], out.raw(), out.nbytes());
  }
  StateView view = read_state(state, false);
  if (view.header.halted) raise_recorded_error(view, nullptr, {}, &p, ctx, LoopMode::Predict);
}

}  // namespace ff
