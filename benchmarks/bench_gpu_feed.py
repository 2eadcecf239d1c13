"""Benchmark: does the input path keep the GPU busy? (issue 16) For each way of feeding a model it
measures, during the second of two epochs of ``model.fit``, the share of wall time the GPU was busy
(NVML's utilization: the share of each sample period in which a kernel ran, sampled every 20 ms
by a background thread; ``nvidia-ml-py``), beside the rate of every stage of the feed measured on
its own, and prints a diagnosis naming the bottleneck stage wherever the GPU was idle more than 5%
of the epoch:

  (a) an MLP (784-2048-2048-10) fed from NumPy arrays: kept on the GPU (uploaded once, batches
      gathered there: ff.config.experimental.set_resident_array_fraction) and streamed through
      pinned memory (the fraction set to 0);
  (b) the same MLP fed from ff.data.experimental.make_csv_dataset (one input per CSV column, as a
      TensorFlow port would have it), the CSV written into a temporary folder;
  (c) ResNet-18 (CIFAR form) under mixed_bfloat16 fed from a folder of 224x224 JPEGs (generated
      into a temporary folder with PIL, 10 classes) by image_dataset_from_directory, resized to the
      model's input (--input-size); decode-and-resize rates per core (1 worker), with every core,
      and with decode_device="gpu" (nvJPEG) where this build can.

Each stage's rate: the pipeline iterated alone (no model), and the model's step alone (fit on
arrays already on the GPU): the consume rate. When the GPU idles more than 5%, the slowest stage
below the consume rate is named. Peers where installed: PyTorch's DataLoader (pinned memory, worker
processes) feeding the same MLP from a TensorDataset and a torchvision ResNet-18 (ImageNet form:
the feed, not the model, is compared) from torchvision's ImageFolder with PIL decoding, GPU busy
measured the same way. NVIDIA DALI is the reference design for GPU decoding (not run here).

Not a test, and never run for performance claims on a shared machine: the lead runs it on a
quiet GPU machine (scripts/gpu-check.sh runs it as an informational step). ``--device cpu`` is a
smoke mode: tiny sizes on the CPU, no GPU figures, every code path but the GPU's exercised.

    python3 benchmarks/bench_gpu_feed.py --device cuda [--samples 100000] [--csv-rows 100000]
        [--images 2048] [--input-size 64] [--batch 256] [--cases a,b,c] [--no-peers]
    python3 benchmarks/bench_gpu_feed.py --device cpu        # smoke run
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np

IDLE_LIMIT = 0.05  # the target: GPU idle under 5% where the source keeps up


# ---------------------------------------------------------------------------------- GPU busy
class BusySampler:
    """The GPU's busy share over a window, from NVML's utilization samples (percent of each
    sample period with a kernel running), polled every `interval` s on a background thread.
    `available` is False (with `why`) where NVML or a GPU is missing."""

    def __init__(self, index=0, interval=0.02):
        self.interval, self.samples, self.why = interval, [], ""
        self._stop = threading.Event()
        self._thread = None
        try:
            import pynvml
            pynvml.nvmlInit()
            self._nvml = pynvml
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self.available = True
        except Exception as e:  # noqa: BLE001 - any failure: no busy figure, say why
            self.available, self.why = False, f"no NVML ({type(e).__name__}: {e})"

    def start(self):
        self.samples = []
        if not self.available:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append(self._nvml.nvmlDeviceGetUtilizationRates(self._handle).gpu)
            except Exception:  # noqa: BLE001 - a failed poll is a missing sample
                pass
            self._stop.wait(self.interval)

    def stop(self):
        """The busy share (0..1) since start(), or None."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        return float(np.mean(self.samples)) / 100.0 if self.samples else None


