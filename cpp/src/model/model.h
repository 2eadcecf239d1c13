// Model: a directed acyclic graph of layer calls (the functional API; Sequential is the chain
// case). It owns one contiguous buffer of trainable parameters (and one of their gradients, and
// one of non-trainable state), the compiled losses/optimizer/metrics (one loss and metric list
// per output, weighted), the step-state block (backend/step_state.h) and the one C++ loop behind
// fit (one epoch at a time), evaluate and predict, over any BatchSource (arrays or a dataset).
// The loop never touches Python: a BatchHook is the only way out, called every batch when a
// callback needs it, otherwise at most every `hook_interval_s` seconds (progress bar, Ctrl-C).
//
// The training step (train_step) is forward, loss, backward and optimizer update as enqueued
// kernels that make no host read and take no host decision on a computed value: per-step values
// live in the step-state block, errors are recorded there and raised at the next sync point (a
// hook call, once per step under check-numerics, the loop's end). docs/backend-contract.md.
//
// Thread safety: every public entry point that runs or changes the model takes the model's
// (recursive) mutex, so calls from several threads run one after another with the results of
// serial calls; a hook may call back into the same model from the loop's thread.
//
// Graph: values 0..num_inputs-1 are the model inputs; every node applies one layer to one or
// more values and produces one new value. Nodes are kept in the order they were added, which
// is a topological order (a node's inputs exist before it). A layer used by several nodes
// (a shared layer) has one set of weights; its gradients from every use are summed.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "backend/math_mode.h"
#include "layers/layer.h"
#include "losses/loss.h"
#include "metrics/metric.h"
#include "optimizers/loss_scale.h"
#include "optimizers/optimizer.h"

namespace ff {

class Collective;      // distribute/collective.h
class GradientReducer; // distribute/gradient_reducer.h
class InputSlots;      // model/input_slots.h
class ResidentArrays;  // model/resident_arrays.h
namespace data {
class HostBuffer;        // data/element.h
class PinnedBufferPool;  // data/pinned_buffers.h
}  // namespace data

// Host data handed in by the caller (e.g. a NumPy array): row-major, first dimension = samples.
// Any numeric dtype (core/dtype.h's host types): the model converts the rows of each batch to
// the dtype it needs as it loads them, never the whole array.
struct HostArray {
  const void* data = nullptr;
  Shape shape;
  DType dtype = DType::Float32;
  // The pipeline buffer `data` points into (a DatasetFeed's batch), or null (the caller's
  // arrays). When it is pinned (HostBuffer::pinned) a device the host cannot address copies the
  // batch from it directly, and keeps this reference until that copy completed.
  std::shared_ptr<const data::HostBuffer> owner;
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  size_t row_bytes() const {
    int64_t n = 1;
    for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
    return static_cast<size_t>(n) * dtype_size(dtype);
  }
};

// (name, value) pairs: "loss" first, then per-output losses (several outputs), then metrics.
using Logs = std::vector<std::pair<std::string, double>>;

// Called between batches. `begin` is true before a batch (only when asked for), false after.
// `step` counts batches done in this loop. Return true to stop the loop after this batch.
using BatchHook = std::function<bool(bool begin, int64_t step, const Logs& logs)>;

struct LoopOptions {
  int64_t batch_size = 32;
  BatchHook hook;                 // may be empty
  bool hook_every_batch = false;  // a callback overrides a per-batch hook
  bool hook_batch_begin = false;  // ... including a batch-begin hook
  double hook_interval_s = 0.05;  // otherwise: at most this often
};

// One batch from a BatchSource: one array per model input and one per output (left undefined for
// an output without targets, and ignored by predict). The batch is `count` rows of the arrays:
// the rows listed in `rows` (e.g. a shuffled epoch's order), or the first `count` rows.
struct Batch {
  std::vector<HostArray> xs, ys;
  const int64_t* rows = nullptr;
  int64_t count = 0;
  // The same arrays kept on the device (fit's arrays, model/resident_arrays.h), or null: the
  // batch is then gathered there, rows [position, position + count) of the epoch's order
  // uploaded to it (rows != null) or of the arrays themselves.
  const ResidentArrays* resident = nullptr;
  int64_t position = 0;
  // A data-parallel run (Model::set_collective): the rows of the global batch across all
  // workers, of which this batch is this worker's share (`count` may then be 0: the worker
  // still takes part in the step). -1: the batch is not a share of a global batch.
  int64_t global_count = -1;
};

// A stream of batches: NumPy arrays (model/array_source.h) or an input pipeline
// (model/dataset_feed.h). The arrays of a batch stay valid until the following next().
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Called by the loop before it asks for batches. `pinned`: the batches go to a device the host
  // cannot address, and a source that makes its own host buffers may write them into this pool's
  // page-locked blocks (DatasetFeed passes it to its pipeline when the pass starts); null on a
  // device the host addresses (the CPU).
  virtual void begin(const std::shared_ptr<data::PinnedBufferPool>& pinned) { (void)pinned; }
  // True for a source that can use such a pool (the loop makes one only then).
  virtual bool can_pin() const { return false; }
  // The next non-empty batch, or false at the end.
  virtual bool next(Batch& batch) = 0;
  // The caller's index of row `row` of the batch that starts at sample `start` of this pass
  // (for messages; a shuffled source maps it back through its order).
  virtual int64_t sample_index(int64_t start, int64_t row) const { return start + row; }
  // A data-parallel run: from now on give this worker's share (replica of replicas) of every
  // batch, its rows split as distribute/collective.h's chunk_of does, with Batch::global_count
  // set. The loop calls it before begin() for training and evaluation. The base records the
  // share (replica(), replicas()) for the sources that split their batches; a source whose data
  // is this worker's already (a dataset sharded by file) never reads it.
  void set_replica(int replica, int replicas);
  // A hash of the whole global batch the last next() split among the workers when it was the
  // first batch of its pass, else 0. Every worker must split the same batches (a source that
  // makes each worker's own, such as an unseeded shuffle drawn before the workers' seeds were
  // aligned, would silently train on overlapping data): the loop compares them at its first step.
  virtual uint64_t split_fingerprint() const { return 0; }

