"""The process's one collective (distribute/collective.h in the core): made by the first
strategy, from the launcher's environment (cluster.py), and kept for the life of the process (MPI
can be initialised once; a TCP rendezvous is one meeting of all the workers)."""
import atexit
import os
import pickle
import random
import sys

from .. import _core
from . import cluster as _cluster

__all__ = ["collective", "cluster"]

_state = {"collective": None, "cluster": None}


def _start(cluster, timeout):
    d = _core.distribute
    if cluster.launcher == "mpi":
        ok, why = d.mpi_available()
        if not ok:
            raise RuntimeError(
                f"This process was started by an MPI launcher ({cluster.source} is set) but "
                f"forgeflow's MPI transport is not available: {why}. Install Open MPI "
                "(libopenmpi-dev) and rebuild forgeflow, or start the workers without mpirun "
                "(FORGEFLOW_RANK, FORGEFLOW_WORLD_SIZE, FORGEFLOW_MASTER_ADDR, "
                "FORGEFLOW_MASTER_PORT).")
        c = d.mpi_collective(timeout)
        atexit.register(_finish_mpi, c)
        return c
    if cluster.launcher == "env" and cluster.size > 1:
        return d.tcp_collective(cluster.rank, cluster.size, cluster.address, cluster.port, timeout)
    return d.local_collective()


def _finish_mpi(c):
    """At interpreter exit: MPI_Finalize waits for every process, so first a barrier bounded by
    the timeout; a worker that does not come (it hangs) is named and this process exits with an
    error, which makes mpirun end the job, instead of waiting for it forever. Skipped after a
    failed collective (MPI's state is broken; the launcher ends the job)."""
    if not c.broken and c.size > 1:
        try:
            c.barrier("the end of the run (before MPI_Finalize)")
        except Exception as e:  # noqa: BLE001 - reported, then the process ends with an error
            print(f"{type(e).__name__}: {e}", file=sys.stderr, flush=True)
            os._exit(1)
    _core.distribute.mpi_finalize()


def _align_seeds(c):
    """Every worker continues worker 0's seed sequence (ff.utils.set_random_seed or not), so the
    seeds drawn afterwards (initializers, dataset shuffles, fit's shuffling) agree."""
    if c.rank == 0:
        initialised, _, _ = _core.seed_state()
        if not initialised:
            _core.set_seed(random.SystemRandom().getrandbits(63))
        data = pickle.dumps(_core.seed_state())
        size = len(data).to_bytes(8, "little")
    else:
        data, size = b"", bytes(8)
    size = c.broadcast(size, 0, "the start of the run (the seed sequence)")
    data = c.broadcast(data.ljust(int.from_bytes(size, "little"), b"\0"), 0,
                       "the start of the run (the seed sequence)")
    _core.set_seed_state(*pickle.loads(data))


def collective(timeout=None):
    """(the collective, the Cluster); the first call joins the workers."""
    if _state["collective"] is None:
        cluster = _cluster.from_environment()
        seconds = _cluster.timeout_from_environment() if timeout is None else timeout
        c = _start(cluster, seconds)
        if c.size > 1:
            _align_seeds(c)
        if cluster.launcher == "mpi":
            cluster.rank, cluster.size = c.rank, c.size
        _state["collective"], _state["cluster"] = c, cluster
    elif timeout is not None:
        _state["collective"].timeout = timeout
    return _state["collective"], _state["cluster"]


def cluster():
    """The Cluster of the running collective, or None before any strategy."""
    return _state["cluster"]