def measured_epoch(ff, sampler, index=1):
    """A callback timing epoch `index` of a fit and sampling the GPU during it."""

    class MeasuredEpoch(ff.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self.busy, self._t = None, None, None

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == index:
                sampler.start()
                self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if epoch == index:  # forgeflow's epoch end read its logs: the GPU is done
                self.seconds = time.perf_counter() - self._t
                self.busy = sampler.stop()

    return MeasuredEpoch()


# ---------------------------------------------------------------------------------- report
class Report:
    def __init__(self):
        self.rows = []  # (case, stage, samples/s, busy or None, note)

    def add(self, case, stage, rate, busy=None, note=""):
        self.rows.append((case, stage, rate, busy, note))
        busy_s = "n/a" if busy is None else f"{100 * busy:5.1f}%"
        print(f"measured: {case:<4} {stage:<38} {rate:>12,.0f} samples/s  GPU busy {busy_s}"
              f"{'  ' + note if note else ''}", flush=True)

    def diagnose(self, case, fit_stage, consume_stage, feed_stages):
        """Names the bottleneck of `case` when its fit row shows the GPU idle over 5%."""
        rows = {r[1]: r for r in self.rows if r[0] == case}
        fit = rows.get(fit_stage)
        if fit is None:
            return
        busy = fit[3]
        consume = rows.get(consume_stage, (None, None, None))[2]
        if busy is None:
            print(f"diagnosis: {case}: no GPU busy figure ({fit[4] or 'no GPU'}); stage rates: " +
                  ", ".join(f"{s} {rows[s][2]:,.0f}/s" for s in feed_stages if s in rows))
            return
        if 1.0 - busy <= IDLE_LIMIT:
            print(f"diagnosis: {case}: GPU idle {100 * (1 - busy):.1f}% <= 5%: the feed keeps up")
            return
        slow = [(rows[s][2], s) for s in feed_stages if s in rows]
        slow.sort()
        if slow and consume and slow[0][0] < consume:
            rate, stage = slow[0]
            print(f"diagnosis: {case}: GPU idle {100 * (1 - busy):.1f}%: the bottleneck is "
                  f"'{stage}' at {rate:,.0f} samples/s, below the step's {consume:,.0f} "
                  f"samples/s ({consume / max(rate, 1e-9):.1f}x faster than the feed)")
        else:
            print(f"diagnosis: {case}: GPU idle {100 * (1 - busy):.1f}% although every feed stage "
                  f"is faster than the step ({consume or 0:,.0f} samples/s): the host loop "
                  "(launches, copies between steps, synchronisation) is the bottleneck")


# ---------------------------------------------------------------------------------- helpers
def mlp(ff, inputs=None, features=784):
    if inputs is None:
        inp = ff.Input(shape=(features,), name="x")
        x = inp
    else:
        inp = [ff.Input(shape=(1,), name=n) for n in inputs]
        x = ff.layers.Concatenate()(inp)
    x = ff.layers.Dense(2048, activation="relu")(x)
    x = ff.layers.Dense(2048, activation="relu")(x)
    out = ff.layers.Dense(10)(x)
    model = ff.Model(inp, out)
    model.compile(optimizer=ff.optimizers.Adam(1e-3),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def fit_rate(ff, model, sampler, samples, **fit_args):
    """samples/s and GPU busy share of the second of two epochs."""
    probe = measured_epoch(ff, sampler)
    model.fit(epochs=2, verbose=0, callbacks=[probe], **fit_args)
    return samples / probe.seconds, probe.busy


def pipeline_rate(ds, max_batches=None):
    """samples/s of iterating a dataset alone (no model): every batch, from the pass's start
    (its worker threads' start-up included), at most `max_batches` of them."""
    n, t = 0, time.perf_counter()
    for k, batch in enumerate(ds):
        x = batch[0] if isinstance(batch, tuple) else batch
        n += len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
        if max_batches and k + 1 >= max_batches:
            break
    return n / max(time.perf_counter() - t, 1e-9)


def peer(args, name, extra):
    """Runs a PyTorch peer in a subprocess of this script; its JSON line, or None."""
    cmd = [args.torch_python or sys.executable, os.path.abspath(__file__), "--peer", name,
           "--device", args.device] + extra
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.peer_timeout)
    except subprocess.TimeoutExpired:
        print(f"peer {name}: timed out after {args.peer_timeout}s")
        return None
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        print(f"peer {name}: not run ({tail[0]})")
        return None
    return json.loads(lines[-1])


# ---------------------------------------------------------------------------------- cases
def case_arrays(ff, args, report, sampler):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=args.samples).astype(np.int64)
    exp = ff.config.experimental
    saved = exp.get_resident_array_fraction()
    try:
        for fraction, stage in ((saved or 0.25, "fit: arrays kept on the GPU"),
                                (0.0, "fit: arrays streamed (pinned, 2 slots)")):
            exp.set_resident_array_fraction(fraction)
            ff.utils.set_random_seed(0)
            model = mlp(ff)
            rate, busy = fit_rate(ff, model, sampler, args.samples, x=x, y=y,
                                  batch_size=args.batch)
            stats = model._core.input_stats
            note = ("resident" if stats is None else
                    f"{stats['batches']} batches streamed, {stats['pinned_allocations']} pinned "
                    "blocks allocated") if args.device == "cuda" else "CPU"
            report.add("a", stage, rate, busy, note)
    finally:
        exp.set_resident_array_fraction(saved)
    # The consume rate: the resident fit is the step alone (no per-step input work).
    report.rows.append(("a", "step alone (resident arrays)",
                        [r for r in report.rows if r[0] == "a"][0][2], None, ""))
    if args.peers:
        res = peer(args, "torch-mlp", ["--samples", str(args.samples), "--batch", str(args.batch)])
        if res:
            report.add("a", "peer: PyTorch DataLoader (pinned, 2 workers)", res["rate"],
                       res.get("busy"), res.get("note", ""))
    report.diagnose("a", "fit: arrays streamed (pinned, 2 slots)", "step alone (resident arrays)",
                    ["fit: arrays streamed (pinned, 2 slots)"])
    if args.device == "cuda":
        report.diagnose("a", "fit: arrays kept on the GPU", "step alone (resident arrays)", [])


