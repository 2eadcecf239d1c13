"""Benchmark: ResNet-18 (CIFAR form) training on 32x32x3 images, batch 256, Adam: forgeflow
(float32 and mixed_bfloat16) against PyTorch eager (float32, bf16 autocast, bf16 autocast +
channels_last, 2 threads) on the same machine in the same run.

The convolution issue's targets are for one H100 (PyTorch float32 6,900 samples/s, best bf16
30,600); those need the CUDA backend. On the CPU this measures the same model and loop: under
mixed_bfloat16 forgeflow's convolutions run oneDNN's bfloat16 kernels (the rest computes in
float32 on bfloat16 values), and PyTorch's CPU autocast runs its bfloat16 kernels; both are fast
only where the CPU has AVX-512 BF16. Data: random images (throughput does not depend on the
values), labels in [0, 10). Reports samples/s over --steps steps after one warm-up step, best of
--repeats. Not a test: run by hand.

With --device cuda it measures the GPU instead (FORGEFLOW_DEVICE=cuda; issue 15's peers and
targets): an epoch of --samples random images (default 50,000, CIFAR-10's training set), and
forgeflow's model.fit on NumPy arrays (float32 with TF32 off; float32 with TF32 on where forgeflow
has ff.config.experimental.enable_tensor_float_32_execution; mixed_bfloat16) next to, in the same
run, PyTorch (torch_conv_cuda_peer.py: float32 with TF32 off eager and with the training step
hand-captured in a CUDA graph; bf16 autocast eager, with channels_last, and channels_last in a
CUDA graph) and Keras 3 on JAX where installed (keras_conv_peer.py: float32 with precision
"highest", mixed_bfloat16; steps_per_execution 1 and 32, or --keras-spe). Each row: samples/s of
the second of two epochs (best of --repeats) and the time from building the model to its first
finished training step; ratios are taken between rows of the same precision. --tf32 adds the
peers' TF32-on float32 rows (PyTorch allow_tf32, JAX's default precision). Accuracy is counted
in every framework (metrics=["accuracy"]). It exits with status 2 and says why when forgeflow
sees no GPU.

    python3 benchmarks/bench_resnet18.py [--steps 4] [--batch 256] [--repeats 1]
    python3 benchmarks/bench_resnet18.py --device cuda [--samples 50000] [--repeats 1] [--tf32]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import forgeflow as ff
from forgeflow.examples.resnet import resnet18_cifar
from _common import machine_line, run_peer
from _cuda_common import Rows, add_cuda_arguments, conv_peer_rows, forgeflow_rows, \
    require_forgeflow_gpu


def forgeflow_fit(x, y, policy, steps, batch, repeats):
    ff.mixed_precision.set_global_policy(policy)
    ff.utils.set_random_seed(0)
    model = resnet18_cifar()
    model.compile(optimizer=ff.optimizers.Adam(1e-3),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0)  # warm-up step
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.fit(x[:steps * batch], y[:steps * batch], batch_size=batch, epochs=1, verbose=0,
                  shuffle=False)
        best = max(best, steps * batch / (time.perf_counter() - t))
    ff.mixed_precision.set_global_policy(None)
    return best


def random_data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    return x, y


def cuda_benchmark(args):
    if require_forgeflow_gpu("bench_resnet18.py"):
        return 2
    x, y = random_data(args.samples)
    print(machine_line())

    def build():
        ff.utils.set_random_seed(0)
        model = resnet18_cifar()
        model.compile(optimizer=ff.optimizers.Adam(1e-3),
                      loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model

    rows = Rows()
    forgeflow_rows(rows, build, x, y, args.batch, args.repeats,
                   policies=("float32", "mixed_bfloat16"))
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.npz")
        np.savez(data_path, x=x, y=y)
        conv_peer_rows(rows, "resnet18", data_path, args.batch,
                       ["eager", "graph"] + (["eager_tf32"] if args.tf32 else []) +
                       ["bf16", "bf16_cl", "graph_bf16_cl"],
                       ["float32"] + (["float32_tf32"] if args.tf32 else []) +
                       ["mixed_bfloat16"], args)
    rows.table(f"ResNet-18 (CIFAR form), 32x32x3 random images, {args.samples:,} per epoch, "
               f"batch {args.batch}, Adam, second epoch of two")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4, help="the CPU mode's timed steps")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    ap.add_argument("--samples", type=int, default=50_000,
                    help="--device cuda: the images in an epoch (default 50,000)")
    add_cuda_arguments(ap)
    args = ap.parse_args()
    if args.device == "cuda":
        if args.repeats < 1:
            ap.error(f"--repeats must be at least 1, received {args.repeats}")
        if args.batch < 1 or args.samples < args.batch:
            ap.error(f"--samples must hold at least one batch of --batch {args.batch} (and "
                     f"--batch at least 1), received --samples {args.samples}")
        return cuda_benchmark(args)

    x, y = random_data(args.steps * args.batch)
    print(machine_line())
    rows = []
    for policy in ("float32", "mixed_bfloat16"):
        rows.append((f"forgeflow {ff.__version__} (CPU), {policy}",
                     forgeflow_fit(x, y, policy, args.steps, args.batch, args.repeats)))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.npz")
        np.savez(data, x=x, y=y)
        for mode in ("float32", "bf16", "bf16_cl"):
            r, err = run_peer(args.torch_python, "torch_resnet18_peer.py",
                              (data, 2, args.steps, mode, args.batch), args.repeats,
                              lambda a, b: b if b["fit_samples_per_s"] > a["fit_samples_per_s"]
                              else a)
            if r is None:
                print(f"PyTorch {mode} unavailable: {err}")
                continue
            rows.append((f"PyTorch {r['torch']} eager, {mode} ({r['threads']} threads)",
                         r["fit_samples_per_s"]))
    print(f"{'framework':52s} {'fit samples/s':>14s}")
    for name, sps in rows:
        print(f"{name:52s} {sps:14,.1f}")
    torch_rows = {name.split(", ")[1].split(" (")[0]: s for name, s in rows if "PyTorch" in name}
    if "float32" in torch_rows:
        print(f"forgeflow float32 / PyTorch float32: {rows[0][1] / torch_rows['float32']:.2f}x")
    bf = [s for k, s in torch_rows.items() if k.startswith("bf16")]
    if bf:
        print(f"forgeflow mixed_bfloat16 / best PyTorch bf16: {rows[1][1] / max(bf):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
