// call_layer_eagerly (see eager_call.h): device buffers for the inputs, the output and the
// layer's scratch, a zeroed step-state block, one forward call, then the output and any recorded
// error read back (this is an eager call: it waits for the device).
#include "layers/eager_call.h"

#include <cstring>
#include <mutex>

#include "backend/registry.h"
#include "backend/step_state.h"
#include "core/errors.h"

namespace ff {
namespace {

// The layer's params() bound to its float32 weights for the call, restored after (under mixed
// precision a model binds 16-bit compute copies, which only its own steps keep current).
class FloatWeights {
 public:
  explicit FloatWeights(Layer& layer) : layer_(layer) {
    if (layer.params().size() == layer.weights().size() &&
        (layer.params().empty() || layer.params()[0].raw() == layer.weights()[0].raw()))
      return;
    saved_params_ = layer.params();
    saved_grads_ = layer.grads();
    rebound_ = true;
    std::vector<Tensor> weights = layer.weights();
    layer.Layer::bind(weights, saved_grads_);
  }
  ~FloatWeights() {
    if (rebound_) layer_.Layer::bind(saved_params_, saved_grads_);
  }
  FloatWeights(const FloatWeights&) = delete;
  FloatWeights& operator=(const FloatWeights&) = delete;

 private:
  Layer& layer_;
  std::vector<Tensor> saved_params_, saved_grads_;
  bool rebound_ = false;
};

}  // namespace

EagerOutput call_layer_eagerly(Layer& layer, const std::vector<Shape>& shapes,
                               const std::vector<const float*>& data, bool training,
                               int64_t stream, Backend* chosen) {
  std::unique_lock<std::recursive_mutex> lock;
  if (layer.model_mutex()) lock = std::unique_lock<std::recursive_mutex>(*layer.model_mutex());
  if (shapes.empty() || shapes.size() != data.size())
    throw ValueError("Layer \"" + layer.name() + "\" was called on no inputs");
  const int expected = layer.num_inputs();
  if (expected == 1 && shapes.size() != 1)
    throw ValueError("Layer \"" + layer.name() + "\" (" + layer.class_name() +
                     ") takes one input, but was called on " + std::to_string(shapes.size()) +
                     " inputs");
  std::vector<Shape> symbolic;
  for (const Shape& s : shapes) {
    if (s.empty())
      throw ValueError("Layer \"" + layer.name() + "\" (" + layer.class_name() +
                       ") was called on a scalar: inputs need a batch dimension, e.g. x[None]");
    symbolic.push_back(with_batch(s, kNone));
  }
  // Building checks the shapes (or, once built, that they match what the layer was built for).
  const Shape out_sym = expected == 1 ? layer.build(symbolic[0]) : layer.build_multi(symbolic);
  if (expected == 1) layer.check_input(shapes[0]);
  const int64_t batch = shapes[0][0];
  for (const Shape& s : shapes)
    if (s[0] != batch)
      throw ValueError("Layer \"" + layer.name() + "\" was called on inputs with different batch "
                       "sizes: " + std::to_string(batch) + " and " + std::to_string(s[0]));

  Backend& backend = chosen ? *chosen
                     : layer.weights().empty() || !layer.weights()[0].defined()
                         ? default_backend()
                         : backend_for(layer.weights()[0].device().type());
  Device& device = backend.device();
  if (layer.weights().empty() && !layer.param_specs().empty()) layer.create_weights(device);
  FloatWeights float_weights(layer);

  std::vector<Tensor> xs;
  for (size_t i = 0; i < shapes.size(); ++i) {
    xs.push_back(Tensor::empty(device, shapes[i]));
    device.copy_from_host(xs.back().raw(), data[i], xs.back().nbytes());
  }
  const Shape out_shape = with_batch(out_sym, batch);
  EagerOutput result{out_shape, std::vector<float>(static_cast<size_t>(shape_numel(out_shape)))};
  if (expected == 1 && layer.aliases_input(training)) {  // a view (Flatten, Reshape): the values
    device.copy_to_host(result.values.data(), xs[0].raw(), xs[0].nbytes());
    return result;
  }
  Tensor y = Tensor::empty(device, out_shape);
  std::vector<Tensor> scratch;
  for (const Shape& s : layer.scratch_shapes(batch)) scratch.push_back(Tensor::empty(device, s));
  Tensor block = Tensor::zeros(device, {static_cast<int64_t>(step_state_bytes(0))}, DType::UInt8);
  StepState header{};
  header.step = stream;
  header.rng_stream = stream;
  header.loss_scale = 1.0f;
  device.copy_from_host(block.raw(), &header, sizeof header);
  StepContext ctx;
  ctx.backend = &backend;
  ctx.training = training;
  ctx.state = static_cast<StepState*>(block.raw());
  ctx.node = 0;
  layer.forward_multi(xs, y, scratch, ctx);
  device.copy_to_host(&header, block.raw(), sizeof header);
  if (header.error != static_cast<int32_t>(StepError::None))
    throw ValueError(layer.recorded_error_message(header.error_value, header.error_index,
                                                  shapes[0]));
  device.copy_to_host(result.values.data(), y.raw(), y.nbytes());
  return result;
}

}  // namespace ff
