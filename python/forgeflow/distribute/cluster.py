"""Who this process is in a distributed run: read once from the environment a launcher sets.

- ``mpirun -np N python train.py`` (Open MPI; MPICH and Slurm's PMI too): the MPI transport.
- The launcher-free rendezvous, as ``torchrun`` does: every process is started with its rank,
  the number of processes and the address of process 0, and they meet there over TCP:

  ================================  ===================  ==================================
  forgeflow's name                  torchrun's name      meaning
  ================================  ===================  ==================================
  ``FORGEFLOW_RANK``                ``RANK``             this worker's index, 0..N-1
  ``FORGEFLOW_WORLD_SIZE``          ``WORLD_SIZE``       the number of workers N
  ``FORGEFLOW_MASTER_ADDR``         ``MASTER_ADDR``      host name or address of worker 0
  ``FORGEFLOW_MASTER_PORT``         ``MASTER_PORT``      a free TCP port on worker 0
  ``FORGEFLOW_LOCAL_RANK``          ``LOCAL_RANK``       this worker's index on its machine
  ================================  ===================  ==================================

  forgeflow's names win over torchrun's; a process started by mpirun uses MPI unless
  ``FORGEFLOW_RANK`` is set.
- Neither: one process (one replica).

``FORGEFLOW_DISTRIBUTE_TIMEOUT`` (seconds, default 300) bounds every wait on another worker.
"""
import os

__all__ = ["Cluster", "from_environment", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 300.0

_MPI_SIZE = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")
_MPI_LOCAL_RANK = ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "MV2_COMM_WORLD_LOCAL_RANK",
                   "SLURM_LOCALID")


class Cluster:
    """This process's place in the run: ``launcher`` is "mpi", "env" (the TCP rendezvous) or
    None (one process); ``rank``/``size`` are known before MPI starts only for "env"."""

    def __init__(self, launcher, rank=0, size=1, address=None, port=None, local_rank=0,
                 source=""):
        self.launcher, self.rank, self.size = launcher, rank, size
        self.address, self.port, self.local_rank, self.source = address, port, local_rank, source

    def __repr__(self):
        return (f"Cluster(launcher={self.launcher!r}, rank={self.rank}, size={self.size}, "
                f"address={self.address!r}, port={self.port!r}, local_rank={self.local_rank})")


def _int(env, name, minimum=0):
    value = env[name]
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"The environment variable {name}={value!r} must be an integer") from None
    if number < minimum:
        raise ValueError(f"The environment variable {name}={value!r} must be >= {minimum}")
    return number


def _first(env, names):
    for name in names:
        if env.get(name, "") != "":
            return name
    return None


def timeout_from_environment(env=None):
    env = os.environ if env is None else env
    value = env.get("FORGEFLOW_DISTRIBUTE_TIMEOUT", "")
    if value == "":
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"FORGEFLOW_DISTRIBUTE_TIMEOUT={value!r} must be a positive number of "
                         "seconds")
    return seconds


def _rendezvous(env, prefix):
    """The env-var rendezvous from FORGEFLOW_* (prefix "FORGEFLOW_") or torchrun's names ("")."""
    names = {k: prefix + k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                                     "LOCAL_RANK")}
    size_name = names["WORLD_SIZE"]
    missing = [names[k] for k in ("WORLD_SIZE",) if env.get(names[k], "") == ""]
    size = None if missing else _int(env, size_name, minimum=1)
    if size is not None and size > 1:
        missing += [names[k] for k in ("MASTER_ADDR", "MASTER_PORT")
                    if env.get(names[k], "") == ""]
    if missing:
        raise ValueError(
            f"{names['RANK']} is set, so this process is one worker of a launcher-free run, but "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not: set "
            f"{names['RANK']}, {names['WORLD_SIZE']}, {names['MASTER_ADDR']} and "
            f"{names['MASTER_PORT']} on every worker (or launch with mpirun)")
    rank = _int(env, names["RANK"])
    if rank >= size:
        raise ValueError(f"{names['RANK']}={rank} must be below {size_name}={size}")
    port = _int(env, names["MASTER_PORT"], minimum=1) if size > 1 else None
    if port is not None and port > 65535:
        raise ValueError(f"{names['MASTER_PORT']}={port} must be a TCP port, 1..65535")
    local = _int(env, names["LOCAL_RANK"]) if env.get(names["LOCAL_RANK"], "") != "" else (
        rank if size > 1 else 0)
    return Cluster("env", rank, size, env.get(names["MASTER_ADDR"]), port, local,
                   source="FORGEFLOW_* variables" if prefix else "torchrun's variables")


def from_environment(env=None):
    """The Cluster this process belongs to, from the launcher's environment variables."""
    env = os.environ if env is None else env
    if env.get("FORGEFLOW_RANK", "") != "":
        return _rendezvous(env, "FORGEFLOW_")
    size_name = _first(env, _MPI_SIZE)
    if size_name is not None:
        local_name = _first(env, _MPI_LOCAL_RANK)
        local = _int(env, local_name) if local_name else 0
        return Cluster("mpi", size=_int(env, size_name, minimum=1), local_rank=local,
                       source=size_name)
    if env.get("RANK", "") != "" and env.get("WORLD_SIZE", "") != "":
        return _rendezvous(env, "")
    return Cluster(None)
