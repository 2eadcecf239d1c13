"""Benchmark: ``ff.models.load_model`` time against the number of layers, for functional models of
n chained ``Activation("linear")`` layers (issue 12 item 5: 40,000 layers in a 5.4 MB file once
took 34 s, the graph walk being quadratic). Loading should grow linearly: the seconds per
thousand layers stay about constant as n grows. The load is the production path
(``forgeflow.saving.model_io.load_model_from_bytes`` on the file's bytes, so disk reads are not
timed). Not a test: run by hand and record the figures, with machine and date, in
benchmarks/RESULTS.md.

    python3 benchmarks/bench_load_model.py [--layers 5000 10000 20000 40000] [--repeats 3]
"""
import argparse
import os
import tempfile
import time

import forgeflow as ff
from forgeflow.saving.model_io import load_model_from_bytes
from _common import machine_line


def chain_file(n, folder):
    inp = ff.Input(shape=(2,), name="x")
    h = inp
    for _ in range(n):
        h = ff.layers.Activation("linear")(h)
    path = os.path.join(folder, f"chain{n}.ff")
    ff.Model(inp, h).save(path)
    with open(path, "rb") as f:
        return f.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[5000, 10000, 20000, 40000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        for n in args.layers:
            data = chain_file(n, folder)
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                load_model_from_bytes(data)
                best = min(best, time.perf_counter() - start)
            print(f"{n:>7} layers  {len(data) / 1e6:6.1f} MB  load {best:7.2f} s  "
                  f"({1000 * best / n:.3f} s per 1000 layers)")


if __name__ == "__main__":
    main()
