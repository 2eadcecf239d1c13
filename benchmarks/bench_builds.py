"""Benchmark: the MLP of bench_mlp.py (784-512-512-10, Adam, batch 128, Fashion-MNIST) trained
by several forgeflow builds in the same run, each in its own subprocess, the builds taken in turn
on every round so that a drift of the machine hits them alike; PyTorch in the same run as the
peer. How a performance regression between commits is found and checked (issue 13, item 12).

Each build is a package directory holding forgeflow/ with its compiled _core (a worktree's
python/ with the extension linked in, or a site-packages directory).

    python3 benchmarks/bench_builds.py NAME=PYTHON_DIR [NAME=PYTHON_DIR ...] [--rounds 3]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

from _common import machine_line, peer_figures

# Runs in the subprocess: one fit of one epoch after a warm-up epoch, samples/s on stdout.
CHILD = r"""
import json, sys, time
import numpy as np
import forgeflow as ff
data = np.load(sys.argv[1])
x, y = data["x"], data["y"]
ff.utils.set_random_seed(0)
model = ff.Sequential([ff.layers.Dense(512, activation="relu", input_shape=(784,)),
                       ff.layers.Dense(512, activation="relu"), ff.layers.Dense(10)])
model.compile(optimizer=ff.optimizers.Adam(1e-3),
              loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(x, y, batch_size=128, epochs=1, verbose=0)
best = 0.0
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    best = max(best, len(x) / (time.perf_counter() - t))
print(json.dumps({"fit_samples_per_s": best, "file": ff.__file__}))
"""


def build(text):
    name, sep, path = text.partition("=")
    if not sep or not name or not os.path.isdir(os.path.join(path, "forgeflow")):
        raise argparse.ArgumentTypeError(f"expected NAME=DIR with DIR/forgeflow, got {text!r}")
    return name, os.path.abspath(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="+", type=build)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2, help="timed epochs per subprocess")
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import forgeflow as ff  # the data, read once
    (x_train, y_train), _ = ff.datasets.fashion_mnist.load_data()
    x = (x_train.reshape(-1, 784) / 255.0).astype(np.float32)
    y = y_train.astype(np.int64)
    print(machine_line())
    results = {name: [] for name, _ in args.builds}
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.npz")
        np.savez(data, x=x, y=y)
        for _ in range(args.rounds):
            for name, path in args.builds:
                env = dict(os.environ, PYTHONPATH=path)
                out = subprocess.run([sys.executable, "-c", CHILD, data, str(args.repeats)],
                                     capture_output=True, text=True, env=env, check=True)
                results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    peers = peer_figures(args.torch_python, "torch_mlp_peer.py", x, y, sorted({1, os.cpu_count()}),
                         1, args.rounds,
                         lambda a, b: a if a["fit_samples_per_s"] >= b["fit_samples_per_s"] else b)
    best_peer = max((r["fit_samples_per_s"] for _, r in peers), default=None)
    print(f"{'build':24s} {'fit samples/s (best)':>21s} {'all rounds':>32s} {'vs PyTorch':>11s}")
    for name, runs in results.items():
        figures = [r["fit_samples_per_s"] for r in runs]
        ratio = f"{max(figures) / best_peer:.2f}x" if best_peer else "-"
        print(f"{name:24s} {max(figures):21,.0f} {' '.join(f'{f:,.0f}' for f in figures):>32s} "
              f"{ratio:>11s}")
    for threads, r in peers:
        print(f"{'PyTorch ' + r['torch'] + ', ' + str(threads) + ' thr':24s} "
              f"{r['fit_samples_per_s']:21,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
