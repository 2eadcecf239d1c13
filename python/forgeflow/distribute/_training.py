"""How fit / evaluate (``_loops.py``) run a model created or compiled in a strategy's scope:
the model's core gets the workers' collective (its loop then splits each global batch, sums the
gradients and the logs over the workers, and checks the workers' weights every epoch), fit starts
from worker 0's weights and shuffling seed on every worker, and only worker 0 prints the
progress bar unless ``verbose`` says otherwise."""
import warnings

from .. import _core, errors as _errors

__all__ = ["strategy_of", "attach", "verbose", "start_fit", "end_fit", "is_chief",
           "shard_dataset"]


def strategy_of(model):
    """The strategy of a model created or compiled in a scope, when it has several workers."""
    strategy = model.__dict__.get("_distribute_strategy")
    if strategy is None or strategy.num_replicas_in_sync == 1:
        return None
    return strategy


def is_chief(model):
    """True unless the model trains in a strategy on a worker other than 0."""
    strategy = strategy_of(model)
    return strategy is None or strategy.is_chief


_warned_no_nccl = []


def attach(model):
    """Gives the model's core the strategy's collective, and on a GPU NCCL's gradient reducer
    (the gradients then sum on the GPU, in buckets inside the captured step); returns the strategy
    (or None). Without NCCL a GPU model's gradients go through host memory, with a warning."""
    strategy = strategy_of(model)
    if strategy is None:
        return None
    core = model._core
    if core.collective is not strategy._collective:
        core.set_collective(strategy._collective)
    if core.device.startswith("cuda") and core.gradient_reducer is None:
        ok, why = _core.distribute.nccl_available()
        if ok:
            core.set_gradient_reducer(_core.distribute.nccl_reducer(strategy._collective, core))
        elif not _warned_no_nccl:
            _warned_no_nccl.append(True)
            warnings.warn(f"ff.distribute: NCCL is not available ({why}): the gradients of this "
                          "GPU model are summed through host memory, and its training steps are "
                          "not captured as CUDA graphs", UserWarning, stacklevel=3)
    return strategy


def verbose(model, value):
    """verbose="auto": the progress bar on worker 0 only."""
    if value == "auto" and not is_chief(model):
        return 0
    return value


def shard_dataset(model, ds):
    """The dataset this worker reads for ``model``: ``ds`` itself (the loop then takes this
    worker's rows of every global batch: sharding by element), or, for a dataset exactly as
    ``ff.data.csv_dataset`` or ``image_dataset_from_directory`` made it with at least one file
    and one row of the global batch per worker, a new one over this worker's files in batches
    of its share of the global batch (sharding by file: each worker reads only its files)."""
    strategy = strategy_of(model)
    make = getattr(ds, "_shard_by_file", None)
    if strategy is None or make is None:
        return ds
    n, index = strategy.num_replicas_in_sync, strategy.worker_index
    batch = getattr(ds, "_shard_batch_size", None)
    if batch is None or batch < n or getattr(ds, "_shard_files", 0) < n:
        return ds
    share = batch // n + (1 if index < batch % n else 0)  # as the core splits a global batch
    sharded = make(n, index, share)
    sharded._sharded_by_file = True
    return sharded


def end_fit(model):
    """After fit's last callback: every worker waits for worker 0 (which may still be writing a
    checkpoint or deleting the backup), so no worker goes on to read a file being written."""
    strategy = strategy_of(model)
    if strategy is not None:
        strategy.barrier("the end of fit (worker 0 writes its checkpoints)")


def start_fit(model, train, resume):
    """Before fit's first epoch, after BackupAndRestore read its state: every worker must resume
    at the same epoch and step; then every worker takes worker 0's weights, optimizer state and
    shuffling seed."""
    strategy = attach(model)
    if strategy is None:
        return
    c = strategy._collective
    where = [int(resume.get("epoch", -1)), int(resume.get("step", 0))]
    everyone = c.allgather(where, "the start of fit (the epoch to start from)")
    positions = [tuple(everyone[i:i + 2]) for i in range(0, len(everyone), 2)]
    if len(set(positions)) > 1:
        described = ", ".join(
            f"worker {w}: " + ("from the start" if e < 0 else f"epoch {e + 1}, step {s}")
            for w, (e, s) in enumerate(positions))
        raise _errors.AbortedError(
            None, None,
            "ff.distribute: the workers would resume fit at different places (" + described +
            "): every worker must read the same BackupAndRestore backup (a directory shared by "
            "all the workers)")
    model._core.broadcast_weights(0)
    seed = getattr(train, "shuffle_seed", None)
    if seed is not None:
        data = c.broadcast(int(seed).to_bytes(8, "little"), 0,
                           "the start of fit (the shuffle seed)")
        train.shuffle_seed = int.from_bytes(data, "little")
