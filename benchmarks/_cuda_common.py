"""Shared by the forgeflow-side --device cuda benchmark drivers (bench_mlp.py, bench_cnn.py,
bench_resnet18.py): whether forgeflow has a GPU here, forgeflow's own figures (samples/s of the
second of two epochs of model.fit on NumPy arrays, best of the repeats, and the time from
building the model to its first finished step), forgeflow's TF32 switch, running a peer script
that prints one JSON line, and the table of rows printed last."""
import argparse
import json
import os
import subprocess
import sys
import time

import forgeflow as ff


class EpochEnds(ff.callbacks.Callback):
    """The time at the end of each epoch (forgeflow's epoch end reads its logs from the device,
    so the epoch's last step has finished)."""

    def __init__(self):
        super().__init__()
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def forgeflow_gpu_problem():
    """None when forgeflow trains on a GPU here (FORGEFLOW_DEVICE=cuda), else why not."""
    lister = getattr(getattr(ff, "config", None), "list_physical_devices", None)
    try:
        if lister is not None and not lister("GPU"):
            return "ff.config.list_physical_devices('GPU') lists no GPU"
        import numpy as np
        probe = ff.Sequential([ff.layers.Dense(2, input_shape=(3,))])
        probe.compile(optimizer="sgd", loss="mse")
        probe.fit(np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32), verbose=0)
    except Exception as e:  # noqa: BLE001 - any failure means no usable GPU; say which
        return f"{type(e).__name__}: {e}"
    return None


def require_forgeflow_gpu(script):
    """Sets FORGEFLOW_DEVICE=cuda; returns 0 when forgeflow trains on a GPU here, else prints
    why not (naming `script`) and returns 2, the exit status for "no GPU"."""
    os.environ["FORGEFLOW_DEVICE"] = "cuda"
    problem = forgeflow_gpu_problem()
    if problem:
        print(f"{script} --device cuda: forgeflow has no GPU here ({problem}); run it on a "
              "GPU machine (scripts/gpu-check.sh)", file=sys.stderr)
        return 2
    return 0


def forgeflow_tf32(enabled):
    """Turns forgeflow's TF32 execution on or off (ff.config.experimental.
    enable_tensor_float_32_execution, as in TensorFlow) and returns whether it is on now; None
    when this build has no such switch (its float32 GEMMs then run without TF32)."""
    experimental = ff.config.experimental
    setter = getattr(experimental, "enable_tensor_float_32_execution", None)
    if setter is None:
        return None
    setter(enabled)
    getter = getattr(experimental, "tensor_float_32_execution_enabled", None)
    return bool(getter()) if getter is not None else enabled


def tf32_label(state):
    """The table's words for a TF32 state (True, False, or None: no switch in this build)."""
    return {True: "TF32 on", False: "TF32 off", None: "TF32 off (no switch)"}[state]


def forgeflow_cuda_figures(build, x, y, batch, repeats):
    """forgeflow on the GPU: samples/s of the second of two epochs (best of `repeats`) and the
    time to the first finished step (building the model with `build()`, then a fit of one
    batch)."""
    t0 = time.perf_counter()
    model = build()
    model.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0)
    first = time.perf_counter() - t0
    best = 0.0
    for _ in range(repeats):
        clock = EpochEnds()
        model.fit(x, y, batch_size=batch, epochs=2, verbose=0, callbacks=[clock])
        best = max(best, len(x) / (clock.ends[1] - clock.ends[0]))
    return {"samples_per_s": best, "first_step_s": first}


