// One layer's forward pass outside any model: Keras's `layer(x)` on arrays. The layer is built
// for the inputs' shapes if it is not yet, gets standalone weights if it has none
// (Layer::create_weights), and runs on the device its weights live on, with its float32 weights
// on float32 buffers (a 16-bit layer runs its own kernels, e.g. the bfloat16 GEMM, but its
// input and output are not rounded to 16 bits as at a model's layer boundary). Random layers draw from
// `stream` when training. Errors a kernel records (e.g. a category out of range) are raised.
#pragma once
#include <cstdint>
#include <vector>

#include "core/shape.h"
#include "layers/layer.h"

namespace ff {

struct EagerOutput {
  Shape shape;
  std::vector<float> values;
};

// shapes[i] includes the batch dimension; data[i] holds shape_numel(shapes[i]) float32 values.
// `backend` null: the backend of the device the layer's weights live on (the default backend
// for a layer without weights).
EagerOutput call_layer_eagerly(Layer& layer, const std::vector<Shape>& shapes,
                               const std::vector<const float*>& data, bool training,
                               int64_t stream, Backend* backend = nullptr);

}  // namespace ff
