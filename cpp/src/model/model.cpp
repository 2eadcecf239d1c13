// Model: graph construction, the parameter layout (one contiguous trainable buffer, one state
// buffer), compile, input/target checks and the per-batch buffer plans. The loops are in
// model_loops.cpp.
#include "model/model.h"

#include <algorithm>
#include <mutex>
#include <new>
#include <unordered_map>

#include "core/errors.h"
#include "core/rng.h"
#include "layers/initializers.h"
#include "model/input_slots.h"

namespace ff {

Model::Model(Backend& backend) : backend_(&backend) {
  // On a device that captures graphs every model takes the device's lock (see
  // Device::models_mutex): two models in two threads must not enqueue into one capture.
  if (backend.device().can_capture()) mutex_ = backend.device().models_mutex();
}

Model::~Model() { drop_graphs(); }

void Model::set_loss_scale(std::shared_ptr<DynamicLossScale> scale) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  loss_scale_ = std::move(scale);
}

int Model::add_input(const Shape& shape) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!nodes_.empty()) throw ValueError("model inputs must be added before any layer call");
  if (shape.empty()) throw ValueError("a model input needs a batch dimension");
  check_sample_elements(with_batch(shape, kNone), "Model input " + std::to_string(num_inputs_));
  value_shapes_.push_back(with_batch(shape, kNone));
  value_batched_.push_back(true);
  value_weight_.push_back(-1);
  return num_inputs_++;
}

int Model::add_weight(std::shared_ptr<Layer> weight) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!weight || weight->class_name() != "Weight")
    throw ValueError("internal: add_weight() expects a Weight layer");
  auto found = layer_index_.find(weight.get());
  if (found != layer_index_.end()) {
    for (size_t v = 0; v < value_weight_.size(); ++v)
      if (value_weight_[v] == static_cast<int>(found->second)) return static_cast<int>(v);
    throw ValueError("internal: weight \"" + weight->name() + "\" is a node's layer");
  }
  if (!layer_names_.insert(weight->name()).second)
    throw ValueError("All layers in a model should have unique names. Name \"" + weight->name() +
                     "\" (a weight) is already the name of a layer in this model.");
  const size_t index = layers_.size();
  layer_index_.emplace(weight.get(), index);
  const Shape shape = weight->output_shape();
  layers_.push_back(std::move(weight));
  value_shapes_.push_back(shape);
  value_batched_.push_back(false);
  value_weight_.push_back(static_cast<int>(index));
  return static_cast<int>(value_shapes_.size()) - 1;
}

void Model::add_loss_term(int value, PenaltySpec spec, NodeMode mode) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (value < 0 || value >= static_cast<int>(value_shapes_.size()))
    throw ValueError("internal: a loss term on an unknown value");
  if (!(spec.linear == spec.linear) || !(spec.l1 >= 0.0f) || !(spec.l2 >= 0.0f))
    throw ValueError("internal: a loss term needs finite factors, l1 and l2 non-negative");
  loss_terms_.push_back({value, spec, mode});
}

int Model::add_node(std::shared_ptr<Layer> layer, const std::vector<int>& inputs,
                    bool inference_only, NodeMode mode) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!layer) throw ValueError("add_node() expects a layer, received None");
  if (layer->class_name() == "Weight")
    throw ValueError("internal: a Weight is added with add_weight(), not called as a node");
  if (inputs.empty()) throw ValueError("layer \"" + layer->name() + "\" was called on no input");
  for (int v : inputs)
    if (v < 0 || v >= static_cast<int>(value_shapes_.size()))
      throw ValueError("layer \"" + layer->name() + "\" was called on an unknown value");
  bool any_batched = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const bool batched = value_batched_[inputs[i]];
    any_batched = any_batched || batched;
    if (batched == layer->input_batched(i)) continue;
    if (!batched)
      throw ValueError("Layer \"" + layer->name() + "\" (" + layer->class_name() +
                       ") was called on a value without a batch axis, of shape " +
                       shape_str(value_shapes_[inputs[i]]) + " (a custom layer's weight, or "
                       "computed from weights alone): layers take per-sample inputs; use "
                       "ff.ops operations on weights");
    throw ValueError("internal: layer \"" + layer->name() + "\" expects input " +
                     std::to_string(i) + " without a batch axis, but it has one");
  }
  if (layer->output_batched() && !any_batched)
    throw ValueError("internal: layer \"" + layer->name() + "\" has a batched output but no "
                     "batched input");
  const bool merge = layer->num_inputs() == 0;
  if (!merge && inputs.size() != 1)
    throw ValueError("Layer \"" + layer->name() + "\" (" + layer->class_name() +
                     ") takes one input, but was called on " + std::to_string(inputs.size()) +
                     " inputs");
  if (merge && inputs.size() < 2)
    throw ValueError("A merge layer should be called on a list of at least 2 inputs. Layer \"" +
                     layer->name() + "\" (" + layer->class_name() + ") received 1 input.");
  std::vector<Shape> shapes;
  for (int v : inputs) shapes.push_back(value_shapes_[v]);
  Shape out = merge ? layer->build_multi(shapes) : layer->build(shapes[0]);
  const bool layer_output_batched = layer->output_batched();  // known once built

  // Hash lookups, not scans of the layers so far: building a graph is linear in its nodes.
  auto found = layer_index_.find(layer.get());
  size_t index = found == layer_index_.end() ? layers_.size() : found->second;
  if (found == layer_index_.end()) {
    if (!layer_names_.insert(layer->name()).second)
      throw ValueError("All layers in a model should have unique names. Name \"" +
                       layer->name() + "\" is already the name of a layer in this model.");
    layer_index_.emplace(layer.get(), index);
    layers_.push_back(layer);
  }
  const int value = static_cast<int>(value_shapes_.size());
  nodes_.push_back({std::move(layer), index, inputs, value, inference_only, mode});
  value_shapes_.push_back(out);
  value_batched_.push_back(layer_output_batched);
  value_weight_.push_back(-1);
  return value;
}

