// nccl_reducer (see nccl_reducer.h): the unique id through the host collective, then the CUDA
// library's reducer.
#include "distribute/nccl_reducer.h"

#include <cstdlib>

#include "backend/cuda_loader.h"
#include "core/errors.h"
#include "distribute/nccl_wait.h"

namespace ff {

bool nccl_available(std::string* why) {
  const CudaLoadResult& cuda = load_cuda();
  if (cuda.device_count == 0) {
    if (why) *why = cuda.why_none;
    return false;
  }
  if (!cuda_nccl_api().unique_id) {
    if (why) *why = "the CUDA backend library has no NCCL entry points (an older build)";
    return false;
  }
  char id[128];
  char message[512] = {0};
  // Asking for an id is cheap and says whether the library was built with NCCL.
  if (!cuda_nccl_api().unique_id(id, message, sizeof message)) {
    if (why) *why = message;
    return false;
  }
  if (why) why->clear();
  return true;
}

std::shared_ptr<GradientReducer> nccl_reducer(Collective& host, Backend& backend,
                                              int64_t bucket_bytes) {
  const std::string device = backend.device().name();
  if (backend.device().type() != DeviceType::CUDA || device.rfind("cuda:", 0) != 0)
    throw ValueError("ff.distribute: NCCL sums gradients on GPUs; this model is on " + device);
  const int index = std::atoi(device.c_str() + 5);
  const CudaNcclApi& api = cuda_nccl_api();
  if (!api.unique_id || !api.reducer)
    throw ValueError(
        "ff.distribute: NCCL is not available: the CUDA backend library has no NCCL "
        "entry points");
  char id[128] = {0};
  char message[1024] = {0};
  // Worker 0's id; a failure there is every worker's (a flag travels with the id).
  char ok = 1;
  if (host.rank() == 0 && !api.unique_id(id, message, sizeof message)) ok = 0;
  std::vector<char> packet(sizeof id + 1);
  std::copy(id, id + sizeof id, packet.begin());
  packet.back() = ok;
  host.broadcast(packet.data(), packet.size(), 0, "the start of NCCL (its unique id)");
  if (!packet.back())
    throw ValueError(std::string("ff.distribute: NCCL could not start on worker 0") +
                     (host.rank() == 0 ? std::string(": ") + message : std::string()));
  // Meet first where a late worker is named; NCCL's own rendezvous is bounded by the same
  // timeout (a non-blocking communicator, aborted when the timeout passes: cuda_nccl.cu).
  host.barrier("the start of NCCL");
  int status = 1;
  GradientReducer* made = api.reducer(index, packet.data(), host.rank(), host.size(),
                                      bucket_bytes, host.timeout_s(), message, sizeof message,
                                      &status);
  std::shared_ptr<GradientReducer> reducer(made);
  if (!made && status == 0) status = 1;
  // Every worker's outcome: a worker that died or hangs in NCCL's initialisation is named by the
  // host collective here; one whose NCCL failed is named to every worker.
  std::vector<int64_t> statuses;
  try {
    statuses = host.allgather({status}, "the end of NCCL's communicator initialisation");
  } catch (...) {
    if (reducer) reducer->abort();
    throw;
  }
  try {
    std::string mine = message;
    if (mine.rfind("ff.distribute: ", 0) != 0)
      mine = "ff.distribute: NCCL could not start on " + device + ": " + mine;
    raise_nccl_start_failures(host.rank(), statuses, made ? std::string() : mine);
  } catch (...) {
    if (reducer) reducer->abort();
    throw;
  }
  return reducer;
}

}  // namespace ff