def case_csv(ff, args, report, sampler, tmp):
    rng = np.random.default_rng(1)
    features = 32
    path = os.path.join(tmp, "table.csv")
    data = np.concatenate([rng.integers(0, 10, size=(args.csv_rows, 1)),
                           rng.normal(size=(args.csv_rows, features)).round(4)], axis=1)
    names = [f"f{i}" for i in range(features)]
    np.savetxt(path, data, delimiter=",", header=",".join(["label"] + names), comments="",
               fmt=["%d"] + ["%.4f"] * features)

    def dataset():
        return ff.data.experimental.make_csv_dataset(path, batch_size=args.batch,
                                                     label_name="label", num_epochs=1,
                                                     shuffle=False)

    report.add("b", "make_csv_dataset alone (parse + batch)", pipeline_rate(dataset()))
    ff.utils.set_random_seed(0)
    model = mlp(ff, inputs=names)
    xs = {n: data[:, 1 + i:2 + i].astype(np.float32) for i, n in enumerate(names)}
    y = data[:, 0].astype(np.int64)
    consume, _ = fit_rate(ff, model, sampler, args.csv_rows, x=xs, y=y, batch_size=args.batch)
    report.add("b", "step alone (the same columns as arrays)", consume)
    ff.utils.set_random_seed(0)
    model = mlp(ff, inputs=names)
    rows = args.csv_rows - args.csv_rows % args.batch  # make_csv_dataset drops the remainder
    rate, busy = fit_rate(ff, model, sampler, rows, x=dataset())
    report.add("b", "fit: make_csv_dataset", rate, busy)
    report.diagnose("b", "fit: make_csv_dataset", "step alone (the same columns as arrays)",
                    ["make_csv_dataset alone (parse + batch)"])


def write_jpegs(root, count, size=224):
    from PIL import Image
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:size, 0:size]
    for k in range(count):
        cls = os.path.join(root, f"class{k % 10}")
        os.makedirs(cls, exist_ok=True)
        base = np.stack([xx + 7 * k, yy * 0.8 + 3 * k, 255 - (xx + yy) / 2], -1) % 256
        img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(cls, f"{k:05d}.jpg"), quality=90)