void Model::set_outputs(const std::vector<int>& outputs) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (outputs.empty()) throw ValueError("a model needs at least one output");
  for (int v : outputs)
    if (v < 0 || v >= static_cast<int>(value_shapes_.size()))
      throw ValueError("model output refers to an unknown value");
  for (int v : outputs)
    if (!value_batched_[v])
      throw ValueError("A model output must hold one row per sample, but output value of shape " +
                       shape_str(value_shapes_[v]) + " has no batch axis (a weight, or "
                       "computed from weights alone or over the whole batch); add such values "
                       "to the loss with add_loss instead");
  std::unordered_map<int, size_t> first;  // value -> first position
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto [it, added] = first.emplace(outputs[i], i);
    if (!added)
      throw ValueError("the same tensor is listed twice among the model outputs (positions " +
                       std::to_string(it->second) + " and " + std::to_string(i) + ")");
  }
  outputs_ = outputs;
}

void Model::set_train_steps(uint64_t steps) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  train_steps_ = steps;
}

void Model::finalize() {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (outputs_.empty()) throw ValueError("set the model outputs before building it");
  if (!specs_.empty() && static_cast<int>(specs_.size()) != num_outputs())
    throw ValueError("the model was compiled for " + std::to_string(specs_.size()) +
                     " outputs, but it has " + std::to_string(num_outputs()));
  // A model that grows (Sequential.add after build) keeps its weights: the new layers' weights
  // come after the old ones in both buffers.
  Tensor old_params = params_, old_state = state_;
  const int64_t old_count = built_ || params_.defined() ? param_count() : 0;
  const int64_t old_state_count = built_ || state_.defined() ? state_count() : 0;

  int64_t trainable_total = 0, state_total = 0;
  std::vector<ParamRef> refs;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::vector<ParamSpec> specs = layers_[i]->param_specs();
    for (const auto& [param, factors] : layers_[i]->weight_regularizers())
      if (std::none_of(specs.begin(), specs.end(), [&](const ParamSpec& p) { return p.name == param; }))
        throw ValueError("Layer \"" + layers_[i]->name() + "\" (" + layers_[i]->class_name() +
                         ") has no weight \"" + param + "\" to regularize");
    for (ParamSpec spec : specs) {
      const auto [l1, l2] = layers_[i]->weight_regularizer(spec.name);
      if (l1 > 0.0f || l2 > 0.0f) {
        spec.l1 = l1;
        spec.l2 = l2;
      }
      refs.push_back({i, spec, Tensor(), Tensor()});
      // Each weight is at most kMaxParamElements (Layer::build); their sum is checked.
      int64_t& total = spec.trainable ? trainable_total : state_total;
      total = size_add(total, shape_numel(spec.shape), "the model's weight count");
    }
  }
  check_weights_size(refs, trainable_total, state_total);
  params_ = Tensor::zeros(backend_->device(), {std::max<int64_t>(trainable_total, 1)});
  grads_ = Tensor::zeros(backend_->device(), {std::max<int64_t>(trainable_total, 1)});
  state_ = Tensor::zeros(backend_->device(), {std::max<int64_t>(state_total, 1)});
  segments_.clear();
  int64_t offset = 0, state_offset = 0;
  std::vector<std::vector<Tensor>> layer_params(layers_.size()), layer_grads(layers_.size());
  for (auto& ref : refs) {
    const int64_t n = shape_numel(ref.spec.shape);
    if (ref.spec.trainable) {
      ref.value = params_.view(offset, ref.spec.shape);
      ref.grad = grads_.view(offset, ref.spec.shape);
      layer_grads[ref.layer].push_back(ref.grad);
      segments_.push_back({offset, n});
      offset += n;
    } else {
      ref.value = state_.view(state_offset, ref.spec.shape);
      layer_grads[ref.layer].push_back(Tensor());
      state_offset += n;
    }
    layer_params[ref.layer].push_back(ref.value);
    // A layer that has weights already (built standalone, or from another model: a trained
    // layer reused in a new model) brings them along, as Keras's layers keep their variables;
    // otherwise each parameter draws from its own stream of the layer's seed.
    const std::vector<Tensor>& existing = layers_[ref.layer]->weights();
    const size_t k = layer_params[ref.layer].size() - 1;
    if (k < existing.size() && existing[k].defined() && existing[k].shape() == ref.spec.shape)
      copy_weight(ref.value, existing[k]);
    else
      initialize(ref.value, ref.spec.initializer,
                 mix_seed(layers_[ref.layer]->seed(), layer_params[ref.layer].size()));
  }
  param_refs_ = std::move(refs);
  value_weight_ref_.assign(value_shapes_.size(), -1);
  has_penalties_ = !loss_terms_.empty();
  std::vector<int> weight_value(layers_.size(), -1);  // per layer: its Weight's value
  for (size_t v = 0; v < value_weight_.size(); ++v)
    if (value_weight_[v] >= 0) weight_value[static_cast<size_t>(value_weight_[v])] = static_cast<int>(v);
  for (size_t r = 0; r < param_refs_.size(); ++r) {
    const ParamRef& ref = param_refs_[r];
    has_penalties_ = has_penalties_ || ref.spec.l1 > 0.0f || ref.spec.l2 > 0.0f;
    if (weight_value[ref.layer] >= 0)
      value_weight_ref_[static_cast<size_t>(weight_value[ref.layer])] = static_cast<int>(r);
  }
  plan_precision(layer_params);
  bindings_.assign(layers_.size(), {});
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->bind(layer_params[i], layer_grads[i]);
    layers_[i]->set_model_mutex(mutex_);  // layer.set_weights takes the model's lock
    bindings_[i] = {layers_[i]->params(), layers_[i]->grads(), layers_[i]->weights()};
  }
  if (old_count > 0)
    backend_->copy(params_.raw(), old_params.raw(), static_cast<size_t>(old_count) * sizeof(float));
  if (old_state_count > 0)
    backend_->copy(state_.raw(), old_state.raw(),
                   static_cast<size_t>(old_state_count) * sizeof(float));

  // Which values carry a gradient (they depend on a trainable parameter), and fan-out counts.
  value_needs_grad_.assign(value_shapes_.size(), false);
  consumers_.assign(value_shapes_.size(), 0);
  for (size_t v = 0; v < value_shapes_.size(); ++v)  // a trainable weight's value
    if (value_weight_ref_[v] >= 0)
      value_needs_grad_[v] = param_refs_[static_cast<size_t>(value_weight_ref_[v])].spec.trainable;
  for (const Node& node : nodes_) {
    bool needs = false;
    for (int v : node.inputs) {
      needs = needs || value_needs_grad_[v];
      ++consumers_[v];
    }
    for (const auto& spec : node.layer->param_specs()) needs = needs || spec.trainable;
    // A node of the inference trace never runs backward.
    value_needs_grad_[node.output] = needs && node.mode != NodeMode::InferOnly;
  }
  invalidate_plans();
  compute_params_stale_ = true;
  built_ = true;
  if (optimizer_) optimizer_->build(*backend_, params_.numel());
}