 protected:
  int replica() const { return replica_; }
  int replicas() const { return replicas_; }

 private:
  int replica_ = 0, replicas_ = 1;
};

// Receives predict's outputs batch by batch: where (host memory) rows [first, first + count) of
// model output `output` go, each row prod(output_shape(output)[1:]) floats.
class PredictSink {
 public:
  virtual ~PredictSink() = default;
  virtual float* rows(int output, int64_t first, int64_t count) = 0;
};

enum class LoopMode { Train, Evaluate, Predict };

// Which passes a node (or an added loss) runs in: every pass, or only training (inference)
// passes: the two traces of a custom layer whose call() branches on its `training` argument
// (layers/mode_select.h joins their results).
enum class NodeMode : uint8_t { Always = 0, TrainOnly = 1, InferOnly = 2 };
inline bool runs_in(NodeMode mode, bool training) {
  return mode == NodeMode::Always || (mode == NodeMode::TrainOnly) == training;
}

// What compile() attaches to one model output.
struct OutputSpec {
  std::string name;                             // log prefix for several outputs
  std::shared_ptr<Loss> loss;                   // null: this output is not trained
  float loss_weight = 1.0f;
  std::vector<std::shared_ptr<Metric>> metrics;
};

class Model {
 public:
  explicit Model(Backend& backend);
  virtual ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // ---- graph construction (shape errors are raised here, naming the layer) ----
  // Adds a model input of `shape` (batch dimension ignored); returns its value id.
  int add_input(const Shape& shape);
  // Applies `layer` to values `inputs`; returns the new value's id. May be called after
  // finalize() (a Sequential growing): the weights already there keep their values.
  int add_node(std::shared_ptr<Layer> layer, const std::vector<int>& inputs,
               bool inference_only = false, NodeMode mode = NodeMode::Always);
  // Adds the value of a custom layer's weight (layers/weight.h): a value without a batch axis
  // that is the weight itself (no copy); ff.ops layers read it (Layer::input_batched false).
  // Adding the same Weight again returns the same value, so every op reading it sums its
  // gradient into the weight's one gradient. Before finalize().
  int add_weight(std::shared_ptr<Layer> weight);
  // Adds a loss term on `value` (Keras's layer.losses: add_loss values, activity regularizers):
  // the sum over its elements of p(v) (backend/penalty_rules.h) is added to the loss of every
  // training and evaluation step, with its gradient flowing back through the graph; `mode`
  // limits it to one kind of pass (a term traced in one mode's call). Before finalize().
  void add_loss_term(int value, PenaltySpec spec, NodeMode mode = NodeMode::Always);
  // Whether the model's loss has added terms (loss terms, or weight regularizers): reported in
  // "loss" (and fit/evaluate run with no compiled loss at all). Valid once built.
  bool has_added_losses() const { return has_penalties_; }
  void set_outputs(const std::vector<int>& outputs);
  // Allocates and initialises the parameters; the model can then run.
  void finalize();
  // Forgets the graph of a model not yet finalized (a failed build leaves nothing behind).
  void clear_graph();
  bool built() const { return built_; }
  // The backend (and so the device) the model was placed on when created.
  Backend& backend() const { return *backend_; }