def case_images(ff, args, report, sampler, tmp):
    root = os.path.join(tmp, "jpegs")
    t = time.perf_counter()
    write_jpegs(root, args.images)
    print(f"wrote {args.images} JPEGs of 224x224 in {time.perf_counter() - t:.1f}s")
    s = args.input_size
    cores = os.cpu_count() or 1

    def dataset(**kw):
        return ff.utils.image_dataset_from_directory(root, image_size=(s, s),
                                                     batch_size=args.batch, seed=0,
                                                     verbose=False, **kw)

    one = pipeline_rate(dataset(num_parallel_calls=1), max_batches=4)
    report.add("c", "decode + resize, 1 worker", one, note=f"{one:,.0f} images/s per core")
    every = pipeline_rate(dataset())
    report.add("c", f"decode + resize, {cores} workers", every,
               note=f"{every / cores:,.0f} images/s per core")
    feed_stages = [f"decode + resize, {cores} workers"]
    gpu_decode = False
    if args.device == "cuda":
        try:
            rate = pipeline_rate(dataset(decode_device="gpu"))
            report.add("c", "nvJPEG decode + CPU resize", rate)
            gpu_decode = True
        except ValueError as e:
            print(f"decode_device='gpu' not measured: {e}")
    ff.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        from forgeflow.examples.resnet import resnet18_cifar

        def model():
            ff.utils.set_random_seed(0)
            m = resnet18_cifar(input_shape=(s, s, 3), classes=10)
            m.compile(optimizer=ff.optimizers.Adam(1e-3),
                      loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
            return m

        rng = np.random.default_rng(3)
        n = args.images
        x = rng.uniform(0, 255, size=(n, s, s, 3)).astype(np.float32)
        y = rng.integers(0, 10, size=n).astype(np.int64)
        consume, _ = fit_rate(ff, model(), sampler, n, x=x, y=y, batch_size=args.batch)
        report.add("c", "step alone (images already on the GPU)", consume)
        rate, busy = fit_rate(ff, model(), sampler, n, x=dataset())
        report.add("c", "fit: JPEG folder (CPU decode)", rate, busy)
        report.diagnose("c", "fit: JPEG folder (CPU decode)",
                        "step alone (images already on the GPU)", feed_stages)
        if gpu_decode:
            rate, busy = fit_rate(ff, model(), sampler, n, x=dataset(decode_device="gpu"))
            report.add("c", "fit: JPEG folder (nvJPEG decode)", rate, busy)
            report.diagnose("c", "fit: JPEG folder (nvJPEG decode)",
                            "step alone (images already on the GPU)",
                            ["nvJPEG decode + CPU resize"])
    finally:
        ff.mixed_precision.set_global_policy(None)
    if args.peers:
        res = peer(args, "torch-images", ["--root", root, "--input-size", str(s),
                                          "--batch", str(args.batch)])
        if res:
            report.add("c", f"peer: torchvision ImageFolder + DataLoader ({cores} workers)",
                       res["rate"], res.get("busy"), res.get("note", ""))


# ---------------------------------------------------------------------------------- peers
def torch_peer(args):
    """One PyTorch figure as a JSON line: samples/s and GPU busy of the second epoch."""
    import torch
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("PyTorch sees no GPU")
    dev = torch.device("cuda" if args.device == "cuda" else "cpu")
    sampler = BusySampler() if args.device == "cuda" else None
    cores = os.cpu_count() or 1
    if args.peer == "torch-mlp":
        rng = np.random.default_rng(0)
        x = torch.from_numpy(rng.normal(size=(args.samples, 784)).astype(np.float32))
        y = torch.from_numpy(rng.integers(0, 10, size=args.samples).astype(np.int64))
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y),
                                             batch_size=args.batch, shuffle=True,
                                             pin_memory=dev.type == "cuda", num_workers=2,
                                             persistent_workers=True)
        model = torch.nn.Sequential(torch.nn.Linear(784, 2048), torch.nn.ReLU(),
                                    torch.nn.Linear(2048, 2048), torch.nn.ReLU(),
                                    torch.nn.Linear(2048, 10)).to(dev)
        autocast = None
        n = args.samples
        note = "TensorDataset"
    else:
        import torchvision
        from torchvision import transforms
        tf = transforms.Compose([transforms.Resize((args.input_size, args.input_size)),
                                 transforms.PILToTensor()])
        data = torchvision.datasets.ImageFolder(args.root, transform=tf)
        loader = torch.utils.data.DataLoader(data, batch_size=args.batch, shuffle=True,
                                             pin_memory=dev.type == "cuda", num_workers=cores,
                                             persistent_workers=True)
        model = torchvision.models.resnet18(num_classes=10).to(dev)
        model = model.to(memory_format=torch.channels_last)
        autocast = torch.bfloat16
        n = len(data)
        note = "PIL decode, ImageNet-form ResNet-18, bf16 autocast"
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = busy = None
    for epoch in range(2):
        if epoch == 1 and sampler is not None:
            sampler.start()
        t = time.perf_counter()
        for xb, yb in loader:
            xb = xb.to(dev, non_blocking=True)
            yb = yb.to(dev, non_blocking=True)
            if autocast is not None:
                xb = xb.float().contiguous(memory_format=torch.channels_last)
                with torch.autocast(dev.type, dtype=autocast):
                    loss = loss_fn(model(xb), yb)
            else:
                loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t
        if epoch == 1 and sampler is not None:
            busy = sampler.stop()
    print(json.dumps({"rate": n / seconds, "busy": busy, "note": note}))