void Model::check_weights_size(const std::vector<ParamRef>& refs, int64_t trainable,
                               int64_t state) const {
  // What finalize allocates: the float32 weights and their gradients, the non-trainable state,
  // and under mixed precision the 16-bit-rounded copies of the trainable weights.
  bool mixed = false;
  for (const auto& layer : layers_) mixed = mixed || is_half_precision(layer->compute_dtype());
  const int64_t capacity = backend_->device().memory_capacity();
  int64_t elements = 0, bytes = 0;
  const bool overflow =
      __builtin_mul_overflow(trainable, mixed ? 3 : 2, &elements) ||
      __builtin_add_overflow(elements, state, &elements) ||
      __builtin_mul_overflow(elements, static_cast<int64_t>(sizeof(float)), &bytes);
  if (!overflow && bytes <= capacity) return;
  const ParamRef* largest = nullptr;
  for (const auto& ref : refs)
    if (!largest || shape_numel(ref.spec.shape) > shape_numel(largest->spec.shape)) largest = &ref;
  std::string msg = "The model's weights need " +
                    (overflow ? std::string("more than 2^63 - 1 bytes")
                              : bytes_str(static_cast<double>(bytes))) +
                    " (" + std::to_string(trainable) + " trainable parameters with their "
                    "gradients" + (mixed ? " and 16-bit copies" : "") + ", " +
                    std::to_string(state) + " non-trainable), more than the " +
                    bytes_str(static_cast<double>(capacity)) + " of memory of the " +
                    backend_->name() + " backend";
  if (largest)
    msg += "; the largest weight is \"" + largest->spec.name + "\" of layer \"" +
           layers_[largest->layer]->name() + "\" (" + layers_[largest->layer]->class_name() +
           "), shape=" + shape_str(largest->spec.shape);
  throw ValueError(msg + ". Use smaller layers.");
}

void Model::plan_precision(std::vector<std::vector<Tensor>>& layer_params) {
  mixed_ = false;
  for (const auto& layer : layers_) mixed_ = mixed_ || is_half_precision(layer->compute_dtype());
  value_dtype_.assign(value_shapes_.size(), DType::Float32);
  value_storage_.assign(value_shapes_.size(), DType::Float32);
  input_cast_.assign(nodes_.size(), {});
  node_io_.assign(nodes_.size(), DType::Float32);
  // Layers on 16-bit buffers: where the backend keeps them and the layer supports it, except a
  // layer making a model output (losses, metrics and predict read float32).
  half_layer_.assign(layers_.size(), false);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = *layers_[l];
    half_layer_[l] = backend_->half_storage() && is_half_precision(layer.compute_dtype()) &&
                     layer.supports_half_io() && !layer.float32_output();
  }
  for (const Node& node : nodes_) {
    bool float32_value = std::find(outputs_.begin(), outputs_.end(), node.output) != outputs_.end();
    for (const LossTerm& t : loss_terms_) float32_value = float32_value || t.value == node.output;
    if (float32_value) half_layer_[node.layer_index] = false;  // losses read float32
  }
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    const DType dtype = node.layer->compute_dtype();
    const bool half = is_half_precision(dtype);
    node_io_[n] = half_layer_[node.layer_index] ? dtype : DType::Float32;
    // Keras's autocast: a 16-bit layer reads its floating inputs in its compute dtype.
    for (int v : node.inputs) {
      InputCast cast = InputCast::None;
      if (value_storage_[v] != node_io_[n])
        cast = InputCast::Convert;
      else if (node_io_[n] == DType::Float32 && half && value_dtype_[v] != dtype)
        cast = InputCast::Round;
      input_cast_[n].push_back(cast);
    }
    value_dtype_[node.output] = half && !node.layer->float32_output() ? dtype : DType::Float32;
    value_storage_[node.output] = node_io_[n];
  }
  cast_segments_.clear();
  compute_params_ = Tensor();
  compute_params_half_ = Tensor();
  synced_weight_versions_.assign(layers_.size(), 0);
  for (size_t i = 0; i < layers_.size(); ++i)
    layers_[i]->set_weight_views(mixed_ ? layer_params[i] : std::vector<Tensor>{});
  if (!mixed_) return;
  // 16-bit layers compute with rounded copies of their trainable weights (same offsets in a
  // second buffer); the optimizer updates the float32 originals.
  // (16-bit-storage layers read 16-bit copies instead, from a buffer of 2-byte values.)
  bool rounded = false, stored = false;
  for (size_t l = 0; l < layers_.size(); ++l) {
    rounded = rounded || (is_half_precision(layers_[l]->compute_dtype()) && !half_layer_[l]);
    stored = stored || half_layer_[l];
  }
  if (rounded) compute_params_ = Tensor::zeros(backend_->device(), {params_.numel()});
  if (stored)
    compute_params_half_ = Tensor::zeros(backend_->device(), {params_.numel()}, DType::BFloat16);
  std::vector<size_t> next(layers_.size(), 0);
  autocast_params_.assign(layers_.size(), {});
  for (const auto& ref : param_refs_) {
    const size_t k = next[ref.layer]++;
    autocast_params_[ref.layer].push_back(ref.spec.autocast);
    const DType dtype = layers_[ref.layer]->compute_dtype();
    if (!ref.spec.trainable || !ref.spec.autocast || !is_half_precision(dtype)) continue;
    const int64_t offset =
        (static_cast<const char*>(ref.value.raw()) - static_cast<const char*>(params_.raw())) /
        static_cast<int64_t>(sizeof(float));
    const bool storage = half_layer_[ref.layer];
    layer_params[ref.layer][k] =
        storage ? compute_params_half_.view(offset, ref.spec.shape).reinterpret(dtype, ref.spec.shape)
                : compute_params_.view(offset, ref.spec.shape);
    cast_segments_.push_back({offset, ref.value.numel(), dtype, storage});
  }
}