  int num_inputs() const { return num_inputs_; }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  const Shape& value_shape(int value) const { return value_shapes_.at(value); }
  // False for a weight's value and what ops compute from weights alone: no batch axis.
  bool value_batched(int value) const { return value_batched_.at(value); }
  Shape input_shape(int i = 0) const { return value_shapes_.at(i); }
  Shape output_shape(int i = 0) const { return value_shapes_.at(outputs_.at(i)); }
  // Distinct layers in first-use order.
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  struct Node {
    std::shared_ptr<Layer> layer;
    size_t layer_index;
    std::vector<int> inputs;
    int output;
    // Called with training=False (Keras's `base_model(x, training=False)`): the layer runs in
    // inference mode in every pass (BatchNormalization on its moving statistics, Dropout and
    // random augmentation off), also while the model trains.
    bool inference_only = false;
    NodeMode mode = NodeMode::Always;
  };
  const std::vector<Node>& nodes() const { return nodes_; }

  int64_t param_count() const;  // trainable
  int64_t state_count() const;  // non-trainable

  void compile(std::vector<OutputSpec> outputs, std::shared_ptr<Optimizer> optimizer);
  bool compiled() const { return static_cast<bool>(optimizer_); }
  Optimizer* optimizer() const { return optimizer_.get(); }
  // Dynamic loss scaling (ff.mixed_precision.LossScaleOptimizer); null: none. Training steps
  // then scale the loss gradient and skip the update when a gradient overflows.
  void set_loss_scale(std::shared_ptr<DynamicLossScale> scale);
  const std::shared_ptr<DynamicLossScale>& loss_scale() const { return loss_scale_; }
  // The compute dtype of every value (a model input is float32; a layer's output is its
  // compute dtype, or float32 for a softmax output). Valid once built.
  DType value_dtype(int value) const { return value_dtype_.at(value); }
  // The dtype of the value's buffer: its compute dtype where the backend keeps 16-bit buffers
  // and its layer supports them (Backend::half_storage, Layer::supports_half_io), else float32.
  DType value_storage(int value) const { return value_storage_.at(value); }
  // Weights were written from outside (set_weights): 16-bit compute copies are refreshed.
  void weights_written() { compute_params_stale_ = true; }
  // Takes the current values of layers another model has bound since (a shared, nested or reused
  // layer) into this model's buffers and binds them here again; every run and weight read
  // starts with it (model.cpp).
  void claim_layers();
  const std::vector<OutputSpec>& output_specs() const { return specs_; }
  std::vector<std::string> metric_names() const;

  // ---- the loop: fit's epoch (Train), evaluate and predict over one BatchSource, at most
  // max_steps batches (< 0: until the source ends). *steps_done receives how many batches ran
  // (fewer than max_steps: the source ran out, or the hook asked to stop). Predict writes its
  // outputs through `sink` and returns no logs; `epoch` is for messages (-1 outside fit). ----
  Logs run_loop(BatchSource& batches, LoopMode mode, int64_t epoch, int64_t max_steps,
                const LoopOptions& opts, PredictSink* sink = nullptr,
                int64_t* steps_done = nullptr);
  // fit's arrays on a device the host cannot address: uploaded once (inputs as float32, targets
  // in the dtype their loss takes) when they take at most `fraction` of the device's free memory
  // (Device::memory_free), for ArraySource to gather batches from on the device. Null when they
  // do not fit (or their upload fails for lack of memory), when fraction <= 0, and on a device
  // the host can address (the CPU: the arrays are host memory already): batches then stream
  // through the pinned path. Checks the arrays as a loop would (shapes, dtypes, targets).
  std::shared_ptr<ResidentArrays> make_resident(const std::vector<HostArray>& xs,
                                                const std::vector<HostArray>& ys,
                                                double fraction);
  // The pool an input pipeline writes its batches into for this model (data/pinned_buffers.h:
  // the input slots' pool, model/input_slots.h; made with the slots on the first call) on a
  // device the host cannot address; null on a device the host addresses (the CPU: nothing
  // pinned is allocated) and for a model without inputs. The loop hands it to a source that
  // can pin when a pass starts (BatchSource::begin); a pass opened before the loop runs (fit's
  // look at the first batch, python/forgeflow/_data_adapters.py) is opened with it too
  // (data::IterationOptions, `queued` 0 as DatasetFeed's), so its batches are pinned as well.
  std::shared_ptr<data::PinnedBufferPool> input_batch_pool();
  // Conveniences over run_loop for arrays (C++ tests and tools): xs one array per input; ys one
  // per output (undefined for untrained outputs); order: the rows of the epoch in order.
  Logs train_epoch(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys,
                   const std::vector<int64_t>& order, int64_t epoch, const LoopOptions& opts);
  Logs evaluate(const std::vector<HostArray>& xs, const std::vector<HostArray>& ys,
                const LoopOptions& opts);
  // outs[i] receives rows * prod(output_shape(i)[1:]) floats.
  void predict(const std::vector<HostArray>& xs, const std::vector<float*>& outs,
               const LoopOptions& opts);
  // One forward pass over a batch (model(x, training=...)); no parameter update.
  void call(const std::vector<HostArray>& xs, bool training, const std::vector<float*>& outs);

