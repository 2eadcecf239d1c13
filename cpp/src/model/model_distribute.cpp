// Data-parallel training of Model (ff.distribute; docs/distributed.md): the workers' collective,
// the gradient all-reduce of a training step, the empty step of a worker without rows, the
// broadcast of worker 0's weights and the per-epoch check that the workers' weights agree. The
// loop's side (the per-step agreement, the split of each global batch, the summed logs) is in
// model_loops.cpp.
#include <algorithm>
#include <cstring>
#include <map>

#include "core/errors.h"
#include "distribute/collective.h"
#include "distribute/gradient_reducer.h"
#include "model/model.h"

namespace ff {
namespace {

std::string where_in_loop(const StepContext& ctx) {
  if (ctx.epoch >= 0)
    return "epoch " + std::to_string(ctx.epoch + 1) + ", step " + std::to_string(ctx.batch + 1);
  return "a training call";
}

std::string join_ranks(const std::vector<int>& ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (i) out += i + 1 == ranks.size() ? " and " : ", ";
    out += std::to_string(ranks[i]);
  }
  return out;
}

}  // namespace

void BatchSource::set_replica(int replica, int replicas) {
  if (replicas < 1 || replica < 0 || replica >= replicas)
    throw ValueError("internal: replica " + std::to_string(replica) + " of " +
                     std::to_string(replicas));
  replica_ = replica;
  replicas_ = replicas;
}

void Model::set_collective(std::shared_ptr<Collective> collective) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  collective_ = std::move(collective);
  drop_graphs();  // a captured step holds (or lacks) the all-reduce
}

void Model::set_gradient_reducer(std::shared_ptr<GradientReducer> reducer) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  reducer_ = std::move(reducer);
  drop_graphs();
}

void Model::start_buckets() {
  // Each layer's trainable gradients are one contiguous range of grads_, in layer order
  // (finalize binds them so).
  const auto* base = static_cast<const float*>(grads_.raw());
  layer_grad_ranges_.assign(layers_.size(), {0, 0});
  for (size_t l = 0; l < layers_.size(); ++l) {
    int64_t lo = -1, hi = -1;
    for (const Tensor& g : bindings_[l].grads) {
      if (!g.defined()) continue;
      const int64_t at = static_cast<const float*>(g.raw()) - base;
      lo = lo < 0 ? at : std::min(lo, at);
      hi = std::max(hi, at + g.numel());
    }
    if (lo >= 0) layer_grad_ranges_[l] = {lo, hi};
  }
  Buckets& b = buckets_;
  b.uses_left.assign(layers_.size(), 0);
  for (const Node& node : nodes_) ++b.uses_left[node.layer_index];
  b.done.assign(layers_.size(), false);
  b.next_layer = static_cast<int>(layers_.size()) - 1;
  b.tail = b.pending = param_count();
  const int64_t total = b.tail;
  const int64_t per_bucket = std::max<int64_t>(reducer_->bucket_bytes() / 4, 1);
  const int64_t most = std::max(reducer_->max_buckets() - 1, 1);  // (the last one is extra)
  b.min_elements = std::max(per_bucket, (total + most - 1) / most);
}

void Model::node_done(size_t n, bool reached, bool all) {
  Buckets& b = buckets_;
  if (!all && --b.uses_left[nodes_[n].layer_index] == 0 && reached)
    b.done[nodes_[n].layer_index] = true;
  // Sweep down from the end of the buffer over layers whose gradients are final.
  while (b.next_layer >= 0 && (all || b.done[static_cast<size_t>(b.next_layer)])) {
    const auto& range = layer_grad_ranges_[static_cast<size_t>(b.next_layer)];
    if (range.second > range.first) b.pending = std::min(b.pending, range.first);
    --b.next_layer;
  }
  const int64_t ready = b.tail - b.pending;
  if (ready > 0 && (ready >= b.min_elements || (all && b.next_layer < 0))) {
    reducer_->reduce(grads_.data<float>() + b.pending, ready);
    b.tail = b.pending;
  }
}

void Model::reduce_gradients(const StepContext& ctx) {
  if (!collective_ || collective_->size() == 1) return;
  Device& device = backend_->device();
  const std::string what = "the gradient all-reduce of " + where_in_loop(ctx);
  if (float* host = static_cast<float*>(device.host_address(grads_.raw()))) {
    collective_->allreduce_sum(host, grads_.numel(), what);
    return;
  }
  // A device the host cannot address with a host collective: through host memory (a host read
  // inside the step, so such steps run eagerly: run_step does not capture them).
  staged_grads_.resize(static_cast<size_t>(grads_.numel()));
  device.copy_to_host(staged_grads_.data(), grads_.raw(), grads_.nbytes());
  collective_->allreduce_sum(staged_grads_.data(), grads_.numel(), what);
  device.copy_from_host(grads_.raw(), staged_grads_.data(), grads_.nbytes());
}

bool Model::host_staged_reduce() const {
  return !reducer_ && collective_ && collective_->size() > 1 && grads_.defined() &&
         !backend_->device().host_address(grads_.raw());
}