# ---------------------------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                   help="cuda: measure the GPU (exit 2 when forgeflow has none); cpu: a smoke "
                        "run with tiny sizes (no figures worth reporting)")
    p.add_argument("--samples", type=int, help="rows of the NumPy arrays (a); default 100000")
    p.add_argument("--csv-rows", type=int, help="rows of the CSV (b); default 100000")
    p.add_argument("--images", type=int, help="JPEG files (c); default 2048")
    p.add_argument("--input-size", type=int, help="the ResNet's input side (c); default 64")
    p.add_argument("--batch", type=int, help="batch size; default 256")
    p.add_argument("--cases", default="a,b,c", help="which cases to run: a, b, c")
    p.add_argument("--no-peers", dest="peers", action="store_false",
                   help="skip the PyTorch peers")
    p.add_argument("--torch-python", help="the Python that has PyTorch (default: this one)")
    p.add_argument("--peer-timeout", type=int, default=120)
    p.add_argument("--peer", choices=("torch-mlp", "torch-images"), help=argparse.SUPPRESS)
    p.add_argument("--root", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    smoke = args.device == "cpu"
    defaults = dict(samples=(2048, 100000), csv_rows=(2048, 100000), images=(64, 2048),
                    input_size=(16, 64), batch=(64, 256))
    for name, (small, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if smoke else full)
    if args.peer:
        torch_peer(args)
        return 0
    cases = set(args.cases.split(","))
    if not cases <= {"a", "b", "c"}:
        p.error(f"--cases takes a comma-separated subset of a,b,c; received {args.cases!r}")

    os.environ["FORGEFLOW_DEVICE"] = args.device
    # The benchmark's random images are 0..255 on purpose (the JPEG folder's values).
    warnings.filterwarnings("ignore", message="The inputs look unnormalised")
    warnings.filterwarnings("ignore", message="Mixed precision .* on the CPU backend")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import forgeflow as ff
    from _common import machine_line
    if args.device == "cuda":
        from _cuda_common import require_forgeflow_gpu
        if require_forgeflow_gpu("bench_gpu_feed.py"):
            return 2
    print(machine_line())
    if smoke:
        print("smoke run on the CPU (--device cpu): tiny sizes, no GPU figures; nothing here is a "
              "measurement")
        args.peers = False
    sampler = BusySampler() if args.device == "cuda" else None
    if sampler is not None and not sampler.available:
        print(f"GPU busy share not measured: {sampler.why}")
    if sampler is None:
        class _Off:  # the CPU: no busy figures
            def start(self):
                pass

            def stop(self):
                return None
        sampler = _Off()
    report = Report()
    tmp = tempfile.mkdtemp(prefix="ff_gpu_feed_")
    try:
        if "a" in cases:
            case_arrays(ff, args, report, sampler)
        if "b" in cases:
            case_csv(ff, args, report, sampler, tmp)
        if "c" in cases:
            case_images(ff, args, report, sampler, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    fits = [r for r in report.rows if r[1].startswith("fit:")]
    print("summary: " + "; ".join(
        f"{r[0]} {r[1][5:]} {r[2]:,.0f}/s busy " + ("n/a" if r[3] is None else f"{100 * r[3]:.0f}%")
        for r in fits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