  // The model's lock (recursive): the loops, call, weight access and (re)building take it.
  // Layers of the model take it too (layer.set_weights).
  std::recursive_mutex& mutex() const { return *mutex_; }
  const std::shared_ptr<std::recursive_mutex>& mutex_handle() const { return mutex_; }

  // Checks input arrays against the model inputs (Keras-style error naming the first layer
  // that consumes the input) and the sample counts against each other.
  void check_inputs(const std::vector<Shape>& shapes) const;
  // Raises ValueError, before anything is allocated, when the output arrays of predict/call on
  // `rows` samples would not fit the backend's memory (or their size overflows).
  void check_output_size(int64_t rows) const;
  // Target shape the loss of output `i` uses for y (raises with the loss's explanation).
  Shape check_targets(int output, int64_t samples, const Shape& y_shape, DType y_dtype) const;

  // Parameters in layer order: (layer index, spec, view, and its gradient's view: undefined for
  // non-trainable ones).
  struct ParamRef {
    size_t layer;
    ParamSpec spec;
    Tensor value;
    Tensor grad;
  };
  const std::vector<ParamRef>& parameters() const { return param_refs_; }
  void get_parameter(size_t i, float* host_out) const;
  void set_parameter(size_t i, const float* host_in);

  // ---- data-parallel training (ff.distribute; docs/distributed.md) ----
  // The workers' collective (null or one worker: training alone). With several workers, each
  // training step is this worker's share of the global batch: the loss gradient is scaled by
  // 1 / (global batch rows), the gradient buffer is summed over the workers (in a fixed order:
  // distribute/collective.h) before the update, so every worker applies the same update to the
  // same weights. Every step starts with an agreement of the workers (who has a batch, whether
  // one asked to stop), a worker without a batch takes part with a zero gradient, and a loop's
  // logs are summed over the workers at its end. Each training loop (epoch) ends comparing the
  // workers' weight fingerprints.
  void set_collective(std::shared_ptr<Collective> collective);
  const std::shared_ptr<Collective>& collective() const { return collective_; }
  // Sums the gradients on the device instead, in buckets overlapping the backward pass (NCCL on
  // GPUs; distribute/gradient_reducer.h), inside the step a GPU captures. Null: through the
  // collective (host memory). The collective still runs the per-step agreement, logs and checks.
  void set_gradient_reducer(std::shared_ptr<GradientReducer> reducer);
  const std::shared_ptr<GradientReducer>& gradient_reducer() const { return reducer_; }
  // Sets every worker's weights, non-trainable state, optimizer state and step counters to
  // worker `root`'s (a collective: every worker calls it). Nothing without several workers.
  void broadcast_weights(int root = 0);
  // A 64-bit hash of the trainable weights' bytes (a host read).
  uint64_t weights_fingerprint();
  // Compares the workers' weight fingerprints (one small all-gather); raises DistributedError
  // (Aborted) naming the worker(s) whose weights differ from the majority's (from worker 0's
  // without a majority). `when` is for the message ("epoch 3").
  void check_replicas_agree(const std::string& when);

