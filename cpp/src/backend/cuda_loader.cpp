// The CUDA backend library's loader (see cuda_loader.h). The library is looked for beside the
// binary that holds this code (forgeflow/_core*.so, or the forgeflow_tests executable), beside
// its resolved path when that was a symbolic link, then by FORGEFLOW_CUDA_LIBRARY when set.
#include "backend/cuda_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "backend/math_mode.h"
#include "core/errors.h"

namespace ff {
namespace {

using DeviceCountFn = int (*)(char*, size_t);
using BackendFn = Backend* (*)(int, char*, size_t);
using BindMathModeFn = void (*)(const MathMode*);

struct Library {
  CudaLoadResult result;
  BackendFn backend = nullptr;
  CudaJpegApi jpeg;
  CudaNcclApi nccl;
};

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

[[maybe_unused]] std::vector<std::string> candidate_paths() {  // unused without CUDA
  std::vector<std::string> paths;
  const char* env = std::getenv("FORGEFLOW_CUDA_LIBRARY");
  if (env && *env) paths.emplace_back(env);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&load_cuda), &info) && info.dli_fname) {
    const std::string self(info.dli_fname);
    paths.push_back(directory_of(self) + "/libforgeflow_cuda.so");
    char resolved[PATH_MAX];
    if (realpath(self.c_str(), resolved))
      paths.push_back(directory_of(resolved) + "/libforgeflow_cuda.so");
  }
  return paths;
}

Library load_library() {
  Library lib;
#ifndef FORGEFLOW_WITH_CUDA
  lib.result.why_none = "this build of forgeflow has no CUDA backend (built with FORGEFLOW_CUDA=OFF "
                        "or without the CUDA toolkit)";
  return lib;
#else
  void* handle = nullptr;
  std::string errors;
  for (const std::string& path : candidate_paths()) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) break;
    const char* e = dlerror();
    errors += "\n  " + path + ": " + (e ? e : "not loadable");
  }
  if (!handle) {
    lib.result.why_none = "the CUDA backend library could not be loaded:" + errors;
    return lib;
  }
  auto count = reinterpret_cast<DeviceCountFn>(dlsym(handle, "forgeflow_cuda_device_count"));
  lib.backend = reinterpret_cast<BackendFn>(dlsym(handle, "forgeflow_cuda_backend"));
  auto bind_math =
      reinterpret_cast<BindMathModeFn>(dlsym(handle, "forgeflow_cuda_bind_math_mode"));
  if (!count || !lib.backend || !bind_math) {
    lib.result.why_none = "the CUDA backend library lacks its entry points (a mismatched build)";
    lib.backend = nullptr;
    return lib;
  }
  // Optional: nvJPEG's entry points (a library built before them has none).
  lib.jpeg.available = reinterpret_cast<decltype(lib.jpeg.available)>(
      dlsym(handle, "forgeflow_cuda_jpeg_available"));
  lib.jpeg.info =
      reinterpret_cast<decltype(lib.jpeg.info)>(dlsym(handle, "forgeflow_cuda_jpeg_info"));
  lib.jpeg.decode =
      reinterpret_cast<decltype(lib.jpeg.decode)>(dlsym(handle, "forgeflow_cuda_jpeg_decode"));
  if (!lib.jpeg.available || !lib.jpeg.info || !lib.jpeg.decode) lib.jpeg = CudaJpegApi{};
  // Optional: NCCL's (ff.distribute on GPUs).
  lib.nccl.unique_id = reinterpret_cast<decltype(lib.nccl.unique_id)>(
      dlsym(handle, "forgeflow_cuda_nccl_unique_id"));
  lib.nccl.reducer = reinterpret_cast<decltype(lib.nccl.reducer)>(
      dlsym(handle, "forgeflow_cuda_nccl_reducer"));
  if (!lib.nccl.unique_id || !lib.nccl.reducer) lib.nccl = CudaNcclApi{};
  bind_math(&math_mode());  // the library reads ff.config's TF32 and determinism settings
  char message[512] = {0};
  const int n = count(message, sizeof message);
  if (n < 0) {
    lib.result.why_none = std::string("no usable GPU: ") + message;
  } else if (n == 0) {
    lib.result.why_none = "no GPU is visible (CUDA reports 0 devices)";
  }
  lib.result.device_count = n > 0 ? n : 0;
  return lib;
#endif
}

Library& library() {
  static Library lib = load_library();
  return lib;
}

}  // namespace

const CudaLoadResult& load_cuda() { return library().result; }

const CudaJpegApi& cuda_jpeg_api() { return library().jpeg; }

const CudaNcclApi& cuda_nccl_api() { return library().nccl; }

Backend& cuda_backend(int index) {
  Library& lib = library();
  if (index < 0 || index >= lib.result.device_count || !lib.backend)
    throw ValueError("no GPU " + std::to_string(index) + ": " +
                     (lib.result.why_none.empty()
                          ? "only " + std::to_string(lib.result.device_count) + " visible"
                          : lib.result.why_none));
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  char message[1024] = {0};
  Backend* backend = lib.backend(index, message, sizeof message);
  if (!backend) throw ValueError(std::string("the GPU could not be opened: ") + message);
  return *backend;
}

}  // namespace ff
