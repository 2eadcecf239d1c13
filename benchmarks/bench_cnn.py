"""Benchmark: the small CNN of the convolution issue, forgeflow against PyTorch (and on the GPU
Keras 3 on JAX) on the same machine in the same run; the CPU by default, the GPU with --device
cuda.

Model: Conv2D 32 3x3 relu, MaxPooling2D 2, Conv2D 64 3x3 relu, MaxPooling2D 2, Flatten,
Dense 128 relu, Dense 10; softmax cross-entropy from logits, Adam 1e-3, batch 128, float32;
60,000 Fashion-MNIST images 28x28x1 (x/255). Reports training samples/s over one epoch after a
warm-up (best of --repeats), for forgeflow through its public API (model.fit on NumPy arrays) and
for PyTorch eager (NCHW, as a PyTorch user writes it) with its default thread count, 1 thread
and 2 threads; ratios are taken against the best PyTorch figure. PyTorch runs in a subprocess
(Debian's python3-torch lives in the system Python). Not a test: run by hand. (This script was
bench_cnn_cpu.py before it had a GPU mode.)

With --device cuda it measures the GPU instead (FORGEFLOW_DEVICE=cuda), the same model on the
same data: forgeflow's model.fit on NumPy arrays (float32 with TF32 off, and with TF32 on where
forgeflow has ff.config.experimental.enable_tensor_float_32_execution) next to PyTorch eager and
PyTorch with the training step hand-captured in a CUDA graph (torch_conv_cuda_peer.py; float32,
TF32 off) and Keras 3 on JAX with steps_per_execution 1 and 32 where installed
(keras_conv_peer.py; float32, precision "highest"), in the same run: samples/s of the second of
two epochs (best of --repeats) and the time from building the model to its first finished
training step; ratios are taken between rows of the same precision. --tf32 adds the peers'
TF32-on rows. It exits with status 2 and says why when forgeflow sees no GPU.

    python3 benchmarks/bench_cnn.py [--epochs 1] [--repeats 3] [--torch-python /usr/bin/python3]
    python3 benchmarks/bench_cnn.py --device cuda [--repeats 3] [--keras-python python3] [--tf32]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import forgeflow as ff
from _common import machine_line, peer_figures
from _cuda_common import Rows, add_cuda_arguments, conv_peer_rows, forgeflow_rows, \
    require_forgeflow_gpu


def load():
    (x_train, y_train), _ = ff.datasets.fashion_mnist.load_data()
    x = (x_train / 255.0).astype(np.float32)[..., None]
    return x, y_train.astype(np.int64)


def build_model():
    L = ff.layers
    model = ff.Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(128, activation="relu"),
        L.Dense(10)])
    model.compile(optimizer=ff.optimizers.Adam(1e-3),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def forgeflow_fit(x, y, epochs, repeats):
    ff.utils.set_random_seed(0)
    model = build_model()
    model.fit(x[:20 * 128], y[:20 * 128], batch_size=128, epochs=1, verbose=0)  # warm-up
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
        best = max(best, epochs * len(x) / (time.perf_counter() - t))
    return best


def best_of(a, b):
    """Best of two PyTorch runs."""
    return b if b["fit_samples_per_s"] > a["fit_samples_per_s"] else a


def cuda_benchmark(args):
    if require_forgeflow_gpu("bench_cnn.py"):
        return 2
    x, y = load()
    print(machine_line())

    def build():
        ff.utils.set_random_seed(0)
        return build_model()

    rows = Rows()
    forgeflow_rows(rows, build, x, y, 128, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.npz")
        np.savez(data_path, x=x, y=y)
        conv_peer_rows(rows, "cnn", data_path, 128,
                       ["eager", "graph"] + (["eager_tf32"] if args.tf32 else []),
                       ["float32"] + (["float32_tf32"] if args.tf32 else []), args)
    rows.table("Small CNN (conv 32, pool, conv 64, pool, dense 128, dense 10), 28x28x1 "
               "Fashion-MNIST, batch 128, Adam, second epoch of two")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1, help="the CPU mode's timed epochs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    add_cuda_arguments(ap)
    args = ap.parse_args()
    if args.device == "cuda":
        if args.repeats < 1:
            ap.error(f"--repeats must be at least 1, received {args.repeats}")
        return cuda_benchmark(args)

    x, y = load()
    print(machine_line())
    ff_fit = forgeflow_fit(x, y, args.epochs, args.repeats)

    # Thread count 0 asks the peer for PyTorch's default.
    peers = [("default" if threads == 0 else str(threads), r)
             for threads, r in peer_figures(args.torch_python, "torch_cnn_peer.py", x, y,
                                            (0, 1, 2), args.epochs, args.repeats, best_of)]

    print(f"{'framework':44s} {'fit samples/s':>14s}")
    print(f"{'forgeflow ' + ff.__version__ + ' (CPU)':44s} {ff_fit:14,.0f}")
    for label, r in peers:
        name = f"PyTorch {r['torch']} eager, {label} threads ({r['threads']} used)"
        print(f"{name:44s} {r['fit_samples_per_s']:14,.0f}")
    if peers:
        best = max(r["fit_samples_per_s"] for _, r in peers)
        print(f"forgeflow / best PyTorch: {ff_fit / best:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
