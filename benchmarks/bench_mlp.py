"""Benchmark: MLP 784-512-512-10 (relu, softmax cross-entropy from logits, Adam 1e-3, batch 128,
float32) on Fashion-MNIST, forgeflow against PyTorch on the same machine in the same run.

Reports training samples/s (one epoch of 60,000 after a warm-up epoch; best of --repeats),
predict samples/s, and the latency of one single-sample call (model(x) / predict), for forgeflow through its ordinary public API (model.fit / model.predict on
NumPy arrays) and for PyTorch eager with 1 thread and with all cores (the better PyTorch figure
is the one ratios are taken against). PyTorch runs in a subprocess because Debian's
python3-torch lives in the system Python. Not a test: run it by hand and record the figures,
with machine and date, in benchmarks/RESULTS.md.

    python3 benchmarks/bench_mlp.py [--epochs 1] [--repeats 3] [--torch-python /usr/bin/python3]
"""
import argparse
import os
import sys
import time

import numpy as np

import forgeflow as ff
from _common import machine_line, peer_figures


def load():
    (x_train, y_train), _ = ff.datasets.fashion_mnist.load_data()
    x = (x_train.reshape(-1, 784) / 255.0).astype(np.float32)
    return x, y_train.astype(np.int64)


def forgeflow_figures(x, y, epochs, repeats):
    ff.utils.set_random_seed(0)
    model = ff.Sequential([
        ff.layers.Dense(512, activation="relu", input_shape=(784,)),
        ff.layers.Dense(512, activation="relu"),
        ff.layers.Dense(10)])
    model.compile(optimizer=ff.optimizers.Adam(1e-3),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm-up epoch
    fit_best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
        fit_best = max(fit_best, epochs * len(x) / (time.perf_counter() - t))
    model.predict(x[:1280], batch_size=128, verbose=0)
    pred_best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.predict(x, batch_size=128, verbose=0)
        pred_best = max(pred_best, len(x) / (time.perf_counter() - t))
    x1 = x[:1]
    latencies = {}
    for name, call in (("model(x)", lambda: model(x1)),
                       ("predict(x, verbose=0)", lambda: model.predict(x1, verbose=0))):
        for _ in range(200):
            call()
        calls = 5000
        t = time.perf_counter()
        for _ in range(calls):
            call()
        latencies[name] = (time.perf_counter() - t) / calls * 1e6
    return fit_best, pred_best, latencies


def best_of(a, b):
    """Best of two PyTorch runs, figure by figure."""
    return {**b,
            "fit_samples_per_s": max(a["fit_samples_per_s"], b["fit_samples_per_s"]),
            "predict_samples_per_s": max(a["predict_samples_per_s"], b["predict_samples_per_s"]),
            "single_sample_us": min(a["single_sample_us"], b["single_sample_us"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    args = ap.parse_args()

    x, y = load()
    cores = os.cpu_count()
    print(machine_line())
    ff_fit, ff_pred, ff_latency = forgeflow_figures(x, y, args.epochs, args.repeats)

    peers = [r for _, r in peer_figures(args.torch_python, "torch_mlp_peer.py", x, y,
                                        sorted({1, cores}), args.epochs, args.repeats, best_of)]

    print(f"{'framework':34s} {'fit samples/s':>14s} {'predict samples/s':>18s} {'1-sample call':>14s}")
    print(f"{'forgeflow ' + ff.__version__ + ' (CPU)':34s} {ff_fit:14,.0f} {ff_pred:18,.0f} "
          f"{ff_latency['model(x)']:11.1f} us")
    for r in peers:
        print(f"{'PyTorch ' + r['torch'] + ' eager, ' + str(r['threads']) + ' thr':34s} "
              f"{r['fit_samples_per_s']:14,.0f} {r['predict_samples_per_s']:18,.0f} "
              f"{r['single_sample_us']:11.1f} us")
    print("forgeflow single-sample latency: " +
          ", ".join(f"{k} {v:.1f} us" for k, v in ff_latency.items()))
    if peers:
        best_fit = max(r["fit_samples_per_s"] for r in peers)
        best_pred = max(r["predict_samples_per_s"] for r in peers)
        best_lat = min(r["single_sample_us"] for r in peers)
        print(f"ratio forgeflow / best PyTorch: fit {ff_fit / best_fit:.2f}x, "
              f"predict {ff_pred / best_pred:.2f}x, single-sample latency "
              f"{best_lat / ff_latency['model(x)']:.2f}x faster")


if __name__ == "__main__":
    sys.exit(main())
