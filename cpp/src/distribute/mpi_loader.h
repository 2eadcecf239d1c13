// Loads the MPI transport (libforgeflow_mpi.so, distribute/mpi/mpi_collective.cpp) on first use,
// so that `import forgeflow` never loads MPI and MPI_Init runs only when a strategy asks for it.
// The library is looked for beside the binary that holds this code (forgeflow/_core*.so, or the
// forgeflow_tests executable), beside its resolved path, then by FORGEFLOW_MPI_LIBRARY.
#pragma once
#include <memory>
#include <string>

#include "distribute/collective.h"

namespace ff {

// Whether this build has the MPI transport and its library loads; `why` says why not.
bool mpi_available(std::string* why = nullptr);
// MPI_Init (once) and a collective over all the processes of the MPI job; ValueError naming why
// when the library is missing or MPI fails.
std::shared_ptr<Collective> mpi_collective(double timeout_s);
// MPI_Finalize, at interpreter exit: skipped when MPI was never initialised, when it was
// finalised already, or when a collective failed (a peer is dead or hangs: the launcher ends the
// job). True when it ran.
bool mpi_finalize();

}  // namespace ff