void Model::check_same_split(const std::vector<int64_t>& all, int64_t epoch) const {
  std::vector<int> with;  // the workers that split a pass's first batch at this step
  for (size_t w = 0; w * 3 + 2 < all.size(); ++w)
    if (all[w * 3 + 2] != 0) with.push_back(static_cast<int>(w));
  if (with.size() < 2) return;
  const int64_t reference = all[static_cast<size_t>(with[0]) * 3 + 2];
  std::vector<int> differ;
  for (int w : with)
    if (all[static_cast<size_t>(w) * 3 + 2] != reference) differ.push_back(w);
  if (differ.empty()) return;
  throw DistributedError(
      DistributedError::Kind::Aborted,
      "ff.distribute: the first global batch of " +
          (epoch >= 0 ? "epoch " + std::to_string(epoch + 1) : std::string("the pass")) +
          " differs between worker " + std::to_string(with[0]) + " and worker" +
          (differ.size() == 1 ? " " : "s ") + join_ranks(differ) +
          ": each worker takes its share of the rows of the same global batches, so every worker "
          "must make the same dataset in the same order. A shuffle without a seed made before "
          "the strategy draws a different order on each worker: create the strategy first (it "
          "aligns the workers' seeds), or pass shuffle(seed=...).");
}

void Model::empty_train_step(const StepContext& ctx) {
  backend_->step_begin(ctx.state, true);
  backend_->fill(grads_.data<float>(), grads_.numel(), 0.0f);
  if (reducer_) {
    reducer_->prepare(param_count());
    reducer_->begin_step();
    if (param_count() > 0) reducer_->reduce(grads_.data<float>(), param_count());
    reducer_->end_step();
  } else {
    reduce_gradients(ctx);
  }
  // As train_step: the weights' penalty gradients after the all-reduce, on every worker alike
  // (a worker with no rows this step must update its weights as the others do).
  weight_penalties(0, true, ctx);
  enqueue_update(ctx.state);
  backend_->step_end(ctx.state, true, 0.0);
}

void Model::broadcast_weights(int root) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!collective_ || collective_->size() == 1) return;
  if (!built_)
    throw ValueError("ff.distribute: the model must be built before its weights are shared");
  claim_layers();
  Device& device = backend_->device();
  const std::string from = "the broadcast of worker " + std::to_string(root) + "'s ";
  auto share = [&](Tensor& t, const std::string& what) {
    if (!t.defined() || t.nbytes() == 0) return;
    host_staging_.resize(t.nbytes());
    device.copy_to_host(host_staging_.data(), t.raw(), t.nbytes());
    collective_->broadcast(host_staging_.data(), t.nbytes(), root, from + what);
    device.copy_from_host(t.raw(), host_staging_.data(), t.nbytes());
    device.synchronize();  // the staging buffer is reused by the next one
  };
  share(params_, "weights");
  share(state_, "non-trainable weights");
  if (optimizer_ && optimizer_->built())
    for (Tensor& t : optimizer_->slots()) share(t, "optimizer state");
  int64_t counters[3] = {static_cast<int64_t>(train_steps_),
                         optimizer_ ? optimizer_->iterations() : 0,
                         static_cast<int64_t>(training_calls_)};
  collective_->broadcast(counters, sizeof counters, root, from + "step counters");
  train_steps_ = static_cast<uint64_t>(counters[0]);
  if (optimizer_) optimizer_->set_iterations(counters[1]);
  training_calls_ = static_cast<uint64_t>(counters[2]);
  weights_written();
}

uint64_t Model::weights_fingerprint() {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  claim_layers();
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  if (!built_ || !params_.defined()) return h;
  std::vector<unsigned char> bytes(params_.nbytes());
  backend_->device().copy_to_host(bytes.data(), params_.raw(), bytes.size());
  for (unsigned char b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

void Model::check_replicas_agree(const std::string& when) {
  std::lock_guard<std::recursive_mutex> lock(*mutex_);
  if (!collective_ || collective_->size() == 1) return;
  const std::vector<int64_t> all = collective_->allgather(
      {static_cast<int64_t>(weights_fingerprint())}, "the weight check after " + when);
  // The majority's fingerprint; without a strict majority, worker 0's.
  std::map<int64_t, int> votes;
  for (int64_t v : all) ++votes[v];
  int64_t reference = all[0];
  int best = votes[reference];
  for (const auto& [value, count] : votes)
    if (count > best) {
      reference = value;
      best = count;
    }
  std::vector<int> diverged, agreeing;
  for (size_t r = 0; r < all.size(); ++r)
    (all[r] == reference ? agreeing : diverged).push_back(static_cast<int>(r));
  if (diverged.empty()) return;
  const bool majority = 2 * best > static_cast<int>(all.size());
  const bool one = diverged.size() == 1;
  throw DistributedError(
      DistributedError::Kind::Aborted,
      "ff.distribute: after " + when + " the weights of worker" + (one ? " " : "s ") +
          join_ranks(diverged) + " differ from those of worker" +
          (agreeing.size() == 1 ? " " : "s ") + join_ranks(agreeing) +
          (majority ? " (the majority): worker" + std::string(one ? " " : "s ") +
                          join_ranks(diverged) + (one ? " has" : " have") + " diverged"
                    : " (no majority: with two workers either may be the one that diverged)") +
          ". Every worker applies the same update to the same weights, so this is a failure no "
          "peer reports: a faulty device or memory, or code that changed the weights on some "
          "workers only (a callback, set_weights on one worker). Training stops; restart from "
          "the last checkpoint.");
}

}  // namespace ff
