// NCCL for a model on a GPU in a data-parallel run: worker 0 makes NCCL's unique id, the
// workers' host collective (MPI or TCP) hands it to every worker, and each joins the NCCL
// communicator from its own GPU; the result is the GradientReducer (backend/cuda/cuda_nccl.cu)
// the model sums its gradients with, in buckets inside its captured step.
#pragma once
#include <memory>
#include <string>

#include "backend/backend.h"
#include "distribute/collective.h"
#include "distribute/gradient_reducer.h"

namespace ff {

// PyTorch DDP's default bucket: 25 MiB.
constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

// Whether NCCL can be used: the CUDA library loaded with NCCL built in; `why` says why not.
bool nccl_available(std::string* why = nullptr);
// Joins every worker of `host` (a collective: every worker calls it) for a model on `backend`'s
// GPU. ValueError naming why when the backend is not a GPU or NCCL is not available;
// DistributedError when a worker does not come (the barrier before NCCL's own rendezvous, which
// waits without a timeout, is bounded by the host collective's).
std::shared_ptr<GradientReducer> nccl_reducer(Collective& host, Backend& backend,
                                              int64_t bucket_bytes = kDefaultBucketBytes);

}  // namespace ff