def run_json_peer(python, script, args, timeout, env=None):
    """Runs a peer script next to this file; returns (its JSON line, None) or (None, why not)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), script)
    try:
        proc = subprocess.run([python, path, *map(str, args)], capture_output=True, text=True,
                              timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{type(e).__name__}: {e}"
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return None, lines[-1] if lines else f"exit status {proc.returncode}"
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1]), None
    except (IndexError, ValueError):
        return None, "no JSON result line"


class Rows:
    """The rows of a --device cuda table: (framework, precision, kind, figures). `kind` groups
    the rows that ratios compare ("float32, TF32 off", "float32, TF32 on", "bfloat16"). Each row
    is printed as it is measured ("measured: ..."), so a run cut short still shows its figures."""

    def __init__(self):
        self.rows = []

    def add(self, framework, precision, kind, figures):
        self.rows.append((framework, precision, kind, figures))
        print(f"measured: {framework}, {precision}: {figures['samples_per_s']:,.0f} samples/s, "
              f"first step {figures['first_step_s']:.2f} s", flush=True)

    def table(self, title):
        """Prints the table, then each forgeflow row's ratio to every peer row of its kind, then
        one "summary:" line (forgeflow's figures and their ratio to the best peer of the kind)."""
        print(title)
        print(f"{'framework':58s} {'precision':30s} {'samples/s':>12s} {'first step':>11s}")
        for name, precision, _, r in self.rows:
            print(f"{name:58s} {precision:30s} {r['samples_per_s']:12,.0f} "
                  f"{r['first_step_s']:9.2f} s")
        ours = [row for row in self.rows if row[0].startswith("forgeflow")]
        peers = [row for row in self.rows if not row[0].startswith("forgeflow")]
        summary = []
        for name, precision, kind, r in ours:
            same = [p for p in peers if p[2] == kind]
            for peer, peer_precision, _, pr in same:
                print(f"ratio forgeflow {precision} / {peer}, {peer_precision}: "
                      f"{r['samples_per_s'] / pr['samples_per_s']:.2f}x")
            text = f"forgeflow {precision} {r['samples_per_s']:,.0f}/s"
            if same:
                best = max(same, key=lambda p: p[3]["samples_per_s"])
                text += f" ({r['samples_per_s'] / best[3]['samples_per_s']:.2f}x {best[0]})"
            summary.append(text)
        if summary:
            print("summary: " + "; ".join(summary))


def forgeflow_rows(rows, build, x, y, batch, repeats, policies=("float32",)):
    """forgeflow's rows: for each policy, float32 with TF32 off, then (when this build has the
    switch) float32 with TF32 on (issue 15's target for ResNet-18); "mixed_bfloat16" in
    `policies` adds that policy's row. `build()` builds and compiles the model under the global
    policy in force."""
    name = f"forgeflow {ff.__version__} model.fit (NumPy arrays)"
    for tf32 in (False, True):
        state = forgeflow_tf32(tf32)
        if tf32 and state is None:
            print("forgeflow has no ff.config.experimental.enable_tensor_float_32_execution "
                  "in this build: no TF32-on row")
            continue
        kind = "float32, TF32 on" if state else "float32, TF32 off"
        rows.add(name, f"float32, {tf32_label(state)}", kind,
                 forgeflow_cuda_figures(build, x, y, batch, repeats))
    forgeflow_tf32(False)
    if "mixed_bfloat16" in policies:
        ff.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            rows.add(name, "mixed_bfloat16", "bfloat16",
                     forgeflow_cuda_figures(build, x, y, batch, repeats))
        finally:
            ff.mixed_precision.set_global_policy(None)


# torch_conv_cuda_peer.py's modes -> (framework, precision, kind); a float32 mode's precision and
# kind say TF32 as PyTorch read its flags back.
TORCH_MODES = {"eager": ("eager", "float32"),
               "graph": ("CUDA graph (hand-captured)", "float32"),
               "eager_tf32": ("eager", "float32"),
               "bf16": ("eager", "bf16 autocast"),
               "bf16_cl": ("eager", "bf16 autocast, channels_last"),
               "graph_bf16_cl": ("CUDA graph (hand-captured)", "bf16 autocast, channels_last")}

# keras_conv_peer.py's policies -> (precision, kind)
KERAS_POLICIES = {"float32": ("float32, TF32 off (highest)", "float32, TF32 off"),
                  "float32_tf32": ("float32, TF32 on (JAX default)", "float32, TF32 on"),
                  "mixed_bfloat16": ("mixed_bfloat16", "bfloat16")}


def conv_peer_rows(rows, model, data_path, batch, torch_modes, keras_policies, args):
    """Runs torch_conv_cuda_peer.py and keras_conv_peer.py on the .npz at `data_path` (each
    where args.peers names it) and adds their rows; says why a peer gave none."""
    if "torch" in args.peers:
        result, why = run_json_peer(args.torch_python, "torch_conv_cuda_peer.py",
                                    (model, data_path, args.repeats, batch,
                                     ",".join(torch_modes)), args.peer_timeout)
        if result:
            print(f"GPU: {result['gpu']}; PyTorch cudnn.benchmark={result['cudnn_benchmark']}")
            for mode, figures in result["modes"].items():
                how, precision = TORCH_MODES[mode]
                kind = "bfloat16"
                if precision == "float32":
                    flags = figures["tf32"]
                    if flags["matmul"] == flags["cudnn"]:
                        precision += f", {tf32_label(flags['matmul'])}"
                        kind = precision
                    else:
                        precision += f", TF32 matmul {flags['matmul']} cuDNN {flags['cudnn']}"
                        kind = precision
                rows.add(f"PyTorch {result['torch']} {how}", precision, kind, figures)
        else:
            print(f"PyTorch on the GPU unavailable: {why}")
    if "keras" in args.peers:
        env = dict(os.environ, KERAS_BACKEND="jax")
        result, why = run_json_peer(args.keras_python or args.torch_python, "keras_conv_peer.py",
                                    (model, data_path, args.repeats, batch,
                                     ",".join(keras_policies), args.keras_spe),
                                    args.peer_timeout, env)
        if result:
            for key, figures in result["rows"].items():
                policy, spe = key.split(":spe")
                precision, kind = KERAS_POLICIES[policy]
                rows.add(f"Keras {result['keras']} on JAX {result['jax']}, "
                         f"steps_per_execution={spe}", precision, kind, figures)
        else:
            print(f"Keras 3 on JAX unavailable: {why}")


def positive_list(text):
    """argparse type: comma-separated positive integers, kept as the text."""
    parts = text.split(",")
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 1,32; received {text!r}")
    return text


def peer_list(text):
    """argparse type: a comma-separated subset of torch,keras (or "none")."""
    parts = [] if text == "none" else text.split(",")
    if any(p not in ("torch", "keras") for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of torch,keras, or none; received {text!r}")
    return parts


def add_cuda_arguments(ap, conv_peers=True):
    """The --device cuda options of the benchmarks: --device, --keras-python and --peer-timeout
    (bench_mlp.py too); with conv_peers, also those bench_cnn.py and bench_resnet18.py add for
    their peers (--peers, --keras-spe, --tf32)."""
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="cuda: the GPU figures (forgeflow next to PyTorch eager and CUDA graph "
                         "and Keras 3 on JAX, in the same run)")
    ap.add_argument("--keras-python", default=None,
                    help="the Python with Keras 3 and JAX (--device cuda; default: "
                         "--torch-python)")
    ap.add_argument("--peer-timeout", type=float, default=600.0,
                    help="seconds each peer script may take (--device cuda)")
    if not conv_peers:
        return
    ap.add_argument("--peers", type=peer_list, default=["torch", "keras"],
                    help="the peers to run (--device cuda): a comma-separated subset of "
                         "torch,keras, or none (default: both)")
    ap.add_argument("--keras-spe", type=positive_list, default="1,32",
                    help="Keras's steps_per_execution values, comma-separated (--device cuda; "
                         "default 1,32)")
    ap.add_argument("--tf32", action="store_true",
                    help="--device cuda: also the peers' float32 rows with TF32 on (PyTorch's "
                         "allow_tf32, JAX's default precision); forgeflow's TF32-on row is "
                         "always there when its build has the switch")
