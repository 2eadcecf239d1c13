// GradientReducer: the gradient all-reduce of a training step on a device, in buckets that
// overlap the backward pass (the NCCL implementation: backend/cuda/cuda_nccl.cu; a test
// implementation over a host Collective: tests/cpp/distribute/). The model (Model::backward)
// hands it each bucket of its contiguous gradient buffer as soon as every layer whose gradients
// lie there is done (the buffer's tail first, since the backward pass ends at the first layer),
// and the optimizer waits for all of them (end_step). Everything is enqueued: a step with
// buckets can be captured in a CUDA graph.
//
// The sum of every element is taken in rank order, whatever the buckets (each bucket is reduced
// as distribute/collective.h describes: all-to-all reduce-scatter, rank-order sums, all-gather),
// so a run is reproducible bit for bit and matches the host collectives' results.
//
// Inline only: the CUDA library implements it and may use no symbol of the core.
#pragma once
#include <cstdint>
#include <string>

namespace ff {

class GradientReducer {
 public:
  virtual ~GradientReducer() = default;
  virtual std::string name() const = 0;  // "nccl"
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // A bucket is handed over once it holds at least this many bytes (the last one may be less).
  virtual int64_t bucket_bytes() const = 0;
  // The most buckets one step may hand over (the model makes buckets larger to stay within it).
  virtual int max_buckets() const = 0;
  // Buckets of up to `elements` floats will come: scratch memory is allocated here, never
  // while a step is captured (the model calls it before every step; nothing when it fits).
  virtual void prepare(int64_t elements) = 0;
  // A step begins / hands over data[0, n) (final on the compute stream from now on; the sum is
  // enqueued to overlap what the compute stream does next) / makes the compute stream wait for
  // every bucket handed over since begin_step.
  virtual void begin_step() = 0;
  virtual void reduce(float* data, int64_t n) = 0;
  virtual void end_step() = 0;
  // After a failure of the workers (a peer died): abandon queued work so the device is freed.
  virtual void abort() {}
  // A training step was launched (outside any capture; NCCL's watchdog follows its completion:
  // backend/cuda/cuda_nccl.cu), and raises a failure the reducer saw since (a peer died or hangs
  // inside a collective: the step never finished within the timeout, or NCCL reported an error).
  virtual void step_launched() {}
  // Raises that failure, if any (the training loop calls it after waiting for the device).
  virtual void check() {}
};

}  // namespace ff