void Model::sync_compute_params() {
  if (!mixed_) return;
  bool stale = compute_params_stale_;
  for (size_t l = 0; l < layers_.size() && !stale; ++l)
    stale = layers_[l]->weights_version() != synced_weight_versions_[l];
  if (!stale) return;
  const float* src = params_.data<float>();
  float* dst = compute_params_.defined() ? compute_params_.data<float>() : nullptr;
  for (const auto& seg : cast_segments_) {
    if (seg.storage)
      backend_->cast(static_cast<char*>(compute_params_half_.raw()) + seg.offset * 2, seg.dtype,
                     src + seg.offset, DType::Float32, seg.size);
    else
      backend_->round_to_precision(dst + seg.offset, src + seg.offset, seg.size, seg.dtype);
  }
  for (size_t l = 0; l < layers_.size(); ++l)
    synced_weight_versions_[l] = layers_[l]->weights_version();
  compute_params_stale_ = false;
}

void Model::claim_layers() {
  // A layer used by several models (a nested or reused model) is bound to the one that ran or
  // was built last. Before this model runs or its weights are read, it takes the layer's current
  // values into its own buffers and binds them again: the models share the layer's weights as
  // Keras's variables are shared, one model at a time (each keeps its own optimizer state).
  for (size_t l = 0; l < layers_.size() && l < bindings_.size(); ++l) {
    Layer& layer = *layers_[l];
    const Binding& b = bindings_[l];
    const bool same = layer.params().size() == b.params.size() &&
                      (b.params.empty() || layer.params()[0].raw() == b.params[0].raw());
    if (same) continue;
    std::vector<Tensor> current = layer.weights();
    if (current.size() == b.weights.size())
      for (size_t k = 0; k < current.size(); ++k)
        if (current[k].defined() && b.weights[k].defined() &&
            current[k].raw() != b.weights[k].raw() && current[k].shape() == b.weights[k].shape()) {
          Tensor dst = b.weights[k];
          copy_weight(dst, current[k]);
        }
    layer.Layer::bind(b.params, b.grads);  // the base bind: no layer-specific side effects
    layer.set_weight_views(mixed_ ? b.weights : std::vector<Tensor>{});
    layer.set_model_mutex(mutex_);
    compute_params_stale_ = true;  // 16-bit copies follow the values taken
  }
}

void Model::copy_weight(Tensor& dst, const Tensor& src) {
  if (&src.device() == &dst.device()) {
    backend_->copy(dst.raw(), src.raw(), src.nbytes());
    return;
  }
  std::vector<float> host(static_cast<size_t>(src.numel()));  // another device: through the host
  src.device().copy_to_host(host.data(), src.raw(), src.nbytes());
  dst.device().copy_from_host(dst.raw(), host.data(), dst.nbytes());
}

void Model::round_value(Tensor& t, DType dtype) {
  // A 16-bit buffer holds 16-bit values already.
  if (is_half_precision(dtype) && t.dtype() == DType::Float32)
    backend_->round_to_precision(t.data<float>(), t.data<float>(), t.numel(), dtype);
}

void Model::add_into(Tensor& y, const Tensor& x) {
  if (y.dtype() != x.dtype())
    throw ValueError("internal: adding a " + dtype_name(x.dtype()) + " gradient into a " +
                     dtype_name(y.dtype()) + " one");
  if (is_half_precision(y.dtype()))
    backend_->add_half(y.raw(), x.raw(), y.numel(), y.dtype());
  else
    backend_->add(y.data<float>(), x.data<float>(), y.numel());
}

void Model::convert_into(Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype())
    backend_->copy(dst.raw(), src.raw(), src.nbytes());
  else
    backend_->cast(dst.raw(), dst.dtype(), src.raw(), src.dtype(), src.numel());
}

void Model::check_numerics_of(const Tensor& t, const StepContext& ctx, StepPass pass) {
  if (is_half_precision(t.dtype()))
    backend_->check_numerics_half(t.raw(), t.numel(), ctx.state, ctx.node, pass, t.dtype());
  else
    backend_->check_numerics(t.data<float>(), t.numel(), ctx.state, ctx.node, pass);
}

void Model::clear_graph() {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (built_) throw ValueError("internal: clear_graph() on a built model");
  num_inputs_ = 0;
  value_shapes_.clear();
  value_batched_.clear();
  value_weight_.clear();
  loss_terms_.clear();
  nodes_.clear();
  layers_.clear();
  layer_index_.clear();
  layer_names_.clear();
  outputs_.clear();
}

void Model::invalidate_plans() {
  drop_graphs();
  train_plan_ = Plan();
  infer_plan_ = Plan();
  train_view_batch_ = infer_view_batch_ = -1;
}

std::vector<Segment> Model::active_segments() const {
  std::vector<Segment> active;
  size_t segment = 0;
  for (const auto& ref : param_refs_) {
    if (!ref.spec.trainable) continue;
    if (layers_[ref.layer]->trainable) active.push_back(segments_[segment]);
    ++segment;
  }
  return active;
}

int64_t Model::param_count() const {
  int64_t n = 0;
  for (const auto& seg : segments_) n += seg.second;
  return n;
}

int64_t Model::state_count() const {
  int64_t n = 0;
  for (const auto& ref : param_refs_)
    if (!ref.spec.trainable) n += ref.value.numel();
  return n;
}

