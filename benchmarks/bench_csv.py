"""Benchmark: CSV ingest into one float32 array, forgeflow against pandas and NumPy in the same
run. Fashion-MNIST written as a CSV (the first 20,000 training images: label,pixel1..pixel784,
about 44 MB) is read into a float32 matrix by

- forgeflow csv_dataset: the production path, ``ff.data.csv_dataset(path, label="label",
  batch_size=1024, shuffle=False)`` iterated to the end (C++ parser threads, per-row elements,
  batching, NumPy conversion), batches concatenated;
- forgeflow reader: the same parser in one pass straight into whole arrays
  (``forgeflow.data.csv._read_arrays``), i.e. without the per-row pipeline;
- ``pandas.read_csv(path).to_numpy(np.float32)``;
- ``numpy.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)``.

Figures are MB/s of CSV text (best of --repeats). The per-core figures run pinned to one CPU
(os.sched_setaffinity, like ``taskset -c 0``) with 1 reader thread; forgeflow then runs again
with 2 reader threads on 2 CPUs. Not a test: run by hand and record the figures, with machine
and date, in benchmarks/RESULTS.md.

    python3 benchmarks/bench_csv.py [--rows 20000] [--repeats 3]
"""
import argparse
import os
import tempfile
import time

import numpy as np

import forgeflow as ff
from forgeflow.data.csv import _read_arrays
from _common import machine_line


def write_csv(path, rows):
    (x, y), _ = ff.datasets.fashion_mnist.load_data()
    x = x[:rows].reshape(rows, -1)
    y = y[:rows]
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    data = np.concatenate([y[:, None].astype(np.int64), x.astype(np.int64)], axis=1)
    np.savetxt(path, data, fmt="%d", delimiter=",", header=header, comments="")
    return data.astype(np.float32)


def best_time(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def forgeflow_dataset(path, threads):
    ds = ff.data.csv_dataset(path, label="label", batch_size=1024, shuffle=False,
                             num_parallel_reads=threads)
    xs, ys = [], []
    for x, y in ds:
        xs.append(x)
        ys.append(y)
    return np.concatenate([np.concatenate(ys)[:, None].astype(np.float32), np.concatenate(xs)], axis=1)


def forgeflow_reader(path, threads):
    (x, y), _ = _read_arrays(path, label="label", num_parallel_reads=threads)
    return np.concatenate([y[:, None].astype(np.float32), x], axis=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(machine_line())
    try:
        import pandas as pd
    except ImportError:
        pd = None
        print("pandas not installed (pip install pandas): skipped")
    all_cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fashion_mnist.csv")
        expected = write_csv(path, args.rows)
        mb = os.path.getsize(path) / 1e6
        print(f"CSV: {args.rows} rows x 785 columns, {mb:.1f} MB")
        runs = [("forgeflow csv_dataset, 1 thread", lambda: forgeflow_dataset(path, 1), 1),
                ("forgeflow reader, 1 thread", lambda: forgeflow_reader(path, 1), 1)]
        if pd is not None:
            runs.append((f"pandas {pd.__version__} read_csv + to_numpy",
                         lambda: pd.read_csv(path).to_numpy(np.float32), 1))
        runs.append((f"numpy {np.__version__} loadtxt",
                     lambda: np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32), 1))
        if len(all_cpus) >= 2:
            runs += [("forgeflow csv_dataset, 2 threads", lambda: forgeflow_dataset(path, 2), 2),
                     ("forgeflow reader, 2 threads", lambda: forgeflow_reader(path, 2), 2)]
        results = {}
        for name, fn, cpus in runs:
            os.sched_setaffinity(0, all_cpus[:cpus])
            try:
                seconds, out = best_time(fn, args.repeats)
            finally:
                os.sched_setaffinity(0, all_cpus)
            if not np.array_equal(out, expected):
                raise SystemExit(f"{name}: the array read differs from the data written")
            results[name] = mb / seconds
            print(f"{name:45s} {mb / seconds:8.1f} MB/s  ({seconds:.3f} s, {cpus} CPU"
                  f"{'s' if cpus > 1 else ''})")
        peers = [v for k, v in results.items() if not k.startswith("forgeflow")]
        if peers:
            best_peer = max(peers)
            for k, v in results.items():
                if k.startswith("forgeflow"):
                    print(f"{k:45s} {v / best_peer:6.2f}x the faster peer (per core)")


if __name__ == "__main__":
    main()
