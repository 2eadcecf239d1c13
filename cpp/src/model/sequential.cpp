// Sequential: structure, build (one contiguous parameter buffer), parameters and batch plans.
// The loops themselves are in trainer.cpp.
#include "model/sequential.h"

#include <algorithm>

#include "core/errors.h"
#include "core/rng.h"
#include "layers/initializers.h"

namespace ff {

Sequential::Sequential(Backend& backend) : backend_(&backend) {}

void Sequential::add(std::shared_ptr<Layer> layer) {
  if (!layer) throw ValueError("Sequential.add() expects a layer, received None");
  for (const auto& l : layers_) {
    if (l == layer)
      throw ValueError("Layer \"" + layer->name() + "\" is already in this model; a layer "
                       "instance can appear once in a Sequential model");
    if (l->name() == layer->name())
      throw ValueError("All layers added to a Sequential model should have unique names. Name \"" +
                       layer->name() + "\" is already the name of a layer in this model.");
  }
  if (built_) {
    // Extending a built model: build the new layer on the current output and re-lay the buffer.
    // The existing parameters lead the new layout, so their (possibly trained) values carry over.
    Shape in = input_shape_;
    Tensor old = params_, old_state = state_;
    const int64_t old_count = param_count(), old_state_count = state_count();
    layers_.push_back(layer);
    built_ = false;
    build(in);
    backend_->copy(params_.raw(), old.raw(), static_cast<size_t>(old_count) * sizeof(float));
    backend_->copy(state_.raw(), old_state.raw(), static_cast<size_t>(old_state_count) * sizeof(float));
    return;
  }
  layers_.push_back(std::move(layer));
}

void Sequential::pop() {
  if (layers_.empty()) throw ValueError("There are no layers in the model to pop");
  if (built_)
    throw ValueError("pop() on a built model is not supported: build a new Sequential instead");
  layers_.pop_back();
}

void Sequential::build(const Shape& input_shape) {
  Shape in = with_batch(input_shape, kNone);
  if (built_) {
    check_input(in);
    return;
  }
  if (layers_.empty()) throw ValueError("Sequential model has no layers: add() layers before use");
  // Resolve shapes first: every shape error comes before any allocation.
  Shape cur = in;
  for (auto& l : layers_) cur = l->build(cur);

  // One contiguous buffer for all trainable parameters, one for their gradients, and one for
  // non-trainable state (never touched by the optimizer).
  int64_t trainable_total = 0, state_total = 0;
  std::vector<ParamRef> refs;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (auto& spec : layers_[i]->param_specs()) {
      refs.push_back({i, spec, Tensor()});
      (spec.trainable ? trainable_total : state_total) += shape_numel(spec.shape);
    }
  params_ = Tensor::zeros(*backend_, {std::max<int64_t>(trainable_total, 1)});
  grads_ = Tensor::zeros(*backend_, {std::max<int64_t>(trainable_total, 1)});
  state_ = Tensor::zeros(*backend_, {std::max<int64_t>(state_total, 1)});
  segments_.clear();
  int64_t offset = 0, state_offset = 0;
  std::vector<std::vector<Tensor>> layer_params(layers_.size()), layer_grads(layers_.size());
  for (auto& ref : refs) {
    const int64_t n = shape_numel(ref.spec.shape);
    if (ref.spec.trainable) {
      ref.value = params_.view(offset, ref.spec.shape);
      layer_grads[ref.layer].push_back(grads_.view(offset, ref.spec.shape));
      segments_.push_back({offset, n});
      offset += n;
    } else {
      ref.value = state_.view(state_offset, ref.spec.shape);
      layer_grads[ref.layer].push_back(Tensor());
      state_offset += n;
    }
    layer_params[ref.layer].push_back(ref.value);
    // Each parameter draws from its own stream of the layer's seed.
    initialize(ref.value, ref.spec.initializer,
               mix_seed(layers_[ref.layer]->seed(), layer_params[ref.layer].size()));
  }
  needs_input_grad_.assign(layers_.size(), false);
  bool params_before = false;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->bind(layer_params[i], layer_grads[i]);
    needs_input_grad_[i] = params_before;
    for (const auto& spec : layers_[i]->param_specs()) params_before |= spec.trainable;
  }
  param_refs_ = std::move(refs);
  input_shape_ = in;
  output_shape_ = cur;
  train_plan_ = Plan();
  infer_plan_ = Plan();
  train_view_batch_ = infer_view_batch_ = -1;
  built_ = true;
  if (optimizer_) optimizer_->build(*backend_, params_.numel());
}

void Sequential::compile(std::shared_ptr<Loss> loss, std::shared_ptr<Optimizer> optimizer,
                         std::vector<std::shared_ptr<Metric>> metrics) {
  if (!loss) throw ValueError("compile() needs a loss");
  if (!optimizer) throw ValueError("compile() needs an optimizer");
  loss_ = std::move(loss);
  optimizer_ = std::move(optimizer);
  metrics_ = std::move(metrics);
  if (built_) optimizer_->build(*backend_, params_.numel());
}

std::vector<std::string> Sequential::metric_names() const {
  std::vector<std::string> names{"loss"};
  for (const auto& m : metrics_) names.push_back(m->name());
  return names;
}

void Sequential::check_input(const Shape& x_shape) const {
  if (!built_) throw ValueError("the model is not built yet");
  layers_.front()->check_input(x_shape);
}