  uint64_t train_steps() const { return train_steps_; }
  // Restored from a saved model, so that dropout and augmentation streams continue exactly.
  void set_train_steps(uint64_t steps);
  uint64_t training_calls() const { return training_calls_; }
  void set_training_calls(uint64_t calls) { training_calls_ = calls; }
  // Deterministic permutation of [0, n) for epoch `epoch` of a fit seeded with `seed`.
  static std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch);

  // ---- captured steps (docs/backend-contract.md, "Captured steps"): a loop step is keyed by
  // its signature (mode, batch rows, target layout, check-numerics, nesting depth). The first
  // step of a signature runs eagerly (a warm-up: lazy allocations, library set-up), the second
  // is captured as a graph on a device that can capture and every later one replays it. A
  // device that cannot capture (the CPU) runs every step eagerly, with the same bookkeeping:
  // `captures` counts the signatures that reached their capture on both. ----
  struct GraphStats {
    int64_t captures = 0;   // signatures captured (or that would be, on the CPU); recaptures count
    int64_t train_captures = 0;  // of those, training steps (fit's recapture warning)
    int64_t launches = 0;   // steps replayed from a graph
    int64_t eager_steps = 0;
    int64_t fallbacks = 0;  // captures that failed: that signature then runs eagerly
    std::string last_error; // why the last capture failed
    std::vector<std::string> signatures;  // of the captures, oldest first (the last 32)
  };
  const GraphStats& graph_stats() const { return graph_stats_; }
  // The batches' way to a device the host cannot address (null before the first such batch or
  // input_batch_pool() call, and on the CPU): its slots, events and pinned pool, for tests and
  // benchmarks.
  const InputSlots* input_slots() const { return input_slots_.get(); }

 private:
  // Whether the host addresses this model's device memory (the CPU), probed on its weights (or
  // a one-element buffer for a model without any).
  bool host_addresses_device() const;
  // Per-batch buffers for one capacity and mode; smaller batches use views of the first rows.
  struct Plan {
    int64_t capacity = 0;
    std::vector<Tensor> values, grads;             // per value (grads: training only)
    std::vector<std::vector<Tensor>> node_inputs;  // per node, views of its input values
    std::vector<std::vector<Tensor>> scratch;      // per node
    std::vector<Tensor> targets;                   // per output (with_target only)
    std::vector<Tensor> spare_grads;               // per value: where a 2nd consumer's dx goes
    std::vector<std::vector<Tensor>> spare_param_grads;  // per layer: 2nd use of a shared layer
    // per node input read through InputCast::Convert: where its gradient comes back (in the
    // node's io dtype) before it is converted into the value's gradient (training only)
    std::vector<std::vector<Tensor>> input_grads;
  };
  // Per output: whether it has targets (a loss), their row shape and dtype.
  struct TargetLayout {
    std::vector<bool> present;
    std::vector<Shape> row_shapes;
    std::vector<DType> dtypes;
    bool operator==(const TargetLayout& o) const {
      return present == o.present && row_shapes == o.row_shapes && dtypes == o.dtypes;
    }
  };
  Plan& plan_for(int64_t batch, bool training, const TargetLayout* targets);
  Plan allocate_plan(int64_t capacity, bool training, const TargetLayout* targets);
  // What allocate_plan would allocate for `capacity` samples, added up with overflow checks
  // (the same decisions: aliased values and gradients take no buffer of their own).
  struct PlanSize;
  PlanSize plan_size(int64_t capacity, bool training, const TargetLayout* targets) const;
  // Raises the ValueError of a plan too large for the backend's memory (or overflowing int64)
  // before allocate_plan allocates anything.
  void check_plan_size(int64_t capacity, bool training, const TargetLayout* targets) const;
  // The consumer node whose output-gradient buffer value v's gradient shares (v is read once,
  // by a node that only reshapes it), or -1.
  int grad_alias_consumer(size_t v, const std::vector<int>& writers) const;
  Plan view_plan(const Plan& full, int64_t batch) const;

  // How check-numerics runs in a pass: not at all, as kernels recording the first non-finite
  // value in the step state, or eagerly with host reads (re-running a step that tripped, to
  // name the layer and count the values).
  enum class Numerics { Off, Kernels, Eager };

  // ---- captured steps ----
  struct GraphEntry {
    LoopMode mode;
    int64_t count;
    int64_t grad_count;      // the rows the loss gradient is averaged over (the global batch)
    Numerics numerics;
    const StepState* state;
    TargetLayout layout;     // empty for predict
    std::string signature;   // for messages
    int64_t uses = 0;        // steps run with this signature since it was made
    GraphId graph = 0;       // > 0 once captured
    bool failed = false;     // the capture failed: eager from now on
  };
  // What a captured step froze besides the plan's buffers: checked at every loop start, and the
  // graphs dropped when any of it changed.
  struct GraphEnv {
    const Optimizer* optimizer = nullptr;
    ScheduleSpec schedule;
    const DynamicLossScale* loss_scale = nullptr;
    std::vector<Segment> active;
    std::vector<bool> penalized;  // per parameter: its regularizer runs (weight_penalties)
    std::vector<const void*> buffers;  // parameters, gradients, 16-bit copies, optimizer slots
    MathChoice math;  // TF32 and op determinism (cached GPU plans are chosen under them)
    bool operator==(const GraphEnv& o) const;
  };
  GraphEntry& graph_entry(LoopMode mode, int64_t count, Numerics numerics, const StepState* state,
                          int64_t grad_count);
  // Runs one step (`enqueue` enqueues its kernels) for signature `e`: eagerly, captured, or
  // replayed (see GraphStats).
  template <class Enqueue>
  void run_step(GraphEntry& e, const Enqueue& enqueue);
  // Destroys the graphs of training steps (which = 1), of inference steps (0) or all (-1).
  void drop_graphs(int which = -1);
  void check_graph_env(bool training);
  // The next batch of `batches`, shape-checked and loaded into its plan (with its targets unless
  // predict); null at the end.
  Plan* next_batch(BatchSource& batches, LoopMode mode, Batch& batch);
  // next_batch's two halves: the next batch with rows (or, in a data-parallel run, a share of a
  // global batch with none), false at the end; and its checks and loading into its plan.
  bool fetch_batch(BatchSource& batches, Batch& batch);
  Plan* prepare_batch(LoopMode mode, Batch& batch);
  void load_batch(Plan& p, const Batch& batch, bool with_targets);
  // Loads a batch from its device-resident arrays (gathers on the device); false when they do not
  // fit the plan's buffers (then it is loaded from the host arrays).
  bool load_resident(Plan& p, const Batch& batch, bool with_targets);
  // One training step on a loaded plan: only enqueued kernels. `grad_count`: the rows the loss
  // gradient is averaged over (the global batch; count alone).
  void train_step(Plan& p, int64_t count, int64_t grad_count, const StepContext& ctx,
                  Numerics numerics);
  // A data-parallel step of a worker without rows: a zero gradient into the all-reduce, then the
  // same update as every worker's.
  void empty_train_step(const StepContext& ctx);
  // Raises naming the workers whose first global batch of a pass differs from the others' (the
  // fingerprints in the step agreement `all`: count, stop, fingerprint per worker).
  void check_same_split(const std::vector<int64_t>& all, int64_t epoch) const;
  // Sums the gradient buffer over the workers (nothing alone).
  void reduce_gradients(const StepContext& ctx);
  void forward(Plan& p, const StepContext& ctx, Numerics numerics);
  void backward(Plan& p, const StepContext& ctx, Numerics numerics);
  void losses_and_metrics(Plan& p, int64_t count, bool training, const StepContext& ctx,
                          Numerics numerics, int64_t grad_count = -1);
  // The update after a backward pass: through the loss scale when there is one (which may skip
  // it), then the optimizer.
  void enqueue_update(StepState* state);
  // The loss terms (add_loss_term) of a pass: their sums into the penalty slot, and in training
  // their gradients into the values' gradients (`seeded`: values whose gradient the compiled
  // losses wrote already, so that these add to it).
  void loss_terms(Plan& p, int64_t count, bool training, const StepContext& ctx,
                  std::vector<bool>& seeded);
  // The weight regularizers (ParamSpec::l1/l2) of trained weights of unfrozen layers: their
  // sums into the penalty slot and, in training (after backward), their gradients added to the
  // weights' gradients.
  void weight_penalties(int64_t count, bool training, const StepContext& ctx);
  // Per parameter: whether weight_penalties regularizes it now (a trainable weight of an
  // unfrozen layer, with a regularizer).
  std::vector<bool> penalized_params() const;
  // Check-numerics over the penalty slot (the added losses).
  void check_penalty_sum(const StepContext& ctx, Numerics numerics);
  // The slot of the added losses in the step's sums, or -1 (none, or not compiled).
  int32_t penalty_slot() const;
  // The shape value v's buffers have for a batch of `capacity` (its exact shape when unbatched).
  Shape value_alloc_shape(size_t v, int64_t capacity) const {
    return value_batched_[v] ? with_batch(value_shapes_[v], capacity) : value_shapes_[v];
  }
  [[noreturn]] void numerics_error(const std::string& what, const std::string& pass,
                                   const Tensor& t, const StepContext& ctx) const;
  TargetLayout target_layout(int64_t samples, const std::vector<HostArray>& ys) const;

  // ---- the step-state block ----
  // The block for the current nesting depth (a hook may run a loop of this model inside a
  // loop): allocated once per depth, sized for the compiled sums.
  StepState* state_block();
  // The persistent values (step, iterations, learning rate, loss scale) from their host mirrors.
  void fill_persistent(StepState& h) const;
  // A new loop's block: the persistent values, the loop's counters, sums and error cleared.
  void upload_state(StepState* state);
  // After a hook: `synced` (the header read just before it) with the persistent values again.
  void upload_after_hook(StepState* state, const StepState& synced);
  // Reads the header and (with_sums) the loop's sums, one host read, and refreshes the host
  // mirrors.
  struct StateView {
    StepState header;
    std::vector<double> sums;
  };
  StateView read_state(StepState* state, bool with_sums = true);
  // Raises the error a halted loop recorded (BadLabel, BadCategory; NonFinite re-runs the step
  // eagerly to name the layer). `batch_starts`: each batch's first sample in this pass.
  [[noreturn]] void raise_recorded_error(const StateView& view, BatchSource* source,
                                         const std::vector<int64_t>& batch_starts, Plan* plan,
                                         const StepContext& ctx, LoopMode mode);
  Logs make_logs(const StateView& view) const;
  int32_t num_sums() const;
  bool value_aliases(size_t node, bool training) const;
  void invalidate_plans();
  // The segments of trainable variables whose layer is not frozen (layer.trainable = false).
  std::vector<Segment> active_segments() const;
  // Mixed precision: decides the dtype of every value, which node inputs are cast, and binds
  // 16-bit layers to rounded copies of their weights (called by finalize).
  void plan_precision(std::vector<std::vector<Tensor>>& layer_params);
  // Raises ValueError before finalize allocates anything when the weights (with gradients,
  // state and 16-bit copies) would not fit the backend's memory.
  void check_weights_size(const std::vector<ParamRef>& refs, int64_t trainable,
                          int64_t state) const;
  // Refreshes the rounded weight copies when the float32 weights changed since.
  void sync_compute_params();
  // Rounds t in place to `dtype` when that is a 16-bit type.
  void round_value(Tensor& t, DType dtype);
  // dst = src (a float32 weight), across devices through the host.
  void copy_weight(Tensor& dst, const Tensor& src);
  struct Binding {
    std::vector<Tensor> params, grads, weights;
  };
  std::vector<Binding> bindings_;  // per layer: the views finalize bound
  // y += x for float32 or 16-bit tensors of one dtype.
  void add_into(Tensor& y, const Tensor& x);
  // dst = src converted to dst's dtype (a copy when they agree).
  void convert_into(Tensor& dst, const Tensor& src);
  // Kernel check-numerics over a float32 or 16-bit tensor.
  void check_numerics_of(const Tensor& t, const StepContext& ctx, StepPass pass);

  Backend* backend_;
  int num_inputs_ = 0;
  std::vector<Shape> value_shapes_;
  std::vector<bool> value_batched_;  // per value: carries the batch axis
  std::vector<int> value_weight_;    // per value: the layer index of its Weight, or -1
  std::vector<int> value_weight_ref_;  // per value: its Weight's index in param_refs_, or -1
  struct LossTerm {
    int value;
    PenaltySpec spec;
    NodeMode mode;
  };
  std::vector<LossTerm> loss_terms_;
  bool has_penalties_ = false;  // loss terms or regularized weights (set by finalize)
  std::vector<Node> nodes_;
  std::vector<std::shared_ptr<Layer>> layers_;
  std::unordered_map<const Layer*, size_t> layer_index_;  // position in layers_
  std::unordered_set<std::string> layer_names_;
  std::vector<int> outputs_;
  bool built_ = false;

  Tensor params_, grads_, state_;
  std::vector<ParamRef> param_refs_;
  std::vector<Segment> segments_;
  std::vector<bool> value_needs_grad_;  // depends on some trainable parameter
  std::vector<int> consumers_;          // per value: how many node inputs read it

  std::vector<OutputSpec> specs_;
  std::shared_ptr<Optimizer> optimizer_;
  std::shared_ptr<DynamicLossScale> loss_scale_;

  // ---- mixed precision ----
  bool mixed_ = false;                        // some layer computes in 16 bits
  // Under Backend::half_storage(), layers that support it (Layer::supports_half_io) compute on
  // 16-bit buffers: their values and gradients are BFloat16/Float16 tensors. The others, model
  // outputs and backends without 16-bit storage keep float32 buffers holding 16-bit values.
  std::vector<DType> value_dtype_;    // per value: the precision of the values it holds
  std::vector<DType> value_storage_;  // per value: its buffer's dtype (Float32 or 16-bit)
  std::vector<bool> half_layer_;      // per layer: runs on 16-bit buffers
  std::vector<DType> node_io_;        // per node: the dtype of the buffers its layer reads/writes
  // How a node reads an input: the value itself, a float32 copy rounded to the layer's 16-bit
  // dtype (Round), or a copy converted to the node's io dtype (Convert: its input gradient then
  // comes back through a buffer of that dtype, converted into the value's gradient).
  enum class InputCast : uint8_t { None, Round, Convert };
  std::vector<std::vector<InputCast>> input_cast_;  // per node input
  Tensor compute_params_;       // float32 rounded copies of 16-bit layers' weights
  Tensor compute_params_half_;  // 16-bit copies of 16-bit-storage layers' weights (same offsets)
  struct CastSegment {
    int64_t offset, size;
    DType dtype;
    bool storage;  // into compute_params_half_ (else rounded into compute_params_)
  };
  std::vector<CastSegment> cast_segments_;
  std::vector<std::vector<bool>> autocast_params_;  // per layer, per weight: ParamSpec::autocast
  bool compute_params_stale_ = true;
  std::vector<uint64_t> synced_weight_versions_;  // per layer, at the last sync

  Plan train_plan_, infer_plan_;
  Plan train_view_, infer_view_;  // cached views for the last batch size
  int64_t train_view_batch_ = -1, infer_view_batch_ = -1;
  TargetLayout train_targets_, infer_targets_;
  // The last batch's input and target arrays' shapes and dtypes (checked again only when they
  // change), and the target layout computed for them.
  std::vector<Shape> last_input_shapes_;
  std::vector<DType> last_input_dtypes_;
  std::vector<Shape> last_target_shapes_;
  std::vector<DType> last_target_dtypes_;
  TargetLayout last_layout_;
  bool last_layout_valid_ = false;
  // How batches reach a device whose memory the host cannot address (pinned staging, a side
  // stream, two device slots); made at the first such batch.
  std::unique_ptr<InputSlots> input_slots_;
  std::vector<Segment> active_;  // active_segments() of the running training loop

  // ---- step state ----
  std::vector<Tensor> state_blocks_;  // per nesting depth
  std::vector<char> host_state_;      // host staging of the block's reads and writes
  int depth_ = 0;                     // loops of this model running (nested through hooks)
  // Sum slots: per output its loss slot (-1: none) and metric slots; and positions per output
  // (loss rows per sample).
  std::vector<int32_t> loss_slot_;
  std::vector<std::vector<int32_t>> metric_slot_;
  // Host mirrors of the persistent step state (the block is authoritative during a loop).
  uint64_t train_steps_ = 0;
  // model(x, training=True) calls: each draws a fresh dropout mask from its own stream range.
  uint64_t training_calls_ = 0;

  // ---- captured steps ----
  std::vector<GraphEntry> graph_entries_;
  size_t last_entry_ = 0;
  GraphEnv graph_env_;
  GraphStats graph_stats_;

  // ---- data-parallel training ----
  std::shared_ptr<Collective> collective_;
  std::shared_ptr<GradientReducer> reducer_;
  bool bucketing_ = false;  // backward hands buckets to reducer_ (a training step's pass)
  // Per layer: the range [first, second) of grads_ its trainable gradients occupy (empty when
  // it has none); computed when a bucketed pass starts.
  std::vector<std::pair<int64_t, int64_t>> layer_grad_ranges_;
  // The bucketed pass's progress (Model::backward): per layer its node uses still to run, the
  // layers done, and the start of the part of grads_ not yet handed over.
  struct Buckets {
    std::vector<int> uses_left;
    std::vector<bool> done;
    int next_layer = -1;       // the last layer not yet swept into a bucket
    int64_t tail = 0;          // grads_[tail, end) is handed over
    int64_t pending = 0;       // grads_[pending, tail) is final, not yet handed over
    int64_t min_elements = 0;  // a bucket's size before it is handed over
  };
  Buckets buckets_;
  void start_buckets();
  // Node n's backward is enqueued (`reached`: its layer got a gradient in this pass; one no
  // gradient reached is zero-filled at the end, so it is final only then): hands over what
  // became final (everything when `all`).
  void node_done(size_t n, bool reached, bool all = false);
  std::vector<char> host_staging_;  // broadcast_weights' host copies
  std::vector<float> staged_grads_;  // the gradients through the host (host_staged_reduce)
  // A training step sums the gradients through host memory (a host collective on a device the
  // host cannot address): it cannot be captured.
  bool host_staged_reduce() const;

  std::shared_ptr<std::recursive_mutex> mutex_ = std::make_shared<std::recursive_mutex>();
};

}  // namespace ff
