"""Benchmark: data-parallel training with ff.distribute (MultiWorkerMirroredStrategy).

On the CPU (default): the MLP 784-512-512-10 (Adam, global batch --batch, random data) trained
by 1 and by 2 worker processes on this machine (the launcher-free rendezvous, or mpirun with
--launcher mpirun), the machine's cores shared out (each worker gets cores / workers threads),
so the figures show what splitting one machine's cores between workers costs or gains. Printed
per worker count: samples/s of the timed epochs (after a warm-up epoch), the speedup over one
worker, the scaling efficiency (speedup / workers) and the time of one all-reduce of the MLP's
gradient (its 669,706 floats through the workers' collective).

With --device cuda (a GPU machine): the all-reduce of the MLP's and of ResNet-18's (CIFAR
form) gradient sizes through forgeflow's NCCL reducer with one worker on this GPU (what the
reducer costs locally: NCCL's send to itself and the rank-order sum), one training step of each
model on this GPU (per-GPU batch --batch and --resnet-batch), and from them, with NCCL's bus
bandwidths as assumptions (--nvlink-busbw, --ib-busbw: defaults are published all-reduce bus
bandwidths of 8-GPU H100 systems, replace them with your cluster's nccl-tests figures), an
estimate of the step time and throughput on 8 GPUs of one machine (NVLink) and on 2 x 8 GPUs
(InfiniBand between the machines), every assumption printed with the figures.

Not a test: run it by hand and record the figures with machine and date in
benchmarks/RESULTS.md. --smoke runs a tiny CPU configuration to check the script end to end.

    python3 benchmarks/bench_distributed.py [--processes 1,2] [--samples 20000] [--epochs 2]
    python3 benchmarks/bench_distributed.py --device cuda [--nvlink-busbw 450] [--ib-busbw 350]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np

import forgeflow as ff

try:
    from _common import machine_line
except ImportError:  # run from elsewhere
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import machine_line

MLP_UNITS = (784, 512, 512, 10)


def mlp():
    model = ff.Sequential([ff.Input((MLP_UNITS[0],)),
                           ff.layers.Dense(MLP_UNITS[1], activation="relu"),
                           ff.layers.Dense(MLP_UNITS[2], activation="relu"),
                           ff.layers.Dense(MLP_UNITS[3])])
    model.compile(optimizer=ff.optimizers.Adam(1e-3),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def mlp_gradient_floats():
    u = MLP_UNITS
    return sum(u[i] * u[i + 1] + u[i + 1] for i in range(len(u) - 1))


# ---------------------------------------------------------------------------------- CPU workers
def worker(args):
    """One worker process (started by run_workers): trains and prints its figures as JSON."""
    ff.utils.set_random_seed(0)
    strategy = ff.distribute.MultiWorkerMirroredStrategy()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, MLP_UNITS[0])).astype(np.float32)
    y = rng.integers(0, MLP_UNITS[-1], size=args.samples).astype(np.int64)
    with strategy.scope():
        model = mlp()
    model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0)  # warm-up epoch
    strategy.barrier("the start of the timed epochs")
    t = time.perf_counter()
    model.fit(x, y, batch_size=args.batch, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - t
    # The all-reduce of the gradient's size alone, through the same collective.
    grads = np.ones(mlp_gradient_floats(), np.float32)
    c = strategy._collective
    c.allreduce_sum(grads, "a timed all-reduce")
    strategy.barrier("the start of the timed all-reduces")
    t = time.perf_counter()
    for _ in range(args.allreduces):
        c.allreduce_sum(grads, "a timed all-reduce")
    allreduce = (time.perf_counter() - t) / args.allreduces
    if strategy.is_chief:
        print(json.dumps({"samples_per_s": args.samples * args.epochs / seconds,
                          "allreduce_ms": allreduce * 1e3, "transport": c.transport,
                          "workers": strategy.num_replicas_in_sync}), flush=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_workers(n, args, threads):
    """Starts n workers of this script; returns worker 0's figures."""
    script = os.path.abspath(__file__)
    worker_args = ["--worker", "--samples", str(args.samples), "--batch", str(args.batch),
                   "--epochs", str(args.epochs), "--allreduces", str(args.allreduces)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), FORGEFLOW_DEVICE="cpu")
    for name in ("FORGEFLOW_RANK", "RANK", "WORLD_SIZE", "OMPI_COMM_WORLD_SIZE"):
        env.pop(name, None)
    if args.launcher == "mpirun" and n > 1:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        cmd = ["mpirun", "-np", str(n), "--oversubscribe", "-x", "OMP_NUM_THREADS", "-x",
               "FORGEFLOW_DEVICE", "-x", "PYTHONPATH", sys.executable, script, *worker_args]
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)]
    else:
        port = _free_port()
        procs = []
        for rank in range(n):
            e = dict(env, FORGEFLOW_RANK=str(rank), FORGEFLOW_WORLD_SIZE=str(n),
                     FORGEFLOW_MASTER_ADDR="127.0.0.1", FORGEFLOW_MASTER_PORT=str(port))
            procs.append(subprocess.Popen([sys.executable, script, *worker_args], env=e,
                                          stdout=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=args.timeout)[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"bench_distributed: a worker of the {n}-worker run failed")
    lines = [l for out in outputs for l in out.splitlines() if l.startswith("{")]
    return json.loads(lines[-1])


def cpu_benchmark(args):
    cores = os.cpu_count() or 1
    print(machine_line())
    print(f"MLP {'-'.join(map(str, MLP_UNITS))}, Adam, global batch {args.batch}, "
          f"{args.samples} random samples, {args.epochs} timed epoch(s) after a warm-up; "
          f"{cores} cores shared out among the workers; launcher: {args.launcher}")
    print(f"{'workers':>7} {'threads':>7} {'samples/s':>10} {'speedup':>8} {'efficiency':>10} "
          f"{'all-reduce':>11}")
    base = None
    for n in args.processes:
        threads = max(1, cores // n)
        r = run_workers(n, args, threads)
        base = base or r["samples_per_s"]
        speedup = r["samples_per_s"] / base
        print(f"{n:>7} {threads:>7} {r['samples_per_s']:>10.0f} {speedup:>8.2f} "
              f"{speedup / n:>10.2f} {r['allreduce_ms']:>8.2f} ms"
              + ("" if n > 1 else " (alone: none)"), flush=True)
    print(f"all-reduce: {mlp_gradient_floats()} floats ({mlp_gradient_floats() * 4 / 1e6:.1f} MB) "
          "through the workers' collective (fixed order: all-to-all reduce-scatter, rank-order "
          "sums, all-gather)")


# ---------------------------------------------------------------------------------- GPU
def allreduce_estimate(floats, gpus, busbw_gbs, latency_us):
    """Seconds for one all-reduce of `floats` float32 values over `gpus` GPUs at bus bandwidth
    `busbw_gbs` GB/s (nccl-tests' definition: the algorithm moves 2 (n - 1) / n of the buffer
    through each GPU, as ring all-reduce and forgeflow's reduce-scatter + all-gather do) plus a
    fixed latency per all-reduce."""
    volume = 2.0 * (gpus - 1) / gpus * floats * 4
    return volume / (busbw_gbs * 1e9) + latency_us * 1e-6


def step_seconds(model, x, y, batch, steps):
    model.fit(x[:batch * 2], y[:batch * 2], batch_size=batch, epochs=1, verbose=0)  # capture
    t = time.perf_counter()
    model.fit(x[:batch * steps], y[:batch * steps], batch_size=batch, epochs=1, verbose=0,
              shuffle=False)
    return (time.perf_counter() - t) / steps


def gpu_benchmark(args):
    os.environ["FORGEFLOW_DEVICE"] = "cuda"
    if not ff.config.list_physical_devices("GPU"):
        print("bench_distributed.py --device cuda: forgeflow sees no GPU here; run it on a GPU "
              "machine", file=sys.stderr)
        return 2
    ok, why = ff._core.distribute.nccl_available()
    if not ok:
        print(f"bench_distributed.py --device cuda: NCCL is not available: {why}",
              file=sys.stderr)
        return 2
    from forgeflow.examples.resnet import resnet18_cifar
    print(machine_line())
    host = ff._core.distribute.local_collective()
    rng = np.random.default_rng(0)
    cases = []
    ff.utils.set_random_seed(0)
    m = mlp()
    xm = rng.normal(size=(args.batch * args.steps, MLP_UNITS[0])).astype(np.float32)
    ym = rng.integers(0, 10, size=len(xm)).astype(np.int64)
    cases.append(("MLP 784-512-512-10", m, xm, ym, args.batch))
    r = resnet18_cifar()
    r.compile(optimizer=ff.optimizers.Adam(1e-3),
              loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    xr = rng.normal(size=(args.resnet_batch * args.steps, 32, 32, 3)).astype(np.float32)
    yr = rng.integers(0, 10, size=len(xr)).astype(np.int64)
    cases.append(("ResNet-18 (CIFAR)", r, xr, yr, args.resnet_batch))
    print(f"assumptions: NCCL all-reduce bus bandwidth {args.nvlink_busbw} GB/s within a machine "
          f"of 8 GPUs (NVLink/NVSwitch) and {args.ib_busbw} GB/s across 2 machines of 8 GPUs "
          f"(InfiniBand), {args.latency_us} us of latency per all-reduce; weak scaling (each GPU "
          "keeps the per-GPU batch and this GPU's measured step time); the all-reduce either "
          "not overlapped with the backward pass (upper bound) or fully hidden by it (lower "
          "bound); float32 gradients, one bucket per step")
    for name, model, x, y, batch in cases:
        floats = model._core.param_count
        model._core.set_gradient_reducer(None)
        compute = step_seconds(model, x, y, batch, args.steps)
        reducer = ff._core.distribute.nccl_reducer(host, model._core)
        local = ff._core.distribute.time_reducer(reducer, model._core, floats, args.repeats)
        print(f"{name}: {floats} gradient floats ({floats * 4 / 1e6:.1f} MB); measured here: "
              f"one training step of {batch} samples {compute * 1e3:.2f} ms, the NCCL reducer "
              f"with one worker {local * 1e3:.3f} ms (its local cost)")
        for label, gpus, busbw in (("8 GPUs, NVLink", 8, args.nvlink_busbw),
                                   ("2 x 8 GPUs, InfiniBand", 16, args.ib_busbw)):
            ar = allreduce_estimate(floats, gpus, busbw, args.latency_us) + local
            worst, best = compute + ar, max(compute, ar)
            print(f"  estimate {label}: all-reduce {ar * 1e3:.3f} ms; step {best * 1e3:.2f}-"
                  f"{worst * 1e3:.2f} ms; {gpus * batch / worst:,.0f}-{gpus * batch / best:,.0f} "
                  f"samples/s (scaling efficiency {compute / worst:.2f}-{compute / best:.2f})")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--processes", default="1,2", help="worker counts to compare (CPU)")
    ap.add_argument("--launcher", choices=["env", "mpirun"], default="env")
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=256, help="the global batch (CPU); per GPU")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--allreduces", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--resnet-batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per model (GPU)")
    ap.add_argument("--repeats", type=int, default=50, help="timed all-reduces (GPU)")
    ap.add_argument("--nvlink-busbw", type=float, default=450.0,
                    help="GB/s: NCCL all-reduce bus bandwidth of 8 GPUs on NVLink (assumed)")
    ap.add_argument("--ib-busbw", type=float, default=350.0,
                    help="GB/s: NCCL all-reduce bus bandwidth of 2 x 8 GPUs over InfiniBand "
                         "(assumed)")
    ap.add_argument("--latency-us", type=float, default=30.0,
                    help="microseconds of latency per all-reduce (assumed)")
    ap.add_argument("--smoke", action="store_true",
                    help="a tiny CPU run that checks the script (not a measurement)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    given = args.processes
    try:
        args.processes = [int(p) for p in given.split(",")]
        if any(p < 1 for p in args.processes):
            raise ValueError
    except ValueError:
        ap.error(f"--processes takes worker counts like 1,2; received {given!r}")
    if args.smoke:
        args.samples, args.epochs, args.allreduces, args.batch = 512, 1, 2, 64
        print("smoke run on the CPU: tiny sizes, not a measurement")
    if args.worker:
        worker(args)
        return 0
    if args.device == "cuda":
        return gpu_benchmark(args)
    cpu_benchmark(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