Shape Sequential::check_targets(const Shape& x_shape, const Shape& y_shape, DType y_dtype) const {
  if (!loss_) throw ValueError("You must call compile() before using the model for training");
  if (x_shape.empty() || y_shape.empty() || x_shape[0] != y_shape[0])
    throw ValueError("Data cardinality is ambiguous: x has " +
                     (x_shape.empty() ? std::string("no") : std::to_string(x_shape[0])) +
                     " samples but y has " +
                     (y_shape.empty() ? std::string("no") : std::to_string(y_shape[0])) +
                     " samples. Make sure all arrays contain the same number of samples.");
  Shape pred = with_batch(output_shape_, x_shape[0]);
  Shape target = loss_->target_shape_for(pred, y_shape);
  DType want = loss_->sparse() ? DType::Int64 : DType::Float32;
  if (y_dtype != want)
    throw TypeError("Loss \"" + loss_->name() + "\" expects targets of dtype " + dtype_name(want) +
                    ", received " + dtype_name(y_dtype));
  for (const auto& m : metrics_) {
    if (m->sparse() != loss_->sparse())
      throw ValueError("Metric \"" + m->name() + "\" expects " +
                       (m->sparse() ? "integer class indices" : "targets shaped like the outputs") +
                       " but the loss \"" + loss_->name() + "\" takes " +
                       (loss_->sparse() ? "integer class indices" : "targets shaped like the outputs"));
  }
  return target;
}

void Sequential::get_parameter(size_t i, float* host_out) const {
  const Tensor& t = param_refs_.at(i).value;
  backend_->copy_to_host(host_out, t.raw(), t.nbytes());
}

void Sequential::set_parameter(size_t i, const float* host_in) {
  Tensor& t = param_refs_.at(i).value;
  backend_->copy_from_host(t.raw(), host_in, t.nbytes());
}

std::vector<int64_t> Sequential::shuffled_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    uint32_t bits = Philox::block(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(i))[0];
    int64_t j = static_cast<int64_t>((static_cast<uint64_t>(bits) * static_cast<uint64_t>(i + 1)) >> 32);
    std::swap(order[i], order[j]);
  }
  return order;
}

// ---- plans ----

Sequential::Plan Sequential::allocate_plan(int64_t capacity, bool training, bool with_target,
                                           const Shape& target_row_shape, DType target_dtype) {
  Plan p;
  p.capacity = capacity;
  p.input = Tensor::empty(*backend_, with_batch(input_shape_, capacity));
  const size_t n = layers_.size();
  p.outputs.resize(n);
  p.scratch.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Tensor& in = i == 0 ? p.input : p.outputs[i - 1];
    Shape out = with_batch(layers_[i]->output_shape(), capacity);
    p.outputs[i] = layers_[i]->aliases_input(training) ? in.reshape(out)
                                                        : Tensor::empty(*backend_, out);
    for (const Shape& s : layers_[i]->scratch_shapes(capacity))
      p.scratch[i].push_back(Tensor::empty(*backend_, s));
  }
  if (training) {
    p.grads.resize(n);
    p.grads[n - 1] = Tensor::empty(*backend_, p.outputs[n - 1].shape());
    for (size_t i = n - 1; i > 0; --i) {
      if (!p.grads[i].defined()) break;
      Shape in = with_batch(layers_[i]->input_shape(), capacity);
      if (layers_[i]->aliases_input(true)) p.grads[i - 1] = p.grads[i].reshape(in);
      else if (needs_input_grad_[i]) p.grads[i - 1] = Tensor::empty(*backend_, in);
    }
  }
  if (with_target) {
    Shape ts{capacity};
    ts.insert(ts.end(), target_row_shape.begin(), target_row_shape.end());
    p.target = Tensor::empty(*backend_, ts, target_dtype);
  }
  p.target_row_shape = target_row_shape;
  p.target_dtype = target_dtype;
  return p;
}

Sequential::Plan Sequential::view_plan(const Plan& full, int64_t batch) {
  if (batch == full.capacity) return full;
  Plan v;
  v.capacity = batch;
  v.input = full.input.first_rows(batch);
  for (const auto& t : full.outputs) v.outputs.push_back(t.first_rows(batch));
  for (const auto& t : full.grads) v.grads.push_back(t.defined() ? t.first_rows(batch) : Tensor());
  for (const auto& s : full.scratch) {
    v.scratch.emplace_back();
    for (const auto& t : s) v.scratch.back().push_back(t.first_rows(batch));
  }
  if (full.target.defined()) v.target = full.target.first_rows(batch);
  v.target_row_shape = full.target_row_shape;
  v.target_dtype = full.target_dtype;
  return v;
}

Sequential::Plan& Sequential::plan_for(int64_t batch, bool training, bool with_target,
                                       const Shape& target_row_shape, DType target_dtype) {
  Plan& full = training ? train_plan_ : infer_plan_;
  Plan& view = training ? train_view_ : infer_view_;
  int64_t& view_batch = training ? train_view_batch_ : infer_view_batch_;
  const bool target_ok = !with_target || (full.target.defined() &&
                                          full.target_row_shape == target_row_shape &&
                                          full.target_dtype == target_dtype);
  if (full.capacity < batch || !target_ok) {
    // Grow (never shrink): repeated calls with any batch up to the largest seen allocate nothing.
    full = allocate_plan(std::max(batch, full.capacity), training, with_target, target_row_shape,
                         target_dtype);
    view_batch = -1;
  }
  if (view_batch != batch) {
    view = view_plan(full, batch);
    view_batch = batch;
  }
  return view;
}

}  // namespace ff