void Model::compile(std::vector<OutputSpec> outputs, std::shared_ptr<Optimizer> optimizer) {
  if (!optimizer) throw ValueError("compile() needs an optimizer");
  // A Sequential may be compiled before it is built: the count is checked again at finalize().
  if (!outputs_.empty() && static_cast<int>(outputs.size()) != num_outputs())
    throw ValueError("compile() got settings for " + std::to_string(outputs.size()) +
                     " outputs, but the model has " + std::to_string(num_outputs()));
  bool any_loss = false;
  for (const auto& o : outputs) {
    any_loss = any_loss || static_cast<bool>(o.loss);
    if (!o.loss && !o.metrics.empty())
      throw ValueError("output \"" + o.name + "\" has metrics but no loss");
    if (!(o.loss_weight >= 0.0f))
      throw ValueError("loss weights must be >= 0; output \"" + o.name + "\" has " +
                       std::to_string(o.loss_weight));
  }
  // No compiled loss at all is allowed: the loss may come from added terms alone (add_loss);
  // run_loop refuses to train or evaluate a model with neither.
  (void)any_loss;
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  drop_graphs();  // other losses, metrics and optimizer: other steps
  specs_ = std::move(outputs);
  // Sum slots of the step-state block: each trained output's loss, then every metric.
  loss_slot_.assign(specs_.size(), -1);
  metric_slot_.assign(specs_.size(), {});
  int32_t slot = 0;
  for (size_t o = 0; o < specs_.size(); ++o)
    if (specs_[o].loss) loss_slot_[o] = slot++;
  for (size_t o = 0; o < specs_.size(); ++o)
    for (size_t m = 0; m < specs_[o].metrics.size(); ++m) metric_slot_[o].push_back(slot++);
  optimizer_ = std::move(optimizer);
  if (built_) optimizer_->build(*backend_, params_.numel());
}

std::vector<std::string> Model::metric_names() const {
  std::vector<std::string> names{"loss"};
  const bool several = specs_.size() > 1;
  if (several)
    for (const auto& o : specs_)
      if (o.loss) names.push_back(o.name + "_loss");
  for (const auto& o : specs_)
    for (const auto& m : o.metrics) names.push_back(several ? o.name + "_" + m->name() : m->name());
  return names;
}

void Model::check_inputs(const std::vector<Shape>& shapes) const {
  if (!built_) throw ValueError("the model is not built yet");
  if (static_cast<int>(shapes.size()) != num_inputs_)
    throw ValueError("The model expects " + std::to_string(num_inputs_) + " input(s), but it "
                     "received " + std::to_string(shapes.size()) + " input array(s)");
  for (int i = 0; i < num_inputs_; ++i) {
    const Shape& s = shapes[i];
    if (!s.empty() && shape_compatible(value_shapes_[i], with_batch(s, kNone))) continue;
    // Name the first layer that reads this input, as Keras does.
    for (const Node& node : nodes_)
      if (std::find(node.inputs.begin(), node.inputs.end(), i) != node.inputs.end()) {
        size_t pos = static_cast<size_t>(
            std::find(node.inputs.begin(), node.inputs.end(), i) - node.inputs.begin());
        throw ValueError("Input " + std::to_string(pos) + " of layer \"" + node.layer->name() +
                         "\" (" + node.layer->class_name() +
                         ") is incompatible with the layer: expected shape=" +
                         shape_str(value_shapes_[i]) + ", found shape=" + shape_str(s));
      }
    throw ValueError("Model input " + std::to_string(i) + " is incompatible: expected shape=" +
                     shape_str(value_shapes_[i]) + ", found shape=" + shape_str(s));
  }
  for (int i = 1; i < num_inputs_; ++i)
    if (shapes[i][0] != shapes[0][0])
      throw ValueError("Data cardinality is ambiguous: input 0 has " + std::to_string(shapes[0][0]) +
                       " samples but input " + std::to_string(i) + " has " +
                       std::to_string(shapes[i][0]) +
                       ". Make sure all arrays contain the same number of samples.");
}

Shape Model::check_targets(int output, int64_t samples, const Shape& y_shape, DType y_dtype) const {
  if (!optimizer_) throw ValueError("You must call compile() before using the model for training");
  const OutputSpec& spec = specs_.at(output);
  if (!spec.loss) throw ValueError("output \"" + spec.name + "\" has no loss: it takes no targets");
  if (y_shape.empty() || y_shape[0] != samples)
    throw ValueError("Data cardinality is ambiguous: x has " + std::to_string(samples) +
                     " samples but y" + (specs_.size() > 1 ? " for \"" + spec.name + "\"" : "") +
                     " has " + (y_shape.empty() ? std::string("no") : std::to_string(y_shape[0])) +
                     " samples. Make sure all arrays contain the same number of samples.");
  Shape pred = with_batch(output_shape(output), samples);
  Shape target = spec.loss->target_shape_for(pred, y_shape);
  DType want = spec.loss->sparse() ? DType::Int64 : DType::Float32;
  if (y_dtype != want)
    throw TypeError("Loss \"" + spec.loss->name() + "\" expects targets of dtype " +
                    dtype_name(want) + ", received " + dtype_name(y_dtype));
  for (const auto& m : spec.metrics)
    if (m->sparse() != spec.loss->sparse())
      throw ValueError("Metric \"" + m->name() + "\" expects " +
                       (m->sparse() ? "integer class indices" : "targets shaped like the outputs") +
                       " but the loss \"" + spec.loss->name() + "\" takes " +
                       (spec.loss->sparse() ? "integer class indices" : "targets shaped like the outputs"));
  return target;
}

void Model::get_parameter(size_t i, float* host_out) const {
  const Tensor& t = param_refs_.at(i).value;
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  backend_->device().copy_to_host(host_out, t.raw(), t.nbytes());
}

void Model::set_parameter(size_t i, const float* host_in) {
  Tensor& t = param_refs_.at(i).value;
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  backend_->device().copy_from_host(t.raw(), host_in, t.nbytes());
  compute_params_stale_ = true;
}

