// DatasetFeed: the model's BatchSource over an input pipeline. From each batch of the dataset it
// picks the components that are the model's inputs and targets and converts them at the model
// boundary — inputs to float32 (as the array path does), targets to int64 class indices for a
// sparse loss or float32 otherwise — refusing the casts that hide mistakes (float labels for a
// sparse loss, strings anywhere) with an error naming the component and the fix.
//
// The pass over the dataset starts at the loop's begin() (or the first next()): for a device
// the host cannot address, begin() hands the pipeline the model's pinned pool, so its final batch
// op (and a map after it, for the components its function creates) writes batches into
// page-locked memory, and a component that needs no conversion reaches the model as a HostArray
// whose `owner` is that pinned buffer (copied to the device directly).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "model/model.h"

namespace ff {

enum class TargetKind : uint8_t { None, Float32, ClassIndex };

struct FeedSpec {
  std::vector<int> inputs;                // component index per model input
  std::vector<bool> input_as_column;      // (N,) becomes (N, 1) for a (None, 1) model input
  std::vector<std::string> input_names;   // for messages: "x", "x['age']"
  std::vector<Shape> input_shapes;        // the model's, (None, ...): to spot unbatched data
  std::vector<int> targets;               // component index per model output, -1: none
  std::vector<TargetKind> target_kinds;   // per model output
  std::vector<std::string> target_names;  // for messages: "y", "y['out']"
  std::vector<std::string> loss_names;    // per output, for messages
  // The dataset is this worker's shard already (sharded by file, ff.distribute): set_replica
  // leaves its batches whole.
  bool sharded = false;
};

// In a data-parallel run (set_replica) every worker runs the whole pipeline and takes its own
// slice of the rows of each batch (TensorFlow's sharding by data), so the workers together train
// on exactly the batches one process would; a dataset sharded by file is left whole.
class DatasetFeed : public BatchSource {
 public:
  DatasetFeed(const data::DatasetPtr& dataset, FeedSpec spec);
  // Starts the pass (a pass already started is left as it is: the option is the pass's).
  void begin(const std::shared_ptr<data::PinnedBufferPool>& pinned) override;
  bool can_pin() const override { return true; }
  bool next(Batch& batch) override;
  uint64_t split_fingerprint() const override { return fingerprint_; }
  // Batches handed out so far.
  int64_t batches() const { return batches_; }

 private:
  HostArray input_array(size_t i);
  HostArray target_array(size_t o);
  data::DatasetPtr dataset_;  // keeps the pipeline alive for the iterator
  std::unique_ptr<data::Iterator> it_;
  bool started_ = false;
  FeedSpec spec_;
  data::Element current_;
  std::vector<std::shared_ptr<data::HostBuffer>> converted_;  // this batch's converted arrays
  int64_t batches_ = 0;
  int64_t global_rows_ = 0;  // rows of the global batches so far in this pass
  uint64_t fingerprint_ = 0;  // of the pass's first global batch, while it is the last one
};

}  // namespace ff
