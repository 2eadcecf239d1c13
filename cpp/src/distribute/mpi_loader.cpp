// The MPI transport's loader (see mpi_loader.h). Only this file knows whether the library was
// built (FORGEFLOW_WITH_MPI), so every other file of the core compiles the same with and without.
#include "distribute/mpi_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace ff {
namespace {

using CollectiveFn = Collective* (*)(char*, size_t);
using FinalizeFn = int (*)();

struct Library {
  bool loaded = false;
  std::string why;
  CollectiveFn make = nullptr;
  FinalizeFn finalize = nullptr;
};

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

[[maybe_unused]] std::vector<std::string> candidate_paths() {
  std::vector<std::string> paths;
  const char* env = std::getenv("FORGEFLOW_MPI_LIBRARY");
  if (env && *env) paths.emplace_back(env);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&mpi_available), &info) && info.dli_fname) {
    const std::string self(info.dli_fname);
    paths.push_back(directory_of(self) + "/libforgeflow_mpi.so");
    char resolved[PATH_MAX];
    if (realpath(self.c_str(), resolved))
      paths.push_back(directory_of(resolved) + "/libforgeflow_mpi.so");
  }
  return paths;
}

Library load_library() {
  Library lib;
#ifndef FORGEFLOW_WITH_MPI
  lib.why =
      "this build of forgeflow has no MPI transport (built with FORGEFLOW_MPI=OFF or "
      "without MPI: install libopenmpi-dev and rebuild)";
  return lib;
#else
  void* handle = nullptr;
  std::string errors;
  for (const std::string& path : candidate_paths()) {
    // RTLD_GLOBAL: Open MPI loads its own plugins, which look for libmpi's symbols globally.
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (handle) break;
    const char* e = dlerror();
    errors += "\n  " + path + ": " + (e ? e : "not loadable");
  }
  if (!handle) {
    lib.why = "the MPI transport library could not be loaded (is Open MPI installed?):" + errors;
    return lib;
  }
  lib.make = reinterpret_cast<CollectiveFn>(dlsym(handle, "forgeflow_mpi_collective"));
  lib.finalize = reinterpret_cast<FinalizeFn>(dlsym(handle, "forgeflow_mpi_finalize"));
  if (!lib.make || !lib.finalize) {
    lib.why = "the MPI transport library lacks its entry points (a mismatched build)";
    return lib;
  }
  lib.loaded = true;
  return lib;
#endif
}

std::mutex& mutex() {
  static std::mutex mu;
  return mu;
}

Library& library() {
  static Library lib = load_library();
  return lib;
}

bool g_initialised = false;

}  // namespace

bool mpi_available(std::string* why) {
  std::lock_guard<std::mutex> lock(mutex());
  const Library& lib = library();
  if (why) *why = lib.why;
  return lib.loaded;
}

std::shared_ptr<Collective> mpi_collective(double timeout_s) {
  std::lock_guard<std::mutex> lock(mutex());
  const Library& lib = library();
  if (!lib.loaded) throw ValueError("ff.distribute: MPI is not available: " + lib.why);
  char message[1024] = {0};
  Collective* c = lib.make(message, sizeof message);
  if (!c) throw ValueError(std::string("ff.distribute: MPI could not start: ") + message);
  g_initialised = true;
  std::shared_ptr<Collective> collective(c);
  collective->set_timeout(timeout_s);
  return collective;
}

bool mpi_finalize() {
  std::lock_guard<std::mutex> lock(mutex());
  if (!g_initialised) return false;
  const Library& lib = library();
  return lib.loaded && lib.finalize() == 1;
}

}  // namespace ff