std::vector<int64_t> Model::shuffled_order(int64_t n, uint64_t seed, int64_t epoch) {
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

bool Model::value_aliases(size_t node, bool training) const {
  const Node& n = nodes_[node];
  return n.inputs.size() == 1 && n.layer->aliases_input(training && !n.inference_only);
}

int Model::grad_alias_consumer(size_t v, const std::vector<int>& writers) const {
  if (value_weight_ref_[v] >= 0) return -1;  // a weight's gradient is the weight's own
  // A value read by exactly one node that merely reshapes it (Flatten, Reshape) shares that
  // node's gradient buffer: no copy backward either. (The consumer's output needs a gradient
  // whenever v does, so its buffer exists: gradients are made from the last value back.)
  if (consumers_[v] != 1 || writers[v] != 1) return -1;
  int consumer = -1;
  for (size_t n = 0; n < nodes_.size(); ++n)
    if (std::find(nodes_[n].inputs.begin(), nodes_[n].inputs.end(), static_cast<int>(v)) !=
        nodes_[n].inputs.end())
      consumer = static_cast<int>(n);
  if (consumer < 0 || !value_aliases(static_cast<size_t>(consumer), true) ||
      !value_needs_grad_[nodes_[consumer].output] ||
      input_cast_.at(static_cast<size_t>(consumer))[0] == InputCast::Convert)
    return -1;
  return consumer;
}

// Bytes of a plan, added up with overflow checks, and its largest buffer (for the message).
struct Model::PlanSize {
  int64_t bytes = 0;
  bool overflow = false;
  int64_t largest_bytes = -1;
  std::string largest;

  void add(const Shape& shape, DType dtype, const std::string& what) {
    int64_t n = 0;
    for (int64_t d : shape)
      if (d < 0) overflow = true;  // unknown dimension: cannot be allocated (internal)
    if (overflow || !checked_product(shape, 0, &n) ||
        __builtin_mul_overflow(n, static_cast<int64_t>(dtype_size(dtype)), &n) ||
        __builtin_add_overflow(bytes, n, &bytes)) {
      overflow = true;
      return;
    }
    if (n > largest_bytes) {
      largest_bytes = n;
      largest = what;
    }
  }
};

Model::PlanSize Model::plan_size(int64_t capacity, bool training,
                                 const TargetLayout* targets) const {
  // Mirrors allocate_plan below: keep the two in step.
  PlanSize size;
  auto layer_str = [](const Layer& l) {
    return "layer \"" + l.name() + "\" (" + l.class_name() + ")";
  };
  for (int i = 0; i < num_inputs_; ++i)
    size.add(with_batch(value_shapes_[i], capacity), DType::Float32,
             "model input " + std::to_string(i) + ", shape=" + shape_str(value_shapes_[i]));
  for (size_t n = 0; n < nodes_.size() && !size.overflow; ++n) {
    const Node& node = nodes_[n];
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const InputCast cast = input_cast_.at(n)[i];
      if (cast == InputCast::None) continue;
      const DType dtype = cast == InputCast::Convert ? node_io_.at(n) : DType::Float32;
      const Shape shape = value_alloc_shape(static_cast<size_t>(node.inputs[i]), capacity);
      const std::string what = "the " + dtype_name(dtype) + " copy of input " +
                               std::to_string(i) + " of " + layer_str(*node.layer);
      size.add(shape, dtype, what);
      if (training && cast == InputCast::Convert && value_needs_grad_[node.inputs[i]])
        size.add(shape, dtype, what + " (its gradient)");
    }
    if (!value_aliases(n, training))
      size.add(value_alloc_shape(static_cast<size_t>(node.output), capacity), node_io_.at(n),
               "the output of " + layer_str(*node.layer) + ", shape=" +
                   shape_str(value_shapes_[node.output]));
    const DType scratch = node.layer->scratch_follows_io() ? node_io_.at(n) : DType::Float32;
    for (const Shape& s : node.layer->scratch_shapes(capacity))
      size.add(s, scratch, "the scratch buffer of " + layer_str(*node.layer));
  }
  if (training) {
    std::vector<int> writers = consumers_;
    for (int o : outputs_) ++writers[o];
    for (const LossTerm& t : loss_terms_) ++writers[t.value];
    for (size_t v = value_shapes_.size(); v-- > 0 && !size.overflow;) {
      if (!value_needs_grad_[v]) continue;
      const Shape shape = value_alloc_shape(v, capacity);
      const std::string what = "the gradient of a value of shape=" + shape_str(value_shapes_[v]);
      // (a weight's gradient is the model's gradient buffer: nothing per batch)
      if (grad_alias_consumer(v, writers) < 0 && value_weight_ref_[v] < 0)
        size.add(shape, value_storage_.at(v), what);
      if (writers[v] > 1) size.add(shape, value_storage_.at(v), what);
    }
    for (size_t l = 0; l < layers_.size(); ++l) {
      int uses = 0;
      for (const Node& node : nodes_) uses += node.layer_index == l;
      if (uses < 2) continue;
      for (const auto& spec : layers_[l]->param_specs())
        if (spec.trainable)
          size.add(spec.shape, DType::Float32, "a weight gradient of " + layer_str(*layers_[l]));
    }
  }
  if (targets)
    for (size_t o = 0; o < targets->row_shapes.size(); ++o) {
      if (!targets->present[o]) continue;
      Shape ts{capacity};
      ts.insert(ts.end(), targets->row_shapes[o].begin(), targets->row_shapes[o].end());
      size.add(ts, targets->dtypes[o], "the targets of output " + std::to_string(o));
    }
  return size;
}

