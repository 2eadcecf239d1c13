"""Benchmark: MLP 784-512-512-10 (relu, softmax cross-entropy from logits, Adam 1e-3, batch 128,
float32) on Fashion-MNIST, forgeflow against PyTorch on the same machine in the same run.

Reports training samples/s (one epoch of 60,000 after a warm-up epoch; best of --repeats),
predict samples/s, and the latency of one single-sample call (model(x) / predict), for forgeflow through its ordinary public API (model.fit / model.predict on
NumPy arrays) and for PyTorch eager with 1 thread and with all cores (the better PyTorch figure
is the one ratios are taken against). PyTorch runs in a subprocess because Debian's
python3-torch lives in the system Python. Not a test: run it by hand and record the figures,
with machine and date, in benchmarks/RESULTS.md.

With --threads 1,2,4,8 it reports the scaling curve instead: training and predict samples/s at
each thread count, forgeflow (ff.config.threading.set_intra_op_parallelism_threads) next to
PyTorch (torch.set_num_threads), in the same run.

With --device cuda it measures the GPU instead (FORGEFLOW_DEVICE=cuda; float32, no TF32):
forgeflow's model.fit on NumPy arrays next to PyTorch eager, PyTorch with the training step
hand-captured in a CUDA graph (torch_mlp_cuda_peer.py) and Keras 3 on JAX with
steps_per_execution 1 and 32 where installed (keras_mlp_peer.py), in the same run: samples/s of
the second of two epochs (best of --repeats) and the time from building the model to its first
finished training step. It exits with status 2 and says why when forgeflow sees no GPU.

    python3 benchmarks/bench_mlp.py [--epochs 1] [--repeats 3] [--torch-python /usr/bin/python3]
    python3 benchmarks/bench_mlp.py --threads 1,2,4,8,16
    python3 benchmarks/bench_mlp.py --device cuda [--repeats 3] [--keras-python python3]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import forgeflow as ff
from _common import machine_line, peer_figures
from _cuda_common import add_cuda_arguments, forgeflow_cuda_figures as cuda_figures, \
    forgeflow_tf32, require_forgeflow_gpu, run_json_peer


def load():
    (x_train, y_train), _ = ff.datasets.fashion_mnist.load_data()
    x = (x_train.reshape(-1, 784) / 255.0).astype(np.float32)
    return x, y_train.astype(np.int64)


def build_model():
    ff.utils.set_random_seed(0)
    model = ff.Sequential([
        ff.layers.Dense(512, activation="relu", input_shape=(784,)),
        ff.layers.Dense(512, activation="relu"),
        ff.layers.Dense(10)])
    model.compile(optimizer=ff.optimizers.Adam(1e-3),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def fit_figure(model, x, y, epochs, repeats):
    """Training samples/s, best of `repeats`, after a warm-up epoch."""
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm-up epoch
    fit_best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
        fit_best = max(fit_best, epochs * len(x) / (time.perf_counter() - t))
    return fit_best


def predict_figure(model, x, repeats):
    model.predict(x[:1280], batch_size=128, verbose=0)
    pred_best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.predict(x, batch_size=128, verbose=0)
        pred_best = max(pred_best, len(x) / (time.perf_counter() - t))
    return pred_best


def forgeflow_figures(x, y, epochs, repeats):
    model = build_model()
    fit_best = fit_figure(model, x, y, epochs, repeats)
    pred_best = predict_figure(model, x, repeats)
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


def thread_counts(text):
    try:
        counts = [int(t) for t in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(
            f"expected thread counts such as 1,2,4,8 (positive integers), received {text!r}")
    return counts


def scaling_curve(x, y, counts, args):
    """Fit and predict samples/s at each thread count, forgeflow next to PyTorch."""
    usable = ff.config.threading.usable_cpu_count()
    if max(counts) > usable:
        print(f"note: this process may use {usable} CPUs; counts above that oversubscribe them")
    ours = {}
    for n in counts:
        ff.config.threading.set_intra_op_parallelism_threads(n)
        try:
            model = build_model()
            ours[n] = (fit_figure(model, x, y, args.epochs, args.repeats),
                       predict_figure(model, x, args.repeats))
        finally:
            ff.config.threading.set_intra_op_parallelism_threads(0)
    peers = dict(peer_figures(args.torch_python, "torch_mlp_peer.py", x, y, counts, args.epochs,
                              args.repeats, best_of))
    torch_name = next((f"PyTorch {r['torch']}" for r in peers.values()), "PyTorch")
    print(f"{'threads':>7s} {'forgeflow fit/s':>16s} {torch_name + ' fit/s':>20s} {'ratio':>6s} "
          f"{'forgeflow predict/s':>20s} {torch_name + ' predict/s':>24s}")
    for n in counts:
        fit, pred = ours[n]
        peer = peers.get(n)
        peer_fit = f"{peer['fit_samples_per_s']:,.0f}" if peer else "-"
        peer_pred = f"{peer['predict_samples_per_s']:,.0f}" if peer else "-"
        ratio = f"{fit / peer['fit_samples_per_s']:.2f}x" if peer else "-"
        print(f"{n:7d} {fit:16,.0f} {peer_fit:>20s} {ratio:>6s} {pred:20,.0f} {peer_pred:>24s}")
    best = max(counts, key=lambda n: ours[n][0])
    print(f"forgeflow's best fit: {ours[best][0]:,.0f} samples/s at {best} threads; "
          f"automatic (ff default) uses up to {usable}")


def forgeflow_cuda_figures(x, y, repeats):
    """forgeflow on the GPU: second-epoch samples/s (best of `repeats`) and time to the first
    finished step (building the model, then a fit of one batch)."""
    return cuda_figures(build_model, x, y, 128, repeats)


def cuda_benchmark(args):
    if require_forgeflow_gpu("bench_mlp.py"):
        return 2
    x, y = load()
    print(machine_line())
    # float32 exactly: TF32 off (TensorFlow's and forgeflow's default is on), as the peers.
    print(f"forgeflow TF32 after turning it off: {forgeflow_tf32(False)}")
    rows = [(f"forgeflow {ff.__version__} model.fit (NumPy arrays)",
             forgeflow_cuda_figures(x, y, args.repeats))]
    # The same with check-numerics on (issue 14: at most 10% slower than without).
    ff.debugging.enable_check_numerics()
    try:
        numerics = forgeflow_cuda_figures(x, y, args.repeats)
    finally:
        ff.debugging.disable_check_numerics()
    print(f"forgeflow with check-numerics: {numerics['samples_per_s']:,.0f} samples/s, "
          f"{rows[0][1]['samples_per_s'] / numerics['samples_per_s']:.2f}x the time without")
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.npz")
        np.savez(data_path, x=x, y=y)
        torch_result, why = run_json_peer(args.torch_python, "torch_mlp_cuda_peer.py",
                                          (data_path, args.repeats), args.peer_timeout)
        if torch_result:
            print(f"GPU: {torch_result['gpu']}")
            rows.append((f"PyTorch {torch_result['torch']} eager", torch_result["eager"]))
            rows.append((f"PyTorch {torch_result['torch']} CUDA graph (hand-captured)",
                         torch_result["graph"]))
        else:
            print(f"PyTorch on the GPU unavailable: {why}")
        env = dict(os.environ, KERAS_BACKEND="jax")
        keras_result, why = run_json_peer(args.keras_python or args.torch_python,
                                          "keras_mlp_peer.py", (data_path, args.repeats),
                                          args.peer_timeout, env)
        if keras_result:
            for spe in (1, 32):
                rows.append((f"Keras {keras_result['keras']} on JAX {keras_result['jax']}, "
                             f"steps_per_execution={spe}", keras_result[f"spe{spe}"]))
        else:
            print(f"Keras 3 on JAX unavailable: {why}")
    print("MLP 784-512-512-10, batch 128, Adam, float32 (no TF32), second epoch of two")
    print(f"{'framework':58s} {'samples/s':>12s} {'first step':>11s}")
    for name, r in rows:
        print(f"{name:58s} {r['samples_per_s']:12,.0f} {r['first_step_s']:9.2f} s")
    ours = rows[0][1]["samples_per_s"]
    for name, r in rows[1:]:
        print(f"ratio forgeflow / {name}: {ours / r['samples_per_s']:.2f}x")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    ap.add_argument("--threads", type=thread_counts, default=None,
                    help="comma-separated thread counts: report the scaling curve")
    add_cuda_arguments(ap, conv_peers=False)
    args = ap.parse_args()
    if args.device == "cuda":
        if args.repeats < 1:
            ap.error(f"--repeats must be at least 1, received {args.repeats}")
        if args.threads:
            ap.error("--threads measures the CPU; it does not combine with --device cuda")
        return cuda_benchmark(args)

    x, y = load()
    cores = os.cpu_count()
    print(machine_line())
    if args.threads:
        scaling_curve(x, y, args.threads, args)
        return 0
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
