"""Benchmark: what the ff.data pipeline costs in training. The MLP of bench_mlp.py (784-512-
512-10, Adam, batch 128) on Fashion-MNIST's 60,000 training images, trained by forgeflow from
NumPy arrays and from an ff.data pipeline (from_tensor_slices -> shuffle(60000) -> batch(128)
-> prefetch(AUTOTUNE)), against PyTorch trained from a DataLoader(TensorDataset, shuffle=True),
in the same run. Not a test: run it by hand on a quiet machine and record the figures, with
machine and date, in benchmarks/RESULTS.md.

    python3 benchmarks/bench_pipeline.py [--epochs 1] [--repeats 3] [--torch-python /usr/bin/python3]
"""
import argparse
import os
import time

import numpy as np

import forgeflow as ff
from _common import machine_line, peer_figures


def model():
    ff.utils.set_random_seed(0)
    m = ff.Sequential([ff.layers.Dense(512, activation="relu", input_shape=(784,)),
                       ff.layers.Dense(512, activation="relu"), ff.layers.Dense(10)])
    m.compile(optimizer=ff.optimizers.Adam(1e-3),
              loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return m


def best_rate(fit, n, epochs, repeats):
    fit(1)  # warm-up epoch
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        fit(epochs)
        best = max(best, epochs * n / (time.perf_counter() - t))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-python", default="/usr/bin/python3")
    args = parser.parse_args()
    (x, y), _ = ff.datasets.fashion_mnist.load_data()
    x = (x.reshape(-1, 784) / 255.0).astype(np.float32)
    y = y.astype(np.int64)
    print(machine_line())
    arrays = model()
    from_arrays = best_rate(lambda e: arrays.fit(x, y, batch_size=128, epochs=e, verbose=0),
                            len(x), args.epochs, args.repeats)
    ds = (ff.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=1).batch(128)
          .prefetch(ff.data.AUTOTUNE))
    piped = model()
    from_dataset = best_rate(lambda e: piped.fit(ds, epochs=e, verbose=0), len(x), args.epochs,
                             args.repeats)
    print(f"forgeflow fit from arrays:   {from_arrays:10.0f} samples/s")
    print(f"forgeflow fit from ff.data:  {from_dataset:10.0f} samples/s "
          f"({from_dataset / from_arrays:.2f}x arrays)")
    peers = peer_figures(args.torch_python, "torch_pipeline_peer.py", x, y,
                         [1, os.cpu_count()], args.epochs, args.repeats,
                         lambda a, b: a if a["fit_samples_per_s"] >= b["fit_samples_per_s"] else b)
    for threads, r in peers:
        print(f"PyTorch {r['torch']} DataLoader, {threads} threads: "
              f"{r['fit_samples_per_s']:10.0f} samples/s")
    if peers:
        best = max(r["fit_samples_per_s"] for _, r in peers)
        print(f"forgeflow ff.data vs PyTorch DataLoader (best): {from_dataset / best:.2f}x")


if __name__ == "__main__":
    main()