void Model::check_plan_size(int64_t capacity, bool training, const TargetLayout* targets) const {
  const PlanSize full = plan_size(capacity, training, targets);
  const int64_t memory = backend_->device().memory_capacity();
  if (!full.overflow && full.bytes <= memory) return;
  // Buffers grow linearly with the batch (scratch buffers too): the fixed part and the part per
  // sample say how large a batch fits.
  const PlanSize fixed = plan_size(0, training, targets);
  const PlanSize one = plan_size(1, training, targets);
  const int64_t per_sample = one.bytes - fixed.bytes;
  std::string msg = "A batch of " + std::to_string(capacity) + " samples needs " +
                    (full.overflow ? std::string("more than 2^63 - 1 bytes")
                                   : bytes_str(static_cast<double>(full.bytes))) +
                    " of buffers for the model's values" +
                    (training ? std::string(" and gradients") : std::string()) + " (" +
                    bytes_str(static_cast<double>(per_sample)) + " per sample; the largest is " +
                    one.largest + ", " + bytes_str(static_cast<double>(one.largest_bytes)) +
                    " per sample), more than the " + bytes_str(static_cast<double>(memory)) +
                    " of memory of the " + backend_->name() + " backend. ";
  const int64_t fits = per_sample > 0 && memory > fixed.bytes ? (memory - fixed.bytes) / per_sample
                                                              : 0;
  if (fits >= 1)
    msg += "Use a batch_size of at most " + std::to_string(fits) + ".";
  else
    msg += "Not even one sample fits: use a smaller model.";
  throw ValueError(msg);
}

void Model::check_output_size(int64_t rows) const {
  const int64_t memory = backend_->device().memory_capacity();
  int64_t total = 0;
  bool overflow = false;
  int64_t row_total = 0;
  for (int o = 0; o < num_outputs(); ++o) {
    int64_t row = 0;
    overflow = overflow || !checked_product(output_shape(o), 1, &row) ||
               __builtin_add_overflow(row_total, row, &row_total);
  }
  overflow = overflow || __builtin_mul_overflow(row_total, rows, &total) ||
             __builtin_mul_overflow(total, static_cast<int64_t>(sizeof(float)), &total);
  if (!overflow && total <= memory) return;
  std::string shapes;
  for (int o = 0; o < num_outputs(); ++o) shapes += (o ? ", " : "") + shape_str(output_shape(o));
  throw ValueError(
      "The outputs for " + std::to_string(rows) + " samples need " +
      (overflow ? std::string("more than 2^63 - 1 bytes") : bytes_str(static_cast<double>(total))) +
      " (" + bytes_str(static_cast<double>(row_total) * sizeof(float)) +
      " per sample for output shape" + (num_outputs() > 1 ? "s " : " ") + shapes +
      "), more than the " + bytes_str(static_cast<double>(memory)) + " of memory of the " +
      backend_->name() + " backend. Predict on fewer samples at a time (slices of x, or a "
      "dataset whose batches you consume one by one).");
}

Model::Plan Model::allocate_plan(int64_t capacity, bool training, const TargetLayout* targets) {
  check_plan_size(capacity, training, targets);
  Device& device = backend_->device();
  auto layer_str = [](const Layer& l) {
    return "layer \"" + l.name() + "\" (" + l.class_name() + ")";
  };
  // What value v is, for a message: a model input or the output of the layer that makes it.
  auto value_str = [&](size_t v) {
    for (const Node& node : nodes_)
      if (static_cast<size_t>(node.output) == v) return "the output of " + layer_str(*node.layer);
    return "model input " + std::to_string(v);
  };
  // The device running out of memory (std::bad_alloc on the CPU, ResourceExhaustedError from a
  // GPU) becomes one ResourceExhaustedError naming the buffer, its layer and the batch size. The
  // buffers allocated so far are freed as the error leaves (they live in `p`), and plan_for only
  // ever installs a complete plan: the model is as it was, and a smaller batch then runs.
  auto oom = [&](const std::string& what, const Shape& shape, DType dtype,
                 const std::string& detail) {
    int64_t bytes = 0;
    const bool sized = checked_product(shape, 0, &bytes) &&
                       !__builtin_mul_overflow(bytes, static_cast<int64_t>(dtype_size(dtype)), &bytes);
    return ResourceExhaustedError(
        "OOM when allocating " + what + " for a batch of " + std::to_string(capacity) +
        " samples (shape=" + shape_str(shape) +
        (sized ? ", " + bytes_str(static_cast<double>(bytes)) : std::string()) + ") on " +
        device.name() + (detail.empty() ? std::string() : " (" + detail + ")") + ", with " +
        bytes_str(static_cast<double>(device.bytes_in_use())) + " in use. Nothing of this "
        "batch's buffers was kept and the model is unchanged: use a smaller batch_size.");
  };
  auto alloc = [&](const Shape& shape, DType dtype, const auto& what) {
    try {
      return Tensor::empty(device, shape, dtype);
    } catch (const std::bad_alloc&) {
      throw oom(what(), shape, dtype, "");
    } catch (const ResourceExhaustedError& e) {
      throw oom(what(), shape, dtype, e.what());
    }
  };
  Plan p;
  p.capacity = capacity;
  const size_t nv = value_shapes_.size();
  p.values.resize(nv);
  for (int i = 0; i < num_inputs_; ++i)
    p.values[i] = alloc(with_batch(value_shapes_[i], capacity), DType::Float32,
                        [&] { return "model input " + std::to_string(i); });
  p.node_inputs.resize(nodes_.size());
  p.scratch.resize(nodes_.size());
  // A weight's value is the weight itself (its view in the model's parameter or state buffer).
  for (size_t v = 0; v < nv; ++v)
    if (value_weight_ref_[v] >= 0) p.values[v] = param_refs_[static_cast<size_t>(value_weight_ref_[v])].value;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    Shape out = value_alloc_shape(static_cast<size_t>(node.output), capacity);
    // An input rounded or converted to the layer's dtype is read from a buffer of its own (the
    // value itself stays as its producer made it for other readers).
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int v = node.inputs[i];
      const InputCast cast = input_cast_.at(n)[i];
      const DType dtype = cast == InputCast::Convert ? node_io_.at(n) : DType::Float32;
      p.node_inputs[n].push_back(
          cast != InputCast::None
              ? alloc(value_alloc_shape(static_cast<size_t>(v), capacity), dtype,
                      [&] {
                        return "the " + dtype_name(dtype) + " copy of input " +
                               std::to_string(i) + " of " + layer_str(*node.layer);
                      })
              : p.values[v]);
    }
    p.values[node.output] =
        value_aliases(n, training)
            ? p.node_inputs[n][0].reshape(out)
            : alloc(out, node_io_.at(n),
                    [&] { return "the output of " + layer_str(*node.layer); });
    const DType scratch = node.layer->scratch_follows_io() ? node_io_.at(n) : DType::Float32;
    for (const Shape& s : node.layer->scratch_shapes(capacity))
      p.scratch[n].push_back(alloc(s, scratch, [&] {
        return "the scratch buffer of " + layer_str(*node.layer);
      }));
  }
  if (training) {
    p.grads.resize(nv);
    p.spare_grads.resize(nv);
    std::vector<int> writers = consumers_;
    for (int o : outputs_) ++writers[o];
    for (const LossTerm& t : loss_terms_) ++writers[t.value];
    for (size_t v = nv; v-- > 0;) {
      if (!value_needs_grad_[v]) continue;
      Shape shape = value_alloc_shape(v, capacity);
      const int consumer = grad_alias_consumer(v, writers);
      auto what = [&] { return "the gradient of " + value_str(v); };
      if (value_weight_ref_[v] >= 0)  // the weight's gradient in the model's gradient buffer
        p.grads[v] = param_refs_[static_cast<size_t>(value_weight_ref_[v])].grad;
      else if (consumer >= 0)
        p.grads[v] = p.grads[nodes_[consumer].output].reshape(shape);
      else
        p.grads[v] = alloc(shape, value_storage_.at(v), what);
      if (writers[v] > 1) p.spare_grads[v] = alloc(shape, value_storage_.at(v), what);
    }
    p.input_grads.resize(nodes_.size());
    for (size_t n = 0; n < nodes_.size(); ++n)
      for (size_t i = 0; i < nodes_[n].inputs.size(); ++i) {
        const int v = nodes_[n].inputs[i];
        const bool staged = input_cast_.at(n)[i] == InputCast::Convert && value_needs_grad_[v];
        p.input_grads[n].push_back(
            staged ? alloc(value_alloc_shape(static_cast<size_t>(v), capacity), node_io_.at(n),
                           [&] {
                             return "the gradient of input " + std::to_string(i) + " of " +
                                    layer_str(*nodes_[n].layer);
                           })
                   : Tensor());
      }
    p.spare_param_grads.resize(layers_.size());
    for (size_t l = 0; l < layers_.size(); ++l) {
      int uses = 0;
      for (const Node& node : nodes_) uses += node.layer_index == l;
      if (uses < 2) continue;
      for (const auto& spec : layers_[l]->param_specs())
        p.spare_param_grads[l].push_back(
            spec.trainable ? alloc(spec.shape, DType::Float32,
                                   [&] {
                                     return "a weight gradient of " + layer_str(*layers_[l]);
                                   })
                           : Tensor());
    }
  }
  if (targets) {
    for (size_t o = 0; o < targets->row_shapes.size(); ++o) {
      if (!targets->present[o]) {
        p.targets.emplace_back();  // an output without a loss
        continue;
      }
      Shape ts{capacity};
      ts.insert(ts.end(), targets->row_shapes[o].begin(), targets->row_shapes[o].end());
      p.targets.push_back(alloc(ts, targets->dtypes[o], [&] {
        return "the targets of output " + std::to_string(o);
      }));
    }
  }
  return p;
}

Model::Plan Model::view_plan(const Plan& full, int64_t batch) const {
  if (batch == full.capacity) return full;
  auto rows = [batch](const Tensor& t) { return t.defined() ? t.first_rows(batch) : Tensor(); };
  // A value without a batch axis (a weight, or computed from weights) keeps its whole buffer.
  auto value_rows = [&](const Tensor& t, size_t value) {
    return value_batched_[value] ? rows(t) : t;
  };
  Plan v;
  v.capacity = batch;
  for (size_t i = 0; i < full.values.size(); ++i) v.values.push_back(value_rows(full.values[i], i));
  for (size_t i = 0; i < full.grads.size(); ++i) v.grads.push_back(value_rows(full.grads[i], i));
  for (size_t i = 0; i < full.spare_grads.size(); ++i)
    v.spare_grads.push_back(value_rows(full.spare_grads[i], i));
  for (const auto& t : full.targets) v.targets.push_back(rows(t));
  for (size_t n = 0; n < full.node_inputs.size(); ++n) {
    v.node_inputs.emplace_back();
    for (size_t i = 0; i < full.node_inputs[n].size(); ++i)
      v.node_inputs.back().push_back(
          value_rows(full.node_inputs[n][i], static_cast<size_t>(nodes_[n].inputs[i])));
  }
  for (size_t n = 0; n < full.input_grads.size(); ++n) {
    v.input_grads.emplace_back();
    for (size_t i = 0; i < full.input_grads[n].size(); ++i)
      v.input_grads.back().push_back(
          value_rows(full.input_grads[n][i], static_cast<size_t>(nodes_[n].inputs[i])));
  }
  for (size_t n = 0; n < full.scratch.size(); ++n) {
    v.scratch.emplace_back();
    const bool batched = value_batched_[static_cast<size_t>(nodes_[n].output)];
    for (const auto& t : full.scratch[n]) v.scratch.back().push_back(batched ? rows(t) : t);
  }
  v.spare_param_grads = full.spare_param_grads;  // parameter-shaped, not batch-shaped
  return v;
}

Model::Plan& Model::plan_for(int64_t batch, bool training, const TargetLayout* targets) {
  Plan& full = training ? train_plan_ : infer_plan_;
  Plan& view = training ? train_view_ : infer_view_;
  int64_t& view_batch = training ? train_view_batch_ : infer_view_batch_;
  TargetLayout& layout = training ? train_targets_ : infer_targets_;
  const bool targets_ok = !targets || (!full.targets.empty() && layout == *targets);
  if (full.capacity < batch || !targets_ok) {
    // Grow (never shrink): repeated calls with any batch up to the largest seen allocate nothing.
    // The graphs captured on the old buffers go with them.
    drop_graphs(training ? 1 : 0);
    full = allocate_plan(std::max(batch, full.capacity), training, targets);
    layout = targets ? *targets : TargetLayout();
    view_batch = -1;
  }
  if (view_batch != batch) {
    view = view_plan(full, batch);
    view_batch = batch;
  }
  return view;
}

}  // namespace ff
